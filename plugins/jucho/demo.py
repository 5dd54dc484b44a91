"""Sample 管理組合, 物件 (with their 別表第5 profile), 住戸, the fee table, one waiting 依頼 and one issued and
sent (電子交付) for the demo tenant, so a first look is not empty."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from app.models import User

from .deliveries import create_delivery
from .demo_profile import seed_profile, seed_units
from .fees import seed_default_fees
from .models import JuchoAssociation, JuchoBuilding
from .reports import issue, start_draft
from .requests import REVIEW, RequestInput, create_request, set_status

# (管理組合, フリガナ, 管理形態, 物件, フリガナ, 所在地, 構造, 地上階, 戸数, 竣工); the postcodes are in _POSTCODES.
_SAMPLES = (
    ("パークハウス新宿管理組合", "パークハウスシンジュクカンリクミアイ", "full", "パークハウス新宿", "パークハウスシンジュク",
     "東京都新宿区西新宿3-2-1", "RC", 14, 86, date(2004, 3, 20)),
    ("グランドメゾン世田谷管理組合", "グランドメゾンセタガヤカンリクミアイ", "full", "グランドメゾン世田谷",
     "グランドメゾンセタガヤ", "東京都世田谷区三軒茶屋2-11-5", "SRC", 18, 142, date(1998, 9, 30)),
    ("リバーサイド浦和管理組合", "リバーサイドウラワカンリクミアイ", "partial", "リバーサイド浦和", "リバーサイドウラワ",
     "埼玉県さいたま市浦和区高砂1-7-3", "RC", 9, 48, date(2012, 2, 15)),
    ("サンライズ横浜港北管理組合", "サンライズヨコハマコウホクカンリクミアイ", "full", "サンライズ港北 A棟",
     "サンライズコウホク エートウ", "神奈川県横浜市港北区新横浜2-5-8", "RC", 11, 64, date(2008, 11, 1)),
    ("コスモ船橋管理組合", "コスモフナバシカンリクミアイ", "self", "コスモ船橋", "コスモフナバシ",
     "千葉県船橋市本町4-3-12", "S", 6, 24, date(1992, 6, 10)),
)


_POSTCODES = ("160-0023", "154-0024", "330-0063", "222-0033", "273-0005")


def seed_demo(tenant, with_delivery: bool = False) -> list[str]:
    """Add the sample 管理組合, their 物件 with full profiles, 40 住戸 of the first, the fee table and one 受付
    request to the current tenant (``with_delivery``: also a second 依頼, issued and sent to the sample broker,
    as ``flask demo`` shows it); return lines for the operator."""
    for number, (name, kana, form, building, building_kana, address, structure, floors, units, built) in enumerate(
            _SAMPLES, start=1):
        association = JuchoAssociation(name=name, kana=kana, management_form=form,
                                       contact_person=f"理事長 サンプル{number}",
                                       contact_phone=f"03-5555-{1000 + number:04d}",
                                       contact_email=f"riji{number}@example.jp")
        db.session.add(association)
        db.session.flush()
        row = JuchoBuilding(
            association_id=association.id, name=building, kana=building_kana, postal_code=_POSTCODES[number - 1],
            address=address, structure=structure,
            floors_above=floors, floors_below=1 if structure == "SRC" else 0, total_units=units,
            completion_date=built, management_fee_basis="unit", management_fee=Decimal(12000 + number * 1500),
            repair_reserve_basis="sqm", repair_reserve=Decimal(180 + number * 20), parking_fee=15000 + number * 1000,
            planned_repair_year=built.year + 36)
        db.session.add(row)
        db.session.flush()
        seed_profile(row, number)
        if number == 1:
            unit_count = seed_units(row)
    seed_default_fees()  # tenant_created gave it already; a tenant made before fees existed gets it here
    first = db.session.execute(sa.select(JuchoBuilding).order_by(JuchoBuilding.id)).scalars().first()
    request = create_request(_request_input(first, "305"), channel="web")
    lines = [f"サンプルの管理組合と物件を{len(_SAMPLES)}件ずつ、物件の重要事項調査項目と"
             f"「{_SAMPLES[0][3]}」の住戸{unit_count}戸を登録しました。",
             f"受付中の依頼 {request.number}（{request.building_name} {request.unit_number}、手数料"
             f"{request.total_amount:,}円）を登録しました。依頼フォーム: /jucho/{tenant.code}/request"]
    if with_delivery:
        delivery = _sent_request(first)
        lines.append(f"発行済みの依頼 {delivery.request.number}（{delivery.request.unit_number}）の報告書を"
                     f" {delivery.recipient} に電子交付しました（送付メールは /_dev/mail で見られます）。")
    return lines


def seed_demo_tenant(tenant) -> list[str]:
    """``flask demo``'s 重調 tenant: the samples and a sent report (see :func:`seed_demo`)."""
    return seed_demo(tenant, with_delivery=True)


def _request_input(building: JuchoBuilding, unit_number: str) -> RequestInput:
    return RequestInput(
        building_id=building.id, building_name=building.name, unit_number=unit_number,
        broker_company="サンプル不動産株式会社", license_number="東京都知事（3）第12345号", contact_name="仲介 一郎",
        phone="03-5555-0100", email="chukai@sample-fudosan.example.jp", postal_address=None, purpose="sale",
        delivery="electronic", express=False, seller_consent=True, document_ids=[])


def _sent_request(building: JuchoBuilding):
    """A second 依頼 taken through the same steps as the screens: draft, 確認待ち, 発行 and 電子交付 by the admin."""
    admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
    request = create_request(_request_input(building, "302"), channel="web")
    report = start_draft(request, admin)
    set_status(request, REVIEW, admin)
    issue(report, admin)
    return create_delivery(report, request.email, admin)
