"""CSV export of associations: UTF-8 with BOM and CRLF (opens in Excel), streamed in batches."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from app.extensions import db
from app.timeutil import format_jst

from .models import Association

BATCH = 500
COLUMNS = (
    ("組合コード", "code"), ("管理組合名", "name"), ("フリガナ", "name_kana"), ("郵便番号", "postal_code"),
    ("都道府県", "prefecture"), ("市区町村", "city"), ("町名・番地", "address_line"), ("建物名", "building_name"),
    ("総戸数", "units"), ("竣工年", "building_year"), ("決算期開始月", "fiscal_start_month"),
    ("担当者氏名", "contact_name"), ("担当者電話番号", "contact_phone"), ("担当者メールアドレス", "contact_email"),
    ("備考", "notes"), ("更新日時", "updated_at"),
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value) -> str:
    """One CSV cell: times in JST, and text that Excel would run as a formula made inert."""
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        return format_jst(value, seconds=True)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _line(values) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(values)
    return buffer.getvalue()


def rows(query) -> Iterator[str]:
    """Yield the CSV text for a select over Association, in keyset batches (never all rows at once)."""
    yield "\ufeff" + _line(label for label, _ in COLUMNS)
    last_code = None
    base = query.order_by(None).order_by(Association.code)
    while True:
        batch_query = base if last_code is None else base.where(Association.code > last_code)
        batch = db.session.execute(batch_query.limit(BATCH)).scalars().all()
        if not batch:
            return
        for association in batch:
            yield _line(cell(getattr(association, attr)) for _, attr in COLUMNS)
        last_code = batch[-1].code
        for association in batch:
            db.session.expunge(association)
