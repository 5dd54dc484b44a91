"""Forms of the login, password-change and session screens."""
from wtforms import HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import REQUIRED, ConfirmForm, KanriForm

__all__ = ["ConfirmForm", "LoginForm", "PasswordChangeForm"]  # ConfirmForm lives in app.forms


class LoginForm(KanriForm):
    """会社コード + ログインID + パスワード."""

    company_code = StringField("会社コード", validators=[DataRequired(REQUIRED), Length(max=32)])
    login_id = StringField("ログインID", validators=[DataRequired(REQUIRED), Length(max=64)])
    password = PasswordField("パスワード", validators=[DataRequired(REQUIRED), Length(max=1024)])
    next = HiddenField()
    submit = SubmitField("ログイン")


class PasswordChangeForm(KanriForm):
    """Current password plus the new one twice."""

    current_password = PasswordField("現在のパスワード", validators=[DataRequired(REQUIRED), Length(max=1024)])
    new_password = PasswordField("新しいパスワード", validators=[DataRequired(REQUIRED), Length(max=1024)])
    confirm_password = PasswordField(
        "新しいパスワード（確認）",
        validators=[DataRequired(REQUIRED), EqualTo("new_password", "確認用のパスワードが一致しません。")],
    )
    submit = SubmitField("パスワードを変更")
