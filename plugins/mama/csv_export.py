"""CSV export of associations: the core's streamed, formula-safe CSV over rows read in code order."""
from __future__ import annotations

from collections.abc import Iterator

from app.csv_export import BATCH, csv_response
from app.extensions import db

from .models import MamaAssociation

COLUMNS = (
    ("組合コード", "code"), ("管理組合名", "name"), ("フリガナ", "name_kana"), ("郵便番号", "postal_code"),
    ("都道府県", "prefecture"), ("市区町村", "city"), ("町域・番地", "address_line"), ("建物名", "building_name"),
    ("総戸数", "units"), ("竣工年", "building_year"), ("決算期開始月", "fiscal_start_month"),
    ("担当者氏名", "contact_name"), ("担当者電話番号", "contact_phone"), ("担当者メールアドレス", "contact_email"),
    ("備考", "notes"), ("更新日時", "updated_at"),
)


def _in_code_batches(query) -> Iterator[MamaAssociation]:
    """Rows of a select over MamaAssociation by code, in keyset batches (never all rows at once)."""
    last_code = None
    base = query.order_by(None).order_by(MamaAssociation.code)
    while True:
        batch_query = base if last_code is None else base.where(MamaAssociation.code > last_code)
        batch = db.session.execute(batch_query.limit(BATCH)).scalars().all()
        if not batch:
            return
        yield from batch
        last_code = batch[-1].code
        for association in batch:
            db.session.expunge(association)


def associations_csv(query):
    """A streamed CSV download of the associations a select finds."""
    return csv_response("associations", "管理組合", [label for label, _ in COLUMNS], _in_code_batches(query),
                        lambda association: [getattr(association, attr) for _, attr in COLUMNS])
