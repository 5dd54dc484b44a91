"""Forms of the stronger-factor pages."""
from __future__ import annotations

from wtforms import BooleanField, HiddenField, PasswordField, RadioField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length

from app.forms import REQUIRED, KanriForm, choices, strip_filter

from .models import MODE_LABELS


class CodeForm(KanriForm):
    """A six-digit code from the authenticator app."""

    code = StringField("確認コード（6桁）", filters=[strip_filter], validators=[DataRequired(REQUIRED), Length(max=20)])
    submit = SubmitField("確認")


class LoginCodeForm(KanriForm):
    """The login step: a code from the authenticator app or a recovery code."""

    code = StringField("認証アプリの6桁のコード、またはリカバリーコード", filters=[strip_filter],
                       validators=[DataRequired(REQUIRED), Length(max=40)])
    submit = SubmitField("ログイン")


class PasswordConfirmForm(KanriForm):
    """Re-enter the password before removing a factor or issuing new recovery codes."""

    password = PasswordField("現在のパスワード", validators=[DataRequired(REQUIRED), Length(max=1024)])
    confirmed = HiddenField(default="yes")
    submit = SubmitField("実行")


class PasskeyForm(KanriForm):
    """A name for a new passkey plus the browser's registration response (filled in by the page's script)."""

    name = StringField("パスキーの名前（例: 会社のノートPC）", filters=[strip_filter],
                       validators=[DataRequired(REQUIRED), Length(max=64, message="64文字以内で入力してください。")])
    response = HiddenField()
    submit = SubmitField("パスキーを登録")


class PolicyForm(KanriForm):
    """The tenant's factor policy."""

    mode = RadioField("製品の認証要素と強い認証要素の関係", choices=choices(MODE_LABELS),
                      validators=[InputRequired(REQUIRED)])
    admins_required = BooleanField("管理者には強い認証要素を必須にする")
    submit = SubmitField("保存")
