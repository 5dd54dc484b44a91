"""Forms of the 依頼 screens: the broker's public request form, the staff entry (FAX等), the queue's small forms and
the fee table, with a Japanese message for every bad input."""
from __future__ import annotations

import re
from datetime import date, timedelta

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import (
    REQUIRED,
    KanriForm,
    NumberRange,
    choices,
    email_address,
    max_length,
    phone,
    strip_filter,
)
from app.timeutil import jst_today

from .fees import KINDS, MAX_FEE
from .requests import (
    DELIVERIES,
    MAX_DUE_BUSINESS_DAYS,
    MAX_LINK_DAYS,
    MAX_LINK_DOWNLOADS,
    PAYMENTS,
    PURPOSES,
    normalize_width,
)

UNLISTED = "other"
PREFECTURES = (
    "北海道", "青森県", "岩手県", "宮城県", "秋田県", "山形県", "福島県", "茨城県", "栃木県", "群馬県", "埼玉県", "千葉県",
    "東京都", "神奈川県", "新潟県", "富山県", "石川県", "福井県", "山梨県", "長野県", "岐阜県", "静岡県", "愛知県", "三重県",
    "滋賀県", "京都府", "大阪府", "兵庫県", "奈良県", "和歌山県", "鳥取県", "島根県", "岡山県", "広島県", "山口県", "徳島県",
    "香川県", "愛媛県", "高知県", "福岡県", "佐賀県", "長崎県", "熊本県", "大分県", "宮崎県", "鹿児島県", "沖縄県",
)
# 国土交通大臣（3）第12345号 / 東京都知事（5）第67890号 / 北海道知事石狩（2）第1234号, after NFKC and without spaces.
_LICENSE = re.compile(r"^(国土交通大臣|(?:" + "|".join(PREFECTURES) + r")知事(?:[^\d()（）]{1,4})?)"
                      r"\((\d{1,2})\)第(\d{1,6})号$")
LICENSE_MESSAGE = "宅建業免許番号は「国土交通大臣（3）第12345号」「東京都知事（5）第67890号」の形で入力してください。"
POSTAL_CODE = re.compile(r"^(\d{3})-?(\d{4})$")
CONSENT_HINT = ("売主（区分所有者）の同意がある場合にチェックしてください。同意がない場合、管理費等の滞納額など売主個人に"
                "関する事項は報告書に記載しません。チェックした日時を記録します。")


def license_number(value: str) -> str | None:
    """The licence number in its usual written form (全角括弧), or None when it is not one."""
    text = re.sub(r"\s+", "", normalize_width(value))
    match = _LICENSE.match(text)
    if match is None:
        return None
    authority, renewals, number = match.groups()
    return f"{authority}（{int(renewals)}）第{number}号"


def _license(form, field) -> None:
    if not field.data:
        return
    normalised = license_number(field.data)
    if normalised is None:
        raise ValidationError(LICENSE_MESSAGE)
    field.data = normalised


def _width(value):
    return normalize_width(value) if isinstance(value, str) else value


_DASHES = re.compile(r"[\u2010-\u2015\u2212\u30fc\uff0d]")


def _postal(value):
    """Width normalised, and the dashes people type (−, ー, –) as '-'."""
    return _DASHES.sub("-", normalize_width(value)) if isinstance(value, str) else value


class MultiCheckboxField(SelectMultipleField):
    """Several check boxes for one list of choices."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:
        """Every ticked value must be one of the choices (WTForms' own message names the value, in English)."""
        allowed = {value for value, _label in self.choices or ()}
        if any(value not in allowed for value in self.data or ()):
            raise ValidationError("一覧から選択してください。")


class RequestForm(KanriForm):
    """重要事項調査報告書の依頼 (the broker's public form)."""

    building = SelectField("物件", validators=[DataRequired("物件を選択してください。")])
    building_other = StringField("物件名・所在地（一覧にない場合）", filters=[strip_filter], validators=[max_length(200)])
    unit_number = StringField("住戸番号", filters=[_width], validators=[DataRequired(REQUIRED), max_length(32)])
    broker_company = StringField("仲介業者名（商号）", filters=[strip_filter],
                                 validators=[DataRequired(REQUIRED), max_length(200)])
    license_number = StringField("宅建業免許番号", filters=[strip_filter],
                                 validators=[DataRequired(REQUIRED), max_length(64), _license])
    contact_name = StringField("担当者名", filters=[strip_filter], validators=[DataRequired(REQUIRED), max_length(100)])
    phone = StringField("電話番号", filters=[_width], validators=[DataRequired(REQUIRED), max_length(20), phone()])
    email = StringField("メールアドレス", filters=[strip_filter], validators=[max_length(254), email_address()])
    purpose = RadioField("依頼目的", choices=choices(PURPOSES), validators=[InputRequired("依頼目的を選択してください。")])
    delivery = RadioField("交付方法", choices=choices(DELIVERIES), validators=[InputRequired("交付方法を選択してください。")])
    postal_code = StringField("郵便番号（郵送の場合）", filters=[_postal], validators=[max_length(8)])
    postal_address = StringField("送付先住所（郵送の場合）", filters=[strip_filter], validators=[max_length(300)])
    documents = MultiCheckboxField("追加書類", coerce=int, validate_choice=True)
    express = BooleanField("速達を希望する（郵送の場合）")
    seller_consent = BooleanField("売主の同意を得ています")
    # Honeypot: hidden from people by CSS; a bot that fills every field is answered as if it succeeded.
    website = StringField("ホームページ（入力しないでください）", filters=[strip_filter])
    submit = SubmitField("依頼を送信")

    def validate(self, extra_validators=None) -> bool:
        """The field checks, then what depends on other fields (unlisted building, delivery's address)."""
        valid = super().validate(extra_validators)
        if self.building.data == UNLISTED and not self.building_other.data:
            self.building_other.errors = [*self.building_other.errors, "一覧にない場合は物件名と所在地を入力してください。"]
            valid = False
        if self.delivery.data == "electronic" and not self.email.data and not self.email.errors:
            self.email.errors = [*self.email.errors, "電子で受け取る場合はメールアドレスを入力してください。"]
            valid = False
        if self.delivery.data == "post":
            if not self.postal_code.errors and not POSTAL_CODE.match(self.postal_code.data or ""):
                self.postal_code.errors = [*self.postal_code.errors, "郵便番号を「123-4567」の形で入力してください。"]
                valid = False
            if not self.postal_address.data and not self.postal_address.errors:
                self.postal_address.errors = [*self.postal_address.errors, "郵送の場合は送付先住所を入力してください。"]
                valid = False
        elif self.express.data:
            self.express.errors = [*self.express.errors, "速達は郵送の場合のみ選べます。"]
            valid = False
        return valid

    def postal(self) -> str | None:
        """〒 and address in one line, or None when not sent by post."""
        if self.delivery.data != "post":
            return None
        match = POSTAL_CODE.match(self.postal_code.data)
        return f"〒{match.group(1)}-{match.group(2)} {self.postal_address.data}"


def _not_future(form, field) -> None:
    if field.data and not (jst_today() - timedelta(days=366) <= field.data <= jst_today()):
        raise ValidationError("受付日は今日から1年前までの日付を入力してください。")


class StaffRequestForm(RequestForm):
    """依頼登録 by staff (a request received by FAX or post): the same fields and the 受付日."""

    received_on = DateField("受付日", default=jst_today, validators=[InputRequired("受付日を入力してください。"), _not_future])
    seller_consent = BooleanField("売主の同意書を受け取っています")
    submit = SubmitField("登録")


class StatusForm(KanriForm):
    """The next status (作成中 / 確認待ち)."""

    status = SelectField("状態", validators=[DataRequired(REQUIRED)])
    submit = SubmitField("状態を変更")


class AssignForm(KanriForm):
    """The assignee ('' for nobody)."""

    assignee = SelectField("担当者")
    submit = SubmitField("担当者を設定")


class DueForm(KanriForm):
    """The due date."""

    due_date = DateField("期限", validators=[InputRequired("期限を入力してください。")])
    submit = SubmitField("期限を変更")


class PaymentForm(KanriForm):
    """未請求 / 請求済み / 入金済み."""

    payment_status = SelectField("入金状況", choices=choices(PAYMENTS))
    submit = SubmitField("入金状況を変更")


class CancelForm(KanriForm):
    """The reason of a 取消."""

    reason = TextAreaField("取消の理由", filters=[strip_filter], validators=[DataRequired("取消の理由を入力してください。"),
                                                                       max_length(500)])


class FeeItemForm(KanriForm):
    """One line of the fee table."""

    name = StringField("項目名", filters=[strip_filter], validators=[DataRequired(REQUIRED), max_length(100)])
    kind = SelectField("種類", choices=choices(KINDS), default="document")
    amount = IntegerField("金額（税込・円）", validators=[InputRequired(REQUIRED), NumberRange(
        min=0, max=MAX_FEE, message=f"0〜{MAX_FEE:,}円の範囲で入力してください。")])
    tax_rate = IntegerField("消費税率（%）", default=10, validators=[InputRequired(REQUIRED), NumberRange(
        min=0, max=30, message="0〜30%%の範囲で入力してください。")])
    sort_order = IntegerField("表示順", default=100, validators=[Optional(), NumberRange(
        min=0, max=9999, message="0〜9,999の範囲で入力してください。")])
    active = BooleanField("有効（依頼フォームに表示し、請求する）", default=True)
    submit = SubmitField("保存")


class RequestSettingsForm(KanriForm):
    """The request desk's settings."""

    due_business_days = IntegerField("期限（受付日から何営業日後か）", validators=[InputRequired(REQUIRED), NumberRange(
        min=1, max=MAX_DUE_BUSINESS_DAYS, message=f"1〜{MAX_DUE_BUSINESS_DAYS}営業日の範囲で入力してください。")])
    notify_email = StringField("新しい依頼の通知先メールアドレス（空欄: 管理者全員）", filters=[strip_filter],
                               validators=[max_length(254), email_address()])
    staff_may_issue = BooleanField("一般の社員にも報告書の発行を許可する")
    delivery_valid_days = IntegerField("電子交付リンクの有効日数", validators=[InputRequired(REQUIRED), NumberRange(
        min=1, max=MAX_LINK_DAYS, message=f"1〜{MAX_LINK_DAYS}日の範囲で入力してください。")])
    delivery_max_downloads = IntegerField("電子交付リンクのダウンロード回数の上限", validators=[
        InputRequired(REQUIRED),
        NumberRange(min=1, max=MAX_LINK_DOWNLOADS, message=f"1〜{MAX_LINK_DOWNLOADS}回の範囲で入力してください。")])
    submit = SubmitField("設定を保存")


def month_of(text: str) -> date | None:
    """The first day of a month typed as 2026-11 (or None when it is not one)."""
    match = re.fullmatch(r"(\d{4})-(\d{1,2})", text or "")
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    if not (2000 <= year <= 2200 and 1 <= month <= 12):
        return None
    return date(year, month, 1)
