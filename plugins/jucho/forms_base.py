"""Form basics shared by every 重調@CITY form: Japanese messages and safe numeric/date fields."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

REQUIRED = "入力してください。"

_JA = {
    "Not a valid integer value.": "半角数字（整数）で入力してください。",
    "Not a valid decimal value.": "半角数字で入力してください（小数は2桁まで）。",
    "Not a valid date value.": "日付を正しく入力してください（例: 2026-04-01）。",
    "Not a valid choice.": "一覧から選択してください。",
    "Invalid email address.": "メールアドレスの形式が正しくありません。",
    "This field is required.": REQUIRED,
    "Invalid Choice: could not coerce.": "一覧から選択してください。",
    "Invalid choice(s): one or more data inputs could not be coerced.": "一覧から選択してください。",
}


class _JapaneseTranslations:
    """The gettext interface WTForms calls, answering from _JA."""

    def gettext(self, string: str) -> str:
        """Japanese text for one of WTForms' messages (unknown ones pass through)."""
        return _JA.get(string, string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """Plural-aware variant of gettext."""
        message = singular if n == 1 else plural
        return _JA.get(message, message)


class JuchoForm(FlaskForm):
    """A Flask-WTF form (CSRF) whose built-in validation messages are Japanese."""

    class Meta:
        """Per-form WTForms settings."""

        def get_translations(self, form):
            """WTForms' own messages (bad numbers, dates, choices) in Japanese."""
            return _JapaneseTranslations()


def strip_filter(value):
    """Trim surrounding white space of a text input (None stays None)."""
    return value.strip() if isinstance(value, str) else value


def choices(pairs) -> list[SelectChoice]:
    """SelectField options from (value, label) pairs or a {value: label} dict."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    return [SelectChoice(value, label) for value, label in items]
