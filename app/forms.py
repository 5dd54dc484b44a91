"""The base of every form: CSRF (Flask-WTF), Japanese built-in messages, no control characters."""
from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import PasswordField, TextAreaField
from wtforms.fields.choices import SelectChoice

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
