"""重調@CITY's forms (管理組合, 物件, 社員, login code, password reset), with Japanese messages for every bad input."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    ValidationError,
)

from app.address import POSTCODE_INPUT, postal_code, prefecture_choices
from app.forms import (
    REQUIRED,
    KanriForm,
    NumberRange,
    choices,
    email_address,
    katakana,
    max_length,
    normalize_kana,
    phone,
    strip_filter,
)
from app.forms import (
    login_id as login_id_format,
)
from app.models import ROLE_ADMIN, ROLE_GENERAL, ROLE_LABELS
from app.timeutil import jst_today

from .models import FEE_BASES, MANAGEMENT_FORMS, STRUCTURES

MAX_AMOUNT = Decimal("10000000")
ROLE_CHOICES = choices([(ROLE_GENERAL, ROLE_LABELS[ROLE_GENERAL]), (ROLE_ADMIN, ROLE_LABELS[ROLE_ADMIN])])


# 重調@CITY's wording, pinned by its screens and tests.
PHONE_MESSAGE = "電話番号は半角数字とハイフンで入力してください（例: 03-1234-5678）。"
LOGIN_ID_MESSAGE = "ログインIDは半角英数字と . _ @ - で3〜64文字にしてください（先頭は英数字）。"


def money(form, field) -> None:
    """A finite amount from 0 to 10,000,000 with at most two decimals."""
    value = field.data
    if value is None:
        return
    if not value.is_finite() or value.as_tuple().exponent < -2:
        raise ValidationError("金額は半角数字で、小数は2桁までで入力してください。")
    if value < 0:
        raise ValidationError("0以上の金額を入力してください。")
    if value > MAX_AMOUNT:
        raise ValidationError("金額が大きすぎます（1,000万円以下）。")


def not_in_future(form, field) -> None:
    """Completion dates lie between 1900 and five years from now."""
    if field.data and not (date(1900, 1, 1) <= field.data <= date(jst_today().year + 5, 12, 31)):
        raise ValidationError("1900年から5年後までの日付を入力してください。")


def _range(low: int, high: int, unit: str = "") -> NumberRange:
    return NumberRange(min=low, max=high, message=f"{low:,}〜{high:,}{unit}の範囲で入力してください。")


class AssociationForm(KanriForm):
    """管理組合登録."""

    name = StringField("管理組合名", filters=[strip_filter], validators=[DataRequired(REQUIRED), max_length(200)])
    kana = StringField("フリガナ", filters=[normalize_kana], validators=[max_length(200), katakana()])
    management_form = SelectField("管理形態", choices=choices(MANAGEMENT_FORMS), default="full")
    contact_person = StringField("管理会社担当者", filters=[strip_filter], validators=[max_length(100)])
    contact_phone = StringField("担当者電話番号", filters=[strip_filter],
                                validators=[max_length(20), phone(message=PHONE_MESSAGE)])
    contact_email = StringField("担当者メールアドレス", filters=[strip_filter], validators=[max_length(254), email_address()])
    notes = TextAreaField("備考", filters=[strip_filter], validators=[max_length(2000)])
    submit = SubmitField("保存")


class BuildingForm(KanriForm):
    """物件マスタ登録: the facts a 重要事項調査報告書 draws on."""

    association_id = SelectField("管理組合", coerce=int, validators=[InputRequired("管理組合を選択してください。")])
    name = StringField("物件名", filters=[strip_filter], validators=[DataRequired(REQUIRED), max_length(200)])
    kana = StringField("フリガナ", filters=[normalize_kana], validators=[max_length(200), katakana()])
    postal_code = StringField("郵便番号", filters=[strip_filter], validators=[DataRequired(REQUIRED), postal_code],
                              render_kw=POSTCODE_INPUT)
    prefecture = SelectField("都道府県", choices=choices(prefecture_choices()),
                             validators=[DataRequired("都道府県を選択してください。")], render_kw={"data-address": "prefecture"})
    city = StringField("市区町村", filters=[strip_filter], validators=[DataRequired(REQUIRED), max_length(100)],
                       render_kw={"data-address": "city"})
    address_line = StringField("町域・番地", filters=[strip_filter], validators=[DataRequired(REQUIRED), max_length(300)],
                               render_kw={"data-address": "town"})
    building_name = StringField("建物名", filters=[strip_filter], validators=[max_length(200)])
    structure = SelectField("構造", choices=choices(STRUCTURES), default="RC")
    floors_above = IntegerField("地上階数", validators=[InputRequired(REQUIRED), _range(1, 100, "階")])
    floors_below = IntegerField("地下階数", default=0, validators=[Optional(), _range(0, 20, "階")])
    total_units = IntegerField("総戸数", validators=[InputRequired(REQUIRED), _range(1, 10000, "戸")])
    completion_date = DateField("竣工年月日", validators=[Optional(), not_in_future])
    management_fee_basis = SelectField("管理費の単位", choices=choices(FEE_BASES), default="unit")
    management_fee = DecimalField("管理費（月額・円）", places=2, validators=[InputRequired(REQUIRED), money])
    repair_reserve_basis = SelectField("修繕積立金の単位", choices=choices(FEE_BASES), default="unit")
    repair_reserve = DecimalField("修繕積立金（月額・円）", places=2, validators=[InputRequired(REQUIRED), money])
    parking_fee = IntegerField("駐車場使用料（月額・円）", validators=[Optional(), _range(0, 10_000_000, "円")])
    other_fees = TextAreaField("その他の使用料", filters=[strip_filter], validators=[max_length(1000)])
    planned_repair_year = IntegerField("大規模修繕の予定年", validators=[Optional(), _range(1900, 2200, "年")])
    planned_repair = TextAreaField("大規模修繕の予定内容", filters=[strip_filter], validators=[max_length(2000)])
    notes = TextAreaField("備考", filters=[strip_filter], validators=[max_length(2000)])
    submit = SubmitField("保存")


class StaffEditForm(KanriForm):
    """氏名・メールアドレス・権限."""

    name = StringField("氏名", filters=[strip_filter],
                       validators=[DataRequired(REQUIRED), max_length(100)])
    email = StringField("メールアドレス", filters=[strip_filter],
                        validators=[DataRequired(REQUIRED), max_length(254),
                                    email_address()])
    role = SelectField("権限", choices=ROLE_CHOICES, default=ROLE_GENERAL)
    submit = SubmitField("保存")


class StaffCreateForm(StaffEditForm):
    """社員登録: 氏名・メールアドレス・ログインID・権限."""

    login_id = StringField("ログインID", filters=[strip_filter],
                           validators=[DataRequired(REQUIRED), login_id_format(message=LOGIN_ID_MESSAGE)])
    submit = SubmitField("登録して仮パスワードをメール送信")


class CodeForm(KanriForm):
    """The six-digit code from the e-mail."""

    code = StringField("認証コード（6桁）", validators=[DataRequired(REQUIRED)])
    submit = SubmitField("確認してログイン")


class ResendForm(KanriForm):
    """Only a CSRF token: ask for a new code."""

    submit = SubmitField("コードを再送")


class ForgotForm(KanriForm):
    """会社コード + ログインID または メールアドレス."""

    company_code = StringField("会社コード", filters=[strip_filter],
                               validators=[DataRequired(REQUIRED), max_length(32)])
    identifier = StringField("ログインID または メールアドレス", filters=[strip_filter],
                             validators=[DataRequired(REQUIRED), max_length(254)])
    submit = SubmitField("再設定用のメールを送る")


class NewPasswordForm(KanriForm):
    """The new password twice."""

    new_password = PasswordField("新しいパスワード", validators=[DataRequired(REQUIRED), Length(max=1024)])
    confirm_password = PasswordField("新しいパスワード（確認）", validators=[
        DataRequired(REQUIRED), EqualTo("new_password", "確認用のパスワードが一致しません。")])
    submit = SubmitField("パスワードを再設定")
