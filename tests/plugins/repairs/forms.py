"""修繕記録's forms, built on the core toolkit's base form and validators."""
from __future__ import annotations

from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, NumberRange, Optional, Regexp

from app.forms import REQUIRED, KanriForm, katakana, login_id, max_length, normalize_kana, phone, strip_filter

from .models import PIN_LENGTH


class RecordForm(KanriForm):
    """Add or change a repair record."""

    title = StringField("工事名", filters=[strip_filter], validators=[DataRequired(REQUIRED), max_length(200)])
    contractor = StringField("施工業者", filters=[strip_filter], validators=[DataRequired(REQUIRED), max_length(100)])
    contractor_kana = StringField("施工業者フリガナ", filters=[normalize_kana],
                                  validators=[DataRequired(REQUIRED), max_length(100), katakana()])
    contact_name = StringField("業者担当者", filters=[strip_filter], validators=[Optional(), max_length(100)])
    contact_phone = StringField("担当者電話番号", filters=[strip_filter], validators=[Optional(), phone()])
    cost = IntegerField("費用（円）", validators=[Optional(), NumberRange(0, 10**10, "0以上の金額を入力してください。")])


class PinForm(KanriForm):
    """The second factor: the user's 暗証番号."""

    pin = StringField("暗証番号", filters=[strip_filter],
                      validators=[DataRequired(REQUIRED), Regexp(rf"^[0-9]{{{PIN_LENGTH}}}$",
                                                                 message=f"{PIN_LENGTH}桁の数字で入力してください。")])


class IssuePinForm(KanriForm):
    """An admin issues a new 暗証番号 to a user of the tenant."""

    login = StringField("ログインID", filters=[strip_filter], validators=[DataRequired(REQUIRED), login_id()])
