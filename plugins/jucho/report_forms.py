"""Forms of the 報告書 screens: one item's override, the 特記事項, and 「物件を選び直す」 on the request page."""
from __future__ import annotations

from wtforms import SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired

from app.forms import KanriForm, max_length, strip_filter

from .reports import MAX_NOTES_LENGTH, MAX_OVERRIDE_LENGTH


class OverrideForm(KanriForm):
    """The value printed for one item in this report only."""

    value = TextAreaField("記載内容", filters=[strip_filter], validators=[
        DataRequired("記載内容を入力してください（物件マスタの内容に戻すには「元に戻す」を使ってください）。"),
        max_length(MAX_OVERRIDE_LENGTH)])
    submit = SubmitField("この報告書だけ修正")


class NotesForm(KanriForm):
    """特記事項 (printed under 備考); empty removes them."""

    notes = TextAreaField("特記事項", filters=[strip_filter], validators=[max_length(MAX_NOTES_LENGTH)])
    submit = SubmitField("特記事項を保存")


class BuildingForm(KanriForm):
    """The 物件 of the master a request for a building 「一覧にない」 is about."""

    building = SelectField("物件マスタの物件", validators=[DataRequired("物件を一覧から選択してください。")])
    submit = SubmitField("物件を選び直す")
