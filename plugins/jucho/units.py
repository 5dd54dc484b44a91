"""住戸 rules shared by the screens, the CSV import/export and the demo: the columns, the 住戸番号 normaliser and the
checks of one value (Japanese messages)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa

from app.extensions import db
from app.forms import has_control_characters

from .models_units import PAYMENT_METHODS, JuchoUnit

NUMBER_LENGTH = 20
MAX_MONTHLY = 10_000_000
MAX_AMOUNT = 1_000_000_000
MAX_AREA = Decimal("10000")
_SPACES = re.compile(r"\s+")
_YEN_JUNK = re.compile(r"[,円\s]")


def normalize_number(value) -> str:
    """住戸番号 as stored: NFKC (「１０１」→「101」), no spaces, Latin letters upper case (「a-101」→「A-101」)."""
    if value is None:
        return ""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(value))).upper()


def number_error(number: str) -> str | None:
    """Why a normalised 住戸番号 is refused, or None."""
    if not number:
        return "住戸番号を入力してください。"
    if len(number) > NUMBER_LENGTH:
        return f"住戸番号は{NUMBER_LENGTH}文字以内で入力してください。"
    if has_control_characters(number):
        return "使用できない文字（制御文字）が含まれています。"
    return None


class ValueRefused(ValueError):
    """A cell or field value that cannot be stored; the message is Japanese and shown as is."""


def _clean(text) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def parse_yen(text, maximum: int = MAX_AMOUNT) -> int | None:
    """「15,000」「１５０００円」 → 15000; empty → None; refuses negatives, decimals and letters."""
    raw = _YEN_JUNK.sub("", _clean(text))
    if not raw:
        return None
    if not raw.isdigit():
        raise ValueRefused("金額は0以上の整数（円）で入力してください。")
    value = int(raw)
    if value > maximum:
        raise ValueRefused(f"金額が大きすぎます（{maximum:,}円以下）。")
    return value


def parse_area(text) -> Decimal | None:
    """「72.5」「７２．５０㎡」 → Decimal('72.50'); empty → None; 0 < area ≤ 10,000 with at most 2 decimals."""
    raw = _clean(text).removesuffix("㎡").removesuffix("m2").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:
        raise ValueRefused("専有面積は数字で入力してください（例: 72.50）。") from exc
    if not value.is_finite() or value.as_tuple().exponent < -2:
        raise ValueRefused("専有面積は小数2桁までの数字で入力してください。")
    if not Decimal(0) < value <= MAX_AREA:
        raise ValueRefused("専有面積は0より大きく10,000㎡以下で入力してください。")
    return value.quantize(Decimal("0.01"))


def parse_floor(text) -> int | None:
    """「3」 → 3, 「B1」「-1」 → -1; from -10 to 200."""
    raw = _clean(text).upper().removesuffix("階")
    if not raw:
        return None
    if raw.startswith("B") and raw[1:].isdigit():
        raw = f"-{raw[1:]}"
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueRefused("階は整数で入力してください（地下は -1 または B1）。") from exc
    if not -10 <= value <= 200:
        raise ValueRefused("階は -10〜200 の範囲で入力してください。")
    return value


def parse_text(length: int, normalize: bool = False):
    """A parser of free text up to ``length`` characters (one line); ``normalize`` makes widths one (NFKC)."""

    def _parse(text) -> str:
        value = (_clean(text) if normalize else (text or "").strip())
        if len(value) > length:
            raise ValueRefused(f"{length}文字以内で入力してください。")
        if has_control_characters(value):
            raise ValueRefused("使用できない文字（制御文字）が含まれています。")
        return value

    return _parse


def parse_payment(text) -> str | None:
    """「口座振替」 → 'debit' (the label or the code); empty → None."""
    raw = _clean(text)
    if not raw:
        return None
    for code, label in PAYMENT_METHODS.items():
        if raw in (code, label):
            return code
    raise ValueRefused(f"支払方法は「{'」「'.join(PAYMENT_METHODS.values())}」のいずれかを入力してください。")


def normalize_layout(value):
    """間取り as stored: 「３ＬＤＫ」 → 「3LDK」 (a form filter; None stays None)."""
    return _clean(value) if isinstance(value, str) else value


def _monthly(text):
    return parse_yen(text, MAX_MONTHLY)


@dataclass(frozen=True)
class Column:
    """One 住戸 column of the CSV (import, template and export) and its parser."""

    name: str
    header: str
    parse: object
    personal: bool = False

    def cell(self, unit: JuchoUnit):
        """The value written into the exported CSV."""
        if self.name == "payment_method":
            return unit.payment_method_label
        value = getattr(unit, self.name)
        return "" if value is None else value


COLUMNS: tuple[Column, ...] = (
    Column("number", "住戸番号", normalize_number),
    Column("floor", "階", parse_floor),
    Column("area", "専有面積（㎡）", parse_area),
    Column("layout", "間取り", parse_text(20, normalize=True)),
    Column("management_fee", "管理費（月額・円）", _monthly),
    Column("repair_reserve", "修繕積立金（月額・円）", _monthly),
    Column("repair_lump_sum", "修繕一時金（円）", parse_yen),
    Column("usage_fee", "使用料（月額・円）", _monthly),
    Column("usage_fee_detail", "使用料の内訳", parse_text(200)),
    Column("community_fee", "組合費・町内会費（月額・円）", _monthly),
    Column("payment_method", "支払方法", parse_payment),
    Column("arrears_management", "滞納額 管理費（円）", parse_yen, personal=True),
    Column("arrears_reserve", "滞納額 修繕積立金（円）", parse_yen, personal=True),
    Column("arrears_usage", "滞納額 使用料（円）", parse_yen, personal=True),
    Column("late_charge", "遅延損害金（円）", parse_yen, personal=True),
)
COLUMNS_BY_HEADER = {column.header: column for column in COLUMNS}
LABELS = {column.name: column.header for column in COLUMNS}


def columns_for(include_personal: bool) -> list[Column]:
    """The CSV columns a user may see: the arrears only for 管理者."""
    return [column for column in COLUMNS if include_personal or not column.personal]


def units_by_number(building_id: int) -> dict[str, JuchoUnit]:
    """Every unit of a building by its 住戸番号."""
    rows = db.session.execute(sa.select(JuchoUnit).where(JuchoUnit.building_id == building_id)).scalars()
    return {unit.number: unit for unit in rows}


def number_taken(building_id: int, number: str, exclude_id: int | None = None) -> bool:
    """True when another unit of the building has this 住戸番号."""
    query = sa.select(JuchoUnit.id).where(JuchoUnit.building_id == building_id, JuchoUnit.number == number)
    if exclude_id is not None:
        query = query.where(JuchoUnit.id != exclude_id)
    return db.session.execute(query.limit(1)).first() is not None


def store_personal(value: int | None) -> str | None:
    """An arrears amount as its encrypted column holds it (whole yen as text; None stays NULL)."""
    return None if value is None else str(value)
