"""The 別表第5 profile of a building as groups of fields: what each group holds, its form, how a value is shown,
and saving one group with the before/after of what changed (for the audit trail)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache

from wtforms import DateField, IntegerField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Optional, ValidationError
from wtforms.widgets import TextInput

from app.forms import KanriForm, NumberRange, choices, max_length, phone, strip_filter
from app.timeutil import jst_today

from . import formatting as fmt
from .models_profile import (
    CARETAKER_FORMS,
    CONSIGNMENTS,
    PERMISSIONS,
    REVISIONS,
    SUCCESSION,
    UNIT_USES,
    YES_NO,
    YES_NO_UNKNOWN,
    JuchoBuildingProfile,
)

MAX_YEN = 100_000_000_000  # 1,000億円: above any association's accounts
MAX_MONTHLY_YEN = 10_000_000


@dataclass(frozen=True)
class Field:
    """One profile item: column name, Japanese label, kind (int, yen, signed_yen, month, year, date, choice, text,
    textarea, phone), its limits and how it is shown."""

    name: str
    label: str
    kind: str
    options: dict | None = None
    low: int = 0
    high: int = 10_000
    unit: str = ""
    length: int = 200
    hint: str | None = None

    def show(self, value) -> str:
        """The value as the detail page and the report print it."""
        if self.kind in ("yen", "signed_yen"):
            return fmt.yen(value)
        if self.kind == "month":
            return fmt.month(value)
        if self.kind == "year":
            return fmt.year_month(value)
        if self.kind == "date":
            return fmt.day(value)
        if self.kind == "choice":
            return fmt.label(self.options, value)
        if self.kind == "int":
            return fmt.count(value, self.unit)
        return fmt.text(value)


@dataclass(frozen=True)
class Group:
    """A section of the building page with its own 編集 screen."""

    code: str
    title: str
    fields: tuple[Field, ...]
    note: str = ""


def _yen(name, label, monthly=False, signed=False, hint=None):
    return Field(name, label, "signed_yen" if signed else "yen", high=MAX_MONTHLY_YEN if monthly else MAX_YEN,
                 hint=hint or "円（カンマ可）")


GROUPS: tuple[Group, ...] = (
    Group("governance", "管理体制", (
        Field("officers_count", "役員数", "int", high=100, unit="名"),
        Field("officer_selection", "役員の選任方法", "text", hint="例: 輪番制、立候補・総会で選任"),
        Field("general_meeting_month", "通常総会の開催月", "month"),
        Field("fiscal_month", "決算月", "month"),
        Field("insurance_type", "共用部分の損害保険（種類）", "text", hint="例: マンション総合保険"),
        Field("insurance_company", "損害保険の保険会社", "text"),
        Field("rules_names", "使用細則等の規程名", "textarea", length=2000, hint="例: 使用細則、駐車場使用細則、ペット飼育細則"),
    )),
    Group("common", "共用部分（駐車場・駐輪場等・専用使用権）", (
        Field("parking_spaces", "駐車場 区画数", "int", unit="台"),
        Field("parking_vacant", "駐車場 空き区画", "int", unit="台"),
        _yen("parking_fee_min", "駐車場 使用料（月額・下限）", monthly=True),
        _yen("parking_fee_max", "駐車場 使用料（月額・上限）", monthly=True, hint="一律の場合は下限と同じ額か空欄"),
        Field("parking_fee_note", "駐車場 使用料の補足", "text", hint="例: 機械式上段 12,000円、平置き 18,000円"),
        Field("parking_succession", "駐車場 使用者の承継", "choice", options=SUCCESSION),
        Field("bicycle_spaces", "駐輪場 区画数", "int", unit="台"),
        _yen("bicycle_fee", "駐輪場 使用料（月額）", monthly=True),
        Field("motorcycle_spaces", "バイク置場 区画数", "int", unit="台"),
        _yen("motorcycle_fee", "バイク置場 使用料（月額）", monthly=True),
        Field("storage_spaces", "トランクルーム 区画数", "int", unit="区画"),
        _yen("storage_fee", "トランクルーム 使用料（月額）", monthly=True),
        Field("balcony_use", "専用使用権 バルコニー", "text", hint="例: 有（使用料なし）"),
        Field("garden_use", "専用使用権 専用庭", "text", hint="例: 1階住戸のみ 月額500円"),
    ), note="空き区画は区画数以下で入力してください。"),
    Group("restrictions", "専有部分の使用制限", (
        Field("unit_use", "専有部分の用途", "choice", options=UNIT_USES),
        Field("minpaku", "住宅宿泊事業（民泊）", "choice", options=PERMISSIONS),
        Field("pets", "ペット飼育", "choice", options=PERMISSIONS),
        Field("pets_note", "ペット飼育の補足", "text", hint="例: 小型犬・猫 1匹まで（ペット飼育細則）"),
        Field("instruments", "楽器演奏", "choice", options=PERMISSIONS),
        Field("instruments_note", "楽器演奏の補足", "text", hint="例: 9時〜20時に限る"),
        Field("reform_limits", "フローリング等リフォームの制限", "textarea", length=1000,
              hint="例: 遮音等級 LL-45 以上、工事は理事会の承認が必要"),
        Field("other_restrictions", "その他の使用制限", "textarea", length=1000),
    )),
    Group("finances", "管理組合の収支・改定予定", (
        Field("finance_as_of", "直近決算の基準日", "date", hint="例: 2026-03-31"),
        _yen("management_income", "管理費会計 収入"),
        _yen("management_expense", "管理費会計 支出"),
        _yen("management_carryover", "管理費会計 次期繰越", signed=True, hint="円（不足はマイナス）"),
        _yen("reserve_income", "修繕積立金会計 収入"),
        _yen("reserve_expense", "修繕積立金会計 支出"),
        _yen("reserve_carryover", "修繕積立金会計 次期繰越", signed=True, hint="円（不足はマイナス）"),
        _yen("reserve_balance", "修繕積立金の残高"),
        _yen("loan_balance", "借入金の残高"),
        _yen("arrears_total", "管理費等の滞納の総額"),
        Field("fee_revision", "管理費の改定予定", "choice", options=REVISIONS),
        Field("fee_revision_note", "管理費の改定の内容", "text", hint="例: 2027年4月から月額1,000円増額"),
        Field("reserve_revision", "修繕積立金の改定予定", "choice", options=REVISIONS),
        Field("reserve_revision_note", "修繕積立金の改定の内容", "text"),
    )),
    Group("plan", "長期修繕計画", (
        Field("long_term_plan", "長期修繕計画の有無", "choice", options=YES_NO),
        Field("long_term_plan_made_on", "長期修繕計画の作成日", "date"),
        Field("long_term_plan_start_year", "計画期間の開始年", "year", low=1950, high=2200, unit="年"),
        Field("long_term_plan_years", "計画期間（年数）", "int", low=1, high=100, unit="年"),
    ), note="大規模修繕の実施履歴と予定は、この画面の下の一覧で1件ずつ登録します。"),
    Group("surveys", "アスベスト使用調査・耐震診断", (
        Field("asbestos_survey", "アスベスト使用調査の有無", "choice", options=YES_NO_UNKNOWN),
        Field("asbestos_surveyed_on", "アスベスト使用調査の実施日", "date"),
        Field("asbestos_result", "アスベスト使用調査の結果", "text", length=500),
        Field("construction_started_on", "着工日", "date", hint="昭和56年（1981年）5月31日以前の着工は耐震診断の対象です"),
        Field("seismic_diagnosis", "耐震診断の有無", "choice", options=YES_NO_UNKNOWN),
        Field("seismic_diagnosed_on", "耐震診断の実施日", "date"),
        Field("seismic_result", "耐震診断の結果", "text", length=500),
    )),
    Group("rebuild", "建替え等", (
        Field("rebuild_resolution", "建替え決議の有無", "choice", options=YES_NO),
        Field("site_sale_resolution", "マンション敷地売却決議の有無", "choice", options=YES_NO),
        Field("rebuild_note", "建替え等の補足", "text", length=500),
    )),
    Group("management", "管理形態", (
        Field("company_name", "管理会社名", "text"),
        Field("company_registration", "マンション管理業者登録番号", "text", length=100, hint="例: 国土交通大臣(5)第012345号"),
        Field("company_address", "主たる事務所の所在地", "text", length=300),
        Field("consignment", "委託形態", "choice", options=CONSIGNMENTS),
        Field("management_duties", "管理事務の内容", "textarea", length=2000,
              hint="例: 事務管理業務、管理員業務、清掃業務、建物・設備管理業務"),
    )),
    Group("caretaker", "管理員", (
        Field("caretaker_form", "管理員の勤務形態", "choice", options=CARETAKER_FORMS),
        Field("caretaker_hours", "勤務日と勤務時間", "text", hint="例: 月〜金 9:00〜17:00（祝日休み）"),
        Field("office_contact", "管理事務室の連絡先", "phone", length=20),
    )),
    Group("other", "管理計画認定・備考", (
        Field("plan_certified", "管理計画認定の有無", "choice", options=YES_NO),
        Field("plan_certified_on", "管理計画の認定日", "date"),
        Field("remarks", "備考", "textarea", length=2000),
    )),
)
GROUPS_BY_CODE = {group.code: group for group in GROUPS}
FIELDS = {field.name: field for group in GROUPS for field in group.fields}
# A date that makes sense only when its answer is 「有」: (date field, choice field).
DATES_NEED_YES = (("asbestos_surveyed_on", "asbestos_survey"), ("seismic_diagnosed_on", "seismic_diagnosis"),
                  ("plan_certified_on", "plan_certified"), ("long_term_plan_made_on", "long_term_plan"))


def group_or_none(code: str) -> Group | None:
    """The group with this code, or None."""
    return GROUPS_BY_CODE.get(code)


# --- form ------------------------------------------------------------------------------------------

_YEN_JUNK = re.compile(r"[,，円\s]")


class YenField(IntegerField):
    """Whole yen as typed in Japan: 「15,000」「１５，０００円」 are 15000 (a text box, so commas can be typed)."""

    widget = TextInput()

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        """Read the typed amount without commas, 円 and width differences."""
        if valuelist:
            valuelist = [_YEN_JUNK.sub("", unicodedata.normalize("NFKC", valuelist[0] or ""))]
        super().process_formdata(valuelist)


def plausible_date(form, field) -> None:
    """Dates from 1900 to five years from now."""
    if field.data and not (date(1900, 1, 1) <= field.data <= date(jst_today().year + 5, 12, 31)):
        raise ValidationError("1900年から5年後までの日付を入力してください。")


def _range(low: int, high: int, unit: str) -> NumberRange:
    return NumberRange(min=low, max=high, message=f"{low:,}〜{high:,}{unit}の範囲で入力してください。")


def _form_field(spec: Field):
    optional = Optional()
    if spec.kind == "int":
        return IntegerField(spec.label, validators=[optional, _range(spec.low, spec.high, spec.unit)])
    if spec.kind == "year":
        return IntegerField(spec.label, validators=[optional, _range(spec.low, spec.high, "年")])
    if spec.kind == "month":
        return IntegerField(spec.label, validators=[optional, NumberRange(1, 12, "1〜12の月を入力してください。")])
    if spec.kind == "yen":
        return YenField(spec.label, validators=[optional, NumberRange(0, spec.high, "0円以上の金額を入力してください（"
                                                                     f"上限 {spec.high:,}円）。")])
    if spec.kind == "signed_yen":
        return YenField(spec.label, validators=[optional, _range(-spec.high, spec.high, "円")])
    if spec.kind == "date":
        return DateField(spec.label, validators=[optional, plausible_date])
    if spec.kind == "choice":
        return SelectField(spec.label, choices=choices({"": "（未入力）", **spec.options}), default="")
    if spec.kind == "phone":
        return StringField(spec.label, filters=[strip_filter], validators=[max_length(spec.length), phone()])
    field_class = TextAreaField if spec.kind == "textarea" else StringField
    return field_class(spec.label, filters=[strip_filter], validators=[max_length(spec.length)])


class ProfileForm(KanriForm):
    """The base of every group's form: the group's fields plus the checks across fields."""

    submit = SubmitField("保存")

    def validate(self, extra_validators=None) -> bool:
        """Field checks, then: 空き ≤ 区画数, 下限 ≤ 上限, a date only with 「有」."""
        valid = super().validate(extra_validators)
        names = {field.name for field in self}

        def fail(name: str, message: str) -> None:
            nonlocal valid
            getattr(self, name).errors = [*getattr(self, name).errors, message]
            valid = False

        if {"parking_spaces", "parking_vacant"} <= names:
            spaces, vacant = self.parking_spaces.data, self.parking_vacant.data
            if vacant is not None and spaces is not None and vacant > spaces:
                fail("parking_vacant", "空き区画は区画数以下にしてください。")
            if vacant is not None and spaces is None:
                fail("parking_spaces", "空き区画を入力する場合は区画数も入力してください。")
        if {"parking_fee_min", "parking_fee_max"} <= names:
            low, high = self.parking_fee_min.data, self.parking_fee_max.data
            if low is not None and high is not None and low > high:
                fail("parking_fee_max", "上限は下限以上の金額にしてください。")
        for date_name, choice_name in DATES_NEED_YES:
            if {date_name, choice_name} <= names and getattr(self, date_name).data and \
                    getattr(self, choice_name).data not in ("yes",):
                fail(choice_name, f"{FIELDS[date_name].label}を入力する場合は「有」を選択してください。")
        return valid


@cache
def form_class(code: str) -> type[ProfileForm]:
    """The form class of one group (built once from the group's fields)."""
    group = GROUPS_BY_CODE[code]
    attrs = {spec.name: _form_field(spec) for spec in group.fields}
    return type(f"ProfileForm_{code}", (ProfileForm,), attrs)


# --- saving and showing -----------------------------------------------------------------------------

def _stored(spec: Field, value):
    if spec.kind in ("text", "textarea", "phone", "choice"):
        return value or None
    return value


def apply(group: Group, form: ProfileForm, profile: JuchoBuildingProfile) -> tuple[dict, dict]:
    """Copy the group's typed values onto the profile; return (before, after) of the changed items, keyed by
    their Japanese labels and shown as on the screen (nothing here is encrypted or personal)."""
    before, after = {}, {}
    for spec in group.fields:
        old, new = getattr(profile, spec.name), _stored(spec, getattr(form, spec.name).data)
        if old != new:
            before[spec.label], after[spec.label] = spec.show(old), spec.show(new)
            setattr(profile, spec.name, new)
    return before, after


def rows(group: Group, profile: JuchoBuildingProfile | None) -> list[tuple[str, str]]:
    """(label, shown value) of every item of a group, 「—」 for what is unknown."""
    return [(spec.label, spec.show(getattr(profile, spec.name) if profile is not None else None))
            for spec in group.fields]
