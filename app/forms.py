"""The base of every form: CSRF (Flask-WTF), Japanese built-in messages, no control characters."""
from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email
from flask import abort
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import PasswordField, SubmitField, TextAreaField
from wtforms.fields.choices import Choice, SelectChoice
from wtforms.validators import Length, ValidationError
from wtforms.validators import NumberRange as _WTFormsNumberRange
from wtforms.widgets import Select, html_params

from .accounts import LOGIN_ID_PATTERN
from .kana import KANA_LATIN_MESSAGE, KANA_MESSAGE, kana_error, normalize_kana  # noqa: F401 (re-exported)

REQUIRED = "入力してください。"
CONTROL_CHARACTERS = "使用できない文字（制御文字）が含まれています。"
# NUL and other C0/C1 control characters: PostgreSQL refuses NUL in text, and none belongs in a form.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_LINE_BREAK = re.compile(r"[\r\n\t]")

_JA = {
    "Not a valid integer value.": "半角数字（整数）で入力してください。",
    "Not a valid decimal value.": "半角数字で入力してください（小数は2桁まで）。",
    "Not a valid float value.": "半角数字で入力してください。",
    "Not a valid date value.": "日付を正しく入力してください（例: 2026-04-01）。",
    "Not a valid datetime value.": "日時を正しく入力してください（例: 2026-04-01 09:00）。",
    "Not a valid choice.": "一覧から選択してください。",
    "Invalid email address.": "メールアドレスの形式が正しくありません。",
    "This field is required.": REQUIRED,
    "Invalid Choice: could not coerce.": "一覧から選択してください。",
    "Invalid choice(s): one or more data inputs could not be coerced.": "一覧から選択してください。",
    "The CSRF token is missing.": "フォームの有効期限が切れました。画面を再読み込みしてからお試しください。",
    "The CSRF token has expired.": "フォームの有効期限が切れました。画面を再読み込みしてからお試しください。",
    "The CSRF token is invalid.": "フォームの有効期限が切れました。画面を再読み込みしてからお試しください。",
}


def has_control_characters(value: str, multiline: bool = False) -> bool:
    """True when typed text holds a control character (line breaks and tabs only in multi-line fields)."""
    return bool(_CONTROL.search(value) or (not multiline and _LINE_BREAK.search(value)))


def without_control_characters(value: str) -> str:
    """A query-string value with every control character removed (line breaks become spaces)."""
    return _LINE_BREAK.sub(" ", _CONTROL.sub("", value))


class _JapaneseTranslations:
    """The gettext interface WTForms calls, answering from _JA."""

    def gettext(self, string: str) -> str:
        """Japanese text for one of WTForms' messages (unknown ones pass through)."""
        return _JA.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Plural-aware variant of gettext."""
        message = singular if n == 1 else plural
        return _JA.get(message, message)


class KanriForm(FlaskForm):
    """A Flask-WTF form (CSRF) with Japanese built-in messages that refuses control characters."""

    class Meta:
        """Per-form WTForms settings."""

        def get_translations(self, form):
            """WTForms' own messages (bad numbers, dates, choices) in Japanese."""
            return _JapaneseTranslations()

    def validate(self, extra_validators=None) -> bool:
        """The field validators, then: no control characters in any typed text (passwords excepted)."""
        valid = super().validate(extra_validators)
        for field in self:
            if isinstance(field, PasswordField) or not isinstance(field.data, str) or field.errors:
                continue
            if has_control_characters(field.data, multiline=isinstance(field, TextAreaField)):
                field.errors = [*field.errors, CONTROL_CHARACTERS]
                valid = False
        return valid


def strip_filter(value):
    """Trim surrounding white space of a text input (None stays None)."""
    return value.strip() if isinstance(value, str) else value


def choices(pairs) -> list[SelectChoice]:
    """SelectField options from (value, label) pairs or a {value: label} dict."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]


class ConfirmForm(KanriForm):
    """A form with only a CSRF token and a button (logout, approve, unlock …); destructive actions add the
    confirmation step of ``app.confirm``."""

    submit = SubmitField("実行")


def require_confirm() -> None:
    """Check the CSRF token of a button-only form (``ConfirmForm``); 400 when it is missing or wrong."""
    if not ConfirmForm().validate_on_submit():
        abort(400)


def max_length(n: int) -> Length:
    """A length limit whose message is 「N文字以内で入力してください。」."""
    return Length(max=n, message=f"{n}文字以内で入力してください。")


# --- カタカナ (フリガナ) ---------------------------------------------------------------------
# The normaliser itself lives in app.kana (search uses it too); forms import it from here.


def katakana(message: str = KANA_MESSAGE, latin_message: str = KANA_LATIN_MESSAGE):
    """Validator factory: a フリガナ in full-width katakana (spaces allowed; Latin letters and digits refused
    with their own message).

    Use it with ``filters=[normalize_kana]`` so ｶﾅ and ひらがな are accepted and stored as カナ.
    """

    def _check(form, field) -> None:
        if not field.data:
            return
        error = kana_error(field.data)
        if error is not None:
            raise ValidationError(latin_message if error == KANA_LATIN_MESSAGE else message)

    return _check


# --- 電話番号 ---------------------------------------------------------------------------------

PHONE_MESSAGE = "電話番号は数字とハイフンで入力してください（例: 03-1234-5678）。"
_PHONE_CHARACTERS = re.compile(r"^\+?[0-9()\- ]{1,20}$")


def phone_number_is_valid(text: str) -> bool:
    """True for a Japanese telephone number as people write it: 0 and 9–10 more digits (03-1234-5678,
    090-1234-5678, 0120-123-456), or + and a country code with 10–15 digits in all (+81-3-1234-5678);
    hyphens, brackets and spaces anywhere; at most 20 characters. Full-width input is accepted (NFKC)."""
    text = unicodedata.normalize("NFKC", text).strip()
    if not _PHONE_CHARACTERS.match(text):
        return False
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return 10 <= len(digits) <= 15
    return digits.startswith("0") and 10 <= len(digits) <= 11


def phone(message: str = PHONE_MESSAGE):
    """Validator factory: an optional telephone number (see ``phone_number_is_valid``)."""

    def _check(form, field) -> None:
        if field.data and not phone_number_is_valid(field.data):
            raise ValidationError(message)

    return _check


# --- メールアドレス・ログインID -----------------------------------------------------------------

EMAIL_MESSAGE = "メールアドレスの形式が正しくありません（例: taro@example.co.jp）。"
LOGIN_ID_MESSAGE = "ログインIDは英数字と . _ @ - で3〜64文字にしてください（半角、先頭は英数字）。"


def email_address(message: str = EMAIL_MESSAGE):
    """Validator factory: an e-mail address (when one is given), kept in its normalised form
    (email-validator, no DNS look-up). Add ``DataRequired`` when the address is required."""

    def _check(form, field) -> None:
        if not field.data:
            return
        try:
            field.data = validate_email(field.data, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ValidationError(message) from exc

    return _check


def login_id(message: str = LOGIN_ID_MESSAGE):
    """Validator factory: a login id the core accepts (``app.accounts.LOGIN_ID_PATTERN``)."""

    def _check(form, field) -> None:
        if field.data and not re.match(LOGIN_ID_PATTERN, field.data):
            raise ValidationError(message)

    return _check


class NumberRange(_WTFormsNumberRange):
    """WTForms' NumberRange, except that a number too large for a float is out of range instead of a 500."""

    def __call__(self, form, field):
        try:
            super().__call__(form, field)
        except OverflowError:  # math.isnan() of an int with hundreds of digits
            raise ValidationError(self.message or "範囲外の数値です。") from None


class LongSelect(Select):
    """WTForms' ``<select>`` with the same HTML, each plain option written by one f-string: WTForms builds every
    option through ``html_params`` (and a signature check per render), which made the 操作ログ filter's 136
    操作 most of that page's cost. Grouped, multiple and ``render_kw`` options are left to WTForms."""

    def __call__(self, field, **kwargs):
        choices = None if self.multiple or field.has_groups() else list(field.iter_choices())
        if choices is None or any(not isinstance(c, Choice) or c.render_kw for c in choices):
            return super().__call__(field, **kwargs)
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in self.validation_attrs:  # required / disabled from the validators, as WTForms does
            if name not in kwargs and getattr(flags, name, False):
                kwargs[name] = True
        html = [f"<select {html_params(name=field.name, **kwargs)}>"]
        for choice in choices:
            value = str(choice.value) if isinstance(choice.value, bool) else choice.value
            html.append(f'<option {"selected " if choice.selected else ""}value="{escape(value)}">'
                        f"{escape(choice.label or choice.value)}</option>")
        html.append("</select>")
        return Markup("".join(html))  # noqa: S704  # nosec B704  # every value and label escaped above
