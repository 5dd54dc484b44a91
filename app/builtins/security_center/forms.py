"""Forms of the セキュリティ設定 pages: the password policy and the session policy."""
from __future__ import annotations

from flask import current_app
from wtforms import IntegerField
from wtforms.validators import InputRequired, ValidationError

from app.forms import REQUIRED, KanriForm, NumberRange
from app.passwords import MIN_LENGTH

from .policy import MAX_HISTORY, MAX_MIN_LENGTH, MIN_ABSOLUTE_HOURS, MIN_IDLE_MINUTES


class PasswordPolicyForm(KanriForm):
    """Minimum length (the baseline's 12 or more) and how many past passwords may not come back."""

    min_length = IntegerField("パスワードの最小文字数", validators=[InputRequired(REQUIRED), NumberRange(
        min=MIN_LENGTH, max=MAX_MIN_LENGTH,
        message=f"{MIN_LENGTH}〜{MAX_MIN_LENGTH}の整数で入力してください（{MIN_LENGTH}文字未満にはできません）。")])
    history = IntegerField("過去のパスワードの再使用禁止（回数）", validators=[InputRequired(REQUIRED), NumberRange(
        min=0, max=MAX_HISTORY, message=f"0〜{MAX_HISTORY}の整数で入力してください（0は確認しません）。")])


def _at_most(setting: str, unit: str, floor: int):
    def _check(form, field):
        ceiling = current_app.config[setting]
        if field.data is None:
            return
        if field.data > ceiling:
            raise ValidationError(f"セキュリティ基準の上限（{ceiling}{unit}）より長くはできません。")
        if field.data < floor:
            raise ValidationError(f"{floor}{unit}以上にしてください。")

    return _check


class SessionPolicyForm(KanriForm):
    """Idle and absolute timeouts, no longer than the baseline's."""

    idle_minutes = IntegerField("無操作でログアウトするまで（分）", validators=[
        InputRequired(REQUIRED), _at_most("KANRI_IDLE_TIMEOUT_MINUTES", "分", MIN_IDLE_MINUTES)])
    absolute_hours = IntegerField("ログインの有効時間の上限（時間）", validators=[
        InputRequired(REQUIRED), _at_most("KANRI_ABSOLUTE_TIMEOUT_HOURS", "時間", MIN_ABSOLUTE_HOURS)])
