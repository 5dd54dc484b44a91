"""MAMA's forms, every message in Japanese and shown next to its field."""
from __future__ import annotations

import re
import unicodedata

from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Optional,
    ValidationError,
)

from app.address import POSTCODE_INPUT, postal_code, prefecture_choices
from app.forms import (
    KanriForm,
    NumberRange,
    choices,
    email_address,
    katakana,
    login_id,
    max_length,
    normalize_kana,
    phone,
)
from app.timeutil import jst_today

REQUIRED = "入力してください。"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,19}$")


def choice_values(options) -> set[str]:
    """The option values of a select, as text."""
    return {str(getattr(option, "value", None) if not isinstance(option, tuple) else option[0])
            for option in options or ()}


def nfkc(value):
    """NFKC-normalise and strip a text value (None stays None)."""
    return unicodedata.normalize("NFKC", value).strip() if isinstance(value, str) else value


class JPIntegerField(IntegerField):
    """An integer field whose parse error is Japanese."""

    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = int(unicodedata.normalize("NFKC", valuelist[0]).strip().replace(",", ""))
        except ValueError as exc:
            self.data = None
            raise ValueError("半角数字で入力してください。") from exc


class JPSelectField(SelectField):
    """A select whose invalid-choice message is Japanese."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        try:
            self.data = self.coerce(valuelist[0])
        except (ValueError, TypeError) as exc:
            self.data = None
            raise ValueError("一覧から選択してください。") from exc

    def pre_validate(self, form):
        if self.process_errors:
            return
        if self.validate_choice and self.choices is not None and str(self.data) not in choice_values(self.choices):
            raise ValidationError("一覧から選択してください。")


class JPSelectMultipleField(SelectMultipleField):
    """A multiple select whose invalid-choice message is Japanese."""

    def process_formdata(self, valuelist):
        try:
            self.data = [self.coerce(value) for value in valuelist]
        except (ValueError, TypeError) as exc:
            self.data = []
            raise ValueError("一覧から選択してください。") from exc

    def pre_validate(self, form):
        values = choice_values(self.choices)
        if any(str(value) not in values for value in self.data or ()):
            raise ValidationError("一覧から選択してください。")


class DeviceCodeForm(KanriForm):
    """The registration code an admin issued."""

    code = StringField("登録コード", filters=[nfkc],
                       validators=[DataRequired(REQUIRED), max_length(40)])
    submit = SubmitField("登録コードで登録")


class DeviceRequestForm(KanriForm):
    """A registration request for this browser, with an optional name."""

    name = StringField("端末の名前（任意）", filters=[nfkc],
                       validators=[Optional(), max_length(100)])
    submit = SubmitField("登録を申請")


class UserFormBase(KanriForm):
    """Fields shared by adding and editing a user."""

    name = StringField("氏名", filters=[nfkc], validators=[DataRequired(REQUIRED), max_length(100)])
    email = StringField("メールアドレス", filters=[nfkc], validators=[
        Optional(), max_length(254), email_address()])
    role = JPSelectField("権限区分", choices=choices([("general", "一般"), ("admin", "管理者")]), default="general")
    permission_set = JPSelectField("メニュー権限", coerce=int, default=0)
    scope_mode = RadioField("参照できる管理組合", choices=choices([("all", "すべての管理組合"),
                                                                 ("selected", "選択した管理組合のみ")]),
                            default=None, validate_choice=False)
    scope_associations = JPSelectMultipleField("選択する管理組合", coerce=int, choices=[])

    def validate_scope_mode(self, field):
        """Only the two modes exist (none sent: the scope is left as it is)."""
        if field.data not in (None, "", "all", "selected"):
            raise ValidationError("どちらかを選択してください。")


class UserCreateForm(UserFormBase):
    """Add a user: login id and an initial password the admin types or generates."""

    login_id = StringField("ログインID", filters=[nfkc], validators=[DataRequired(REQUIRED), login_id()])
    password_mode = RadioField("初期パスワード", choices=choices([("generate", "自動生成する"), ("manual", "入力する")]),
                               default="generate", validate_choice=False)
    password = PasswordField("初期パスワード（入力する場合）",
                             validators=[max_length(128)])
    submit = SubmitField("追加")

    def validate_password_mode(self, field):
        """Only the two modes exist."""
        if field.data not in ("generate", "manual"):
            raise ValidationError("一覧から選択してください。")

    def validate_password(self, field):
        """A typed password is required in manual mode."""
        if self.password_mode.data == "manual" and not field.data:
            raise ValidationError("初期パスワードを入力するか、自動生成を選んでください。")


class UserEditForm(UserFormBase):
    """Edit a user's name, e-mail, role, permission set and status."""

    status = JPSelectField("状態", choices=choices([("active", "有効"), ("suspended", "停止")]), default="active")
    submit = SubmitField("保存")


class PasswordResetForm(KanriForm):
    """Reset a user's password; optionally revoke every device."""

    revoke_devices = BooleanField("このユーザーの登録端末もすべて無効にする")
    submit = SubmitField("パスワードを再発行")


class ResetRequestForm(KanriForm):
    """パスワードのリセット依頼: 会社コード + ログインID."""

    company_code = StringField("会社コード", filters=[nfkc], validators=[DataRequired(REQUIRED), max_length(32)])
    login_id = StringField("ログインID", filters=[nfkc], validators=[DataRequired(REQUIRED), max_length(64)])
    submit = SubmitField("リセットを依頼")


class PermissionSetForm(KanriForm):
    """A named permission set; its levels come from the menu × level grid (閲覧 / 編集 / 削除)."""

    name = StringField("権限セット名", filters=[nfkc], validators=[
        DataRequired(REQUIRED), max_length(100)])
    submit = SubmitField("保存")


class ScopeModeForm(KanriForm):
    """All associations or a chosen set."""

    mode = RadioField("参照できる管理組合", choices=choices([("all", "すべての管理組合"), ("selected", "選択した管理組合のみ")]),
                      validate_choice=False)
    submit = SubmitField("保存")

    def validate_mode(self, field):
        """Only the two modes exist."""
        if field.data not in ("all", "selected"):
            raise ValidationError("どちらかを選択してください。")


def _association_code(form, field):
    if field.data and not _CODE.match(field.data):
        raise ValidationError("組合コードは英数字とハイフンで20文字以内にしてください。")


def _building_year(form, field):
    if field.data is not None and not 1900 <= field.data <= jst_today().year + 5:
        raise ValidationError(f"1900〜{jst_today().year + 5} の西暦で入力してください。")


class AssociationForm(KanriForm):
    """A 管理組合 record."""

    code = StringField("組合コード", filters=[nfkc], validators=[DataRequired(REQUIRED), _association_code])
    name = StringField("管理組合名", filters=[nfkc], validators=[
        DataRequired(REQUIRED), max_length(200)])
    name_kana = StringField("管理組合名（フリガナ）", filters=[normalize_kana], validators=[
        DataRequired(REQUIRED), max_length(200), katakana()])
    postal_code = StringField("郵便番号", filters=[nfkc], validators=[DataRequired(REQUIRED), postal_code],
                              render_kw=POSTCODE_INPUT)
    prefecture = JPSelectField("都道府県", choices=choices(prefecture_choices()),
                               validators=[DataRequired("都道府県を選択してください。")], render_kw={"data-address": "prefecture"})
    city = StringField("市区町村", filters=[nfkc], validators=[
        DataRequired(REQUIRED), max_length(100)], render_kw={"data-address": "city"})
    address_line = StringField("町域・番地", filters=[nfkc], validators=[
        DataRequired(REQUIRED), max_length(200)], render_kw={"data-address": "town"})
    building_name = StringField("建物名", filters=[nfkc], validators=[
        Optional(), max_length(200)])
    units = JPIntegerField("総戸数", validators=[
        InputRequired(REQUIRED), NumberRange(1, 10000, message="1〜10000 の数で入力してください。")])
    building_year = JPIntegerField("竣工年（西暦）", validators=[InputRequired(REQUIRED), _building_year])
    fiscal_start_month = JPSelectField("決算期の開始月", coerce=int, default=4,
                                       choices=choices((m, f"{m}月") for m in range(1, 13)))
    contact_name = StringField("担当者（理事長等）氏名", filters=[nfkc], validators=[
        Optional(), max_length(100)])
    contact_phone = StringField("担当者 電話番号", filters=[nfkc], validators=[Optional(), phone()])
    contact_email = StringField("担当者 メールアドレス", filters=[nfkc], validators=[
        Optional(), max_length(254), email_address()])
    notes = TextAreaField("備考", validators=[Optional(), max_length(2000)])
    submit = SubmitField("保存")

    def validate_prefecture(self, field):
        """A prefecture must be chosen."""
        if not field.data:
            raise ValidationError("都道府県を選択してください。")
