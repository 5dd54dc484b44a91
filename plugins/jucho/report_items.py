"""The content of a 重要事項調査報告書 as data: the sections of 標準管理委託契約書 別表第5 (groups 1–12) with their
items formatted for print. A pure function of the building, its association, profile, 大規模修繕 rows and the
unit: no query of its own beyond reading those objects' attributes, nothing written.

Every item has a stable ``key`` (``parking.spaces``, ``unit.arrears.management`` …) so a report can replace a single
item for itself (an override) without knowing the layout. Unknown values print as 「—」. The seller's arrears are
personal: without the seller's consent (``include_personal=False``) their items say so instead of the amounts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from . import formatting as fmt
from .models import MANAGEMENT_FORMS
from .models_profile import (
    CARETAKER_FORMS,
    CONSIGNMENTS,
    PERMISSIONS,
    REVISIONS,
    SUCCESSION,
    UNIT_USES,
    YES_NO,
    YES_NO_UNKNOWN,
)
from .models_units import PAYMENT_METHODS

NO_CONSENT = "売主の同意がないため記載しません"
PERSONAL_KEYS = ("unit.arrears.management", "unit.arrears.reserve", "unit.arrears.usage", "unit.late_charge")


@dataclass(frozen=True)
class Item:
    """One line of the report: a stable key, the label printed on the left and the value printed on the right."""

    key: str
    label: str
    value_text: str


@dataclass(frozen=True)
class Section:
    """One 別表第5 group: its title and items in print order."""

    title: str
    items: list[Item]


class _Empty:
    """Stands in for a missing profile or unit: every attribute is None."""

    def __getattr__(self, name):
        return None

    def arrears(self, name):
        """No amount."""
        return None


def _choice(options: dict, value, detail: str | None = None) -> str:
    return fmt.with_detail(fmt.label(options, value), detail)


def _with_note(options: dict, value, note) -> str:
    main = fmt.label(options, value)
    if note and note.strip():
        return f"{main}（{note.strip()}）" if main != fmt.UNKNOWN else note.strip()
    return main


def _dated(options: dict, value, day: date | None, verb: str) -> str:
    """「有（2019年3月15日実施）」; the date only with 「有」."""
    detail = f"{fmt.day(day)}{verb}" if day is not None and value == "yes" else None
    return _choice(options, value, detail)


def _arrears(amount: int | None) -> str:
    if amount is None:
        return fmt.UNKNOWN
    return "なし" if amount == 0 else fmt.yen(amount)


def _late_charge(amount: int | None) -> str:
    if amount is None:
        return fmt.UNKNOWN
    return "無" if amount == 0 else f"有（{fmt.yen(amount)}）"


def _repairs(rows, kind: str) -> str:
    lines = [f"{fmt.year_month(row.year, row.month)} {row.content}" for row in rows if row.kind == kind]
    return "\n".join(lines) if lines else fmt.UNKNOWN


def _plan_period(start, years) -> str:
    if start and years:
        return f"{start}年〜{start + years - 1}年（{years}年間）"
    if years:
        return f"{years}年間"
    return fmt.UNKNOWN


def _seismic_target(profile) -> str:
    target = profile.seismic_target if profile.construction_started_on is not None else None
    if target is None:
        return fmt.UNKNOWN
    started = fmt.day(profile.construction_started_on)
    return f"対象（{started}着工）" if target else f"対象外（{started}着工）"


def _revision(value, note) -> str:
    return _with_note(REVISIONS, value, note)


def _consignment(profile, association) -> str:
    if profile.consignment:
        return fmt.label(CONSIGNMENTS, profile.consignment)
    if association is not None and association.management_form:
        return MANAGEMENT_FORMS.get(association.management_form, fmt.UNKNOWN)
    return fmt.UNKNOWN


def assemble(building, unit, *, include_personal: bool, as_of: date) -> list[Section]:
    """The report's sections 1–12 for a unit of a building as of a day (``unit`` may be None: its items print 「—」)."""
    p = getattr(building, "profile", None) or _Empty()
    u = unit if unit is not None else _Empty()
    association = getattr(building, "association", None)
    repairs = list(getattr(building, "repairs", None) or [])

    def personal(key: str, label: str, text: str) -> Item:
        return Item(key, label, text if include_personal else NO_CONSENT)

    usage = fmt.yen(u.usage_fee)
    if u.usage_fee_detail and usage != fmt.UNKNOWN:
        usage = f"{usage}（{u.usage_fee_detail}）"
    return [
        Section("1. 物件の表示", [
            Item("building.name", "マンションの名称", fmt.text(building.name)),
            Item("building.address", "所在地", fmt.text(building.address)),
            Item("building.total_units", "総戸数", fmt.count(building.total_units, "戸")),
            Item("unit.number", "対象住戸の住戸番号", fmt.text(u.number)),
            Item("unit.area", "専有面積", fmt.area(u.area)),
            Item("building.plan_certified", "管理計画認定の有無", _dated(YES_NO, p.plan_certified, p.plan_certified_on, "認定")),
        ]),
        Section("2. 管理体制", [
            Item("governance.association", "管理組合の名称", fmt.text(association.name if association else None)),
            Item("governance.officers", "役員数", fmt.count(p.officers_count, "名")),
            Item("governance.officer_selection", "役員の選任方法", fmt.text(p.officer_selection)),
            Item("governance.general_meeting_month", "通常総会の開催月", fmt.month(p.general_meeting_month)),
            Item("governance.fiscal_month", "決算月", fmt.month(p.fiscal_month)),
            Item("governance.insurance_type", "共用部分の損害保険（種類）", fmt.text(p.insurance_type)),
            Item("governance.insurance_company", "共用部分の損害保険（保険会社）", fmt.text(p.insurance_company)),
            Item("governance.rules", "使用細則等の規程名", fmt.text(p.rules_names)),
        ]),
        Section("3. 共用部分に関する規約等の定め", [
            Item("parking.spaces", "駐車場 区画数", fmt.count(p.parking_spaces, "台")),
            Item("parking.vacant", "駐車場 空き区画", fmt.count(p.parking_vacant, "台")),
            Item("parking.fee", "駐車場 使用料（月額）",
                 fmt.with_detail(fmt.yen_range(p.parking_fee_min, p.parking_fee_max), fmt.text(p.parking_fee_note))),
            Item("parking.succession", "駐車場 使用者の承継", fmt.label(SUCCESSION, p.parking_succession)),
            Item("bicycle.spaces", "駐輪場 区画数", fmt.count(p.bicycle_spaces, "台")),
            Item("bicycle.fee", "駐輪場 使用料（月額）", fmt.yen(p.bicycle_fee)),
            Item("motorcycle.spaces", "バイク置場 区画数", fmt.count(p.motorcycle_spaces, "台")),
            Item("motorcycle.fee", "バイク置場 使用料（月額）", fmt.yen(p.motorcycle_fee)),
            Item("storage.spaces", "トランクルーム 区画数", fmt.count(p.storage_spaces, "区画")),
            Item("storage.fee", "トランクルーム 使用料（月額）", fmt.yen(p.storage_fee)),
            Item("exclusive.balcony", "専用使用権 バルコニー", fmt.text(p.balcony_use)),
            Item("exclusive.garden", "専用使用権 専用庭", fmt.text(p.garden_use)),
        ]),
        Section("4. 売却予定住戸の費用負担", [
            Item("unit.management_fee", "管理費（月額）", fmt.yen(u.management_fee)),
            Item("unit.repair_reserve", "修繕積立金（月額）", fmt.yen(u.repair_reserve)),
            Item("unit.repair_lump_sum", "修繕一時金", fmt.yen(u.repair_lump_sum)),
            Item("unit.usage_fee", "使用料（駐車場等・月額）", usage),
            Item("unit.community_fee", "組合費・町内会費（月額）", fmt.yen(u.community_fee)),
            personal("unit.arrears.management", "滞納額（管理費）", _arrears(u.arrears("arrears_management"))),
            personal("unit.arrears.reserve", "滞納額（修繕積立金）", _arrears(u.arrears("arrears_reserve"))),
            personal("unit.arrears.usage", "滞納額（使用料）", _arrears(u.arrears("arrears_usage"))),
            personal("unit.late_charge", "遅延損害金の有無", _late_charge(u.arrears("late_charge"))),
            Item("unit.payment_method", "支払方法", fmt.label(PAYMENT_METHODS, u.payment_method)),
            Item("unit.fee_revision", "管理費の改定予定", _revision(p.fee_revision, p.fee_revision_note)),
            Item("unit.reserve_revision", "修繕積立金の改定予定", _revision(p.reserve_revision, p.reserve_revision_note)),
        ]),
        Section("5. 管理組合の収支", [
            Item("finance.as_of", "直近の決算（基準日）", fmt.day(p.finance_as_of)),
            Item("finance.management_income", "管理費会計 収入", fmt.yen(p.management_income)),
            Item("finance.management_expense", "管理費会計 支出", fmt.yen(p.management_expense)),
            Item("finance.management_carryover", "管理費会計 次期繰越", fmt.yen(p.management_carryover)),
            Item("finance.reserve_income", "修繕積立金会計 収入", fmt.yen(p.reserve_income)),
            Item("finance.reserve_expense", "修繕積立金会計 支出", fmt.yen(p.reserve_expense)),
            Item("finance.reserve_carryover", "修繕積立金会計 次期繰越", fmt.yen(p.reserve_carryover)),
            Item("finance.reserve_balance", "修繕積立金の残高", fmt.yen(p.reserve_balance)),
            Item("finance.loan_balance", "借入金の残高", fmt.yen(p.loan_balance)),
            Item("finance.arrears_total", "管理費等の滞納の総額", fmt.yen(p.arrears_total)),
            Item("finance.fee_revision", "管理費の改定予定", _revision(p.fee_revision, p.fee_revision_note)),
            Item("finance.reserve_revision", "修繕積立金の改定予定", _revision(p.reserve_revision, p.reserve_revision_note)),
        ]),
        Section("6. 専有部分の使用規制", [
            Item("use.purpose", "専有部分の用途", fmt.label(UNIT_USES, p.unit_use)),
            Item("use.minpaku", "住宅宿泊事業（民泊）", fmt.label(PERMISSIONS, p.minpaku)),
            Item("use.pets", "ペットの飼育", _with_note(PERMISSIONS, p.pets, p.pets_note)),
            Item("use.instruments", "楽器の演奏", _with_note(PERMISSIONS, p.instruments, p.instruments_note)),
            Item("use.reform", "フローリング等リフォームの制限", fmt.text(p.reform_limits)),
            Item("use.other", "その他の使用制限", fmt.text(p.other_restrictions)),
        ]),
        Section("7. 大規模修繕", [
            Item("plan.exists", "長期修繕計画の有無", _dated(YES_NO, p.long_term_plan, p.long_term_plan_made_on, "作成")),
            Item("plan.period", "長期修繕計画の計画期間", _plan_period(p.long_term_plan_start_year, p.long_term_plan_years)),
            Item("repairs.done", "大規模修繕の実施履歴", _repairs(repairs, "done")),
            Item("repairs.planned", "大規模修繕の予定", _repairs(repairs, "planned")),
            Item("plan.reserve_revision", "修繕積立金の値上げ予定", _revision(p.reserve_revision, p.reserve_revision_note)),
        ]),
        Section("8. アスベスト使用調査・耐震診断", [
            Item("asbestos.survey", "アスベスト使用調査の有無", _dated(YES_NO_UNKNOWN, p.asbestos_survey,
                                                                   p.asbestos_surveyed_on, "実施")),
            Item("asbestos.result", "アスベスト使用調査の内容", fmt.text(p.asbestos_result)),
            Item("seismic.target", "耐震診断の対象（昭和56年5月31日以前の着工）", _seismic_target(p)),
            Item("seismic.diagnosis", "耐震診断の有無", _dated(YES_NO_UNKNOWN, p.seismic_diagnosis,
                                                           p.seismic_diagnosed_on, "実施")),
            Item("seismic.result", "耐震診断の結果", fmt.text(p.seismic_result)),
        ]),
        Section("9. 建替え等", [
            Item("rebuild.resolution", "建替え決議の有無", fmt.label(YES_NO, p.rebuild_resolution)),
            Item("rebuild.site_sale", "マンション敷地売却決議の有無", fmt.label(YES_NO, p.site_sale_resolution)),
            Item("rebuild.note", "建替え等の補足", fmt.text(p.rebuild_note)),
        ]),
        Section("10. 管理形態", [
            Item("management.company", "管理会社名", fmt.text(p.company_name)),
            Item("management.registration", "マンション管理業者登録番号", fmt.text(p.company_registration)),
            Item("management.address", "主たる事務所の所在地", fmt.text(p.company_address)),
            Item("management.consignment", "委託形態", _consignment(p, association)),
            Item("management.duties", "管理事務の内容", fmt.text(p.management_duties)),
        ]),
        Section("11. 管理員", [
            Item("caretaker.form", "勤務形態", fmt.label(CARETAKER_FORMS, p.caretaker_form)),
            Item("caretaker.hours", "勤務日と勤務時間", fmt.text(p.caretaker_hours)),
            Item("caretaker.contact", "管理事務室の連絡先", fmt.text(p.office_contact)),
        ]),
        Section("12. 備考", [
            Item("remarks.text", "備考", fmt.text(p.remarks)),
            Item("remarks.as_of", "作成日（記載内容の基準日）", fmt.day(as_of)),
        ]),
    ]
