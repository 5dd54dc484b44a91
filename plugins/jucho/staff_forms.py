"""Forms of the 社員 (staff) screens."""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from app.accounts import LOGIN_ID_PATTERN
from app.forms import REQUIRED, KanriForm, choices, strip_filter
from app.models import ROLE_ADMIN, ROLE_GENERAL, ROLE_LABELS

ROLE_CHOICES = choices([(ROLE_GENERAL, ROLE_LABELS[ROLE_GENERAL]), (ROLE_ADMIN, ROLE_LABELS[ROLE_ADMIN])])


def checked_email(form, field) -> None:
    """Validate an address and keep its normalised form."""
    try:
        field.data = validate_email(field.data or "", check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationError("メールアドレスの形式が正しくありません（例: taro@example.co.jp）。") from exc


def checked_login_id(form, field) -> None:
    """Login ids are 3–64 characters of letters, digits and . _ @ -."""
    if not re.match(LOGIN_ID_PATTERN, field.data or ""):
        raise ValidationError("ログインIDは半角英数字と . _ @ - で3〜64文字にしてください（先頭は英数字）。")


class StaffEditForm(KanriForm):
    """氏名・メールアドレス・権限."""

    name = StringField("氏名", filters=[strip_filter],
                       validators=[DataRequired(REQUIRED), Length(max=100, message="100文字以内で入力してください。")])
    email = StringField("メールアドレス", filters=[strip_filter],
                        validators=[DataRequired(REQUIRED), Length(max=254, message="254文字以内で入力してください。"),
                                    checked_email])
    role = SelectField("権限", choices=ROLE_CHOICES, default=ROLE_GENERAL)
    submit = SubmitField("保存")


class StaffCreateForm(StaffEditForm):
    """社員登録: 氏名・メールアドレス・ログインID・権限."""

    login_id = StringField("ログインID", filters=[strip_filter],
                           validators=[DataRequired(REQUIRED), checked_login_id])
    submit = SubmitField("登録して仮パスワードをメール送信")


class ActionForm(KanriForm):
    """Only a CSRF token: 停止, 再開, パスワード再発行."""

    submit = SubmitField("実行")
