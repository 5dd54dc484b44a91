"""The 操作ログ filter form (GET, no CSRF: it only reads)."""
from __future__ import annotations

from datetime import date

from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import Optional, ValidationError

from app.forms import KanriForm, LongSelect, choices, max_length, strip_filter

MIN_DATE, MAX_DATE = date(2000, 1, 1), date(2099, 12, 31)
RESULTS = choices([("", "すべて"), ("success", "成功"), ("failure", "失敗")])


class FilterForm(KanriForm):
    """操作者 (or operators only), 操作, 結果, 対象 (prefix), JST date range and free text."""

    class Meta:
        """A search form: read from the query string, no CSRF token."""

        csrf = False

    user = StringField("操作者（ログインID）", filters=[strip_filter], validators=[Optional(), max_length(64)])
    operators = BooleanField("運用担当者による操作のみ")
    action = SelectField("操作", validate_choice=True, default="", widget=LongSelect())
    result = SelectField("結果", choices=RESULTS, default="")
    target = StringField("対象（前方一致）", filters=[strip_filter], validators=[Optional(), max_length(200)])
    date_from = DateField("開始日", validators=[Optional()], format="%Y-%m-%d")
    date_to = DateField("終了日", validators=[Optional()], format="%Y-%m-%d")
    q = StringField("キーワード", filters=[strip_filter], validators=[Optional(), max_length(100)])

    def validate_date_from(self, field):
        """A plausible date (the UTC bounds of year 1 or 9999 would overflow)."""
        if field.data and not MIN_DATE <= field.data <= MAX_DATE:
            raise ValidationError("2000年から2099年までの日付を入力してください。")

    def validate_date_to(self, field):
        """終了日 must not come before 開始日."""
        self.validate_date_from(field)
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("終了日は開始日以降の日付を入力してください。")
