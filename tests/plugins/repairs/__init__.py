"""修繕記録 (repair records of a 管理組合): a test-only third product built only from the core toolkit.

PRODUCT and hook implementations only; loaded with KANRI_PLUGINS=...,tests.plugins.repairs.
"""
from __future__ import annotations

from app.hookspecs import hookimpl
from app.products import DemoTenant, MenuLink, Product

from . import models  # noqa: F401  (tables join the metadata before the core labels encrypted columns)

PRODUCT = Product("repairs", "修繕記録", "管理組合の修繕工事の記録（暗証番号でログイン）", views="tests.plugins.repairs.views")
RECORDS = MenuLink("修繕記録", "repairs.records_index", menu_id="repairs.records", description="修繕工事の記録")
PINS = MenuLink("暗証番号の発行", "repairs.pins_issue", menu_id="repairs.pins", description="ユーザーの暗証番号を発行")


@hookimpl
def register_products():
    """修繕記録 is one product."""
    return [PRODUCT]


@hookimpl
def second_factor(tenant, user):
    """A 修繕記録 login needs the user's 暗証番号."""
    if not PRODUCT.owns(tenant):
        return None
    from .factor import FACTOR

    return FACTOR


@hookimpl
def menu_registry(tenant):
    """Every 修繕記録 menu."""
    return [RECORDS, PINS] if PRODUCT.owns(tenant) else []


@hookimpl
def menu_links(tenant, user):
    """修繕記録 for everyone, 暗証番号の発行 for 管理者."""
    if not PRODUCT.owns(tenant) or user is None:
        return []
    return [RECORDS, PINS] if user.is_admin else [RECORDS]


@hookimpl
def tenant_created(tenant, admin):
    """The first admin's 暗証番号, printed once to the operator."""
    if not PRODUCT.owns(tenant):
        return None
    from .models import issue_pin

    return [f"暗証番号（管理者 {admin.login_id} 用）: {issue_pin(admin)}",
            "一般ユーザーの暗証番号は、管理者が「暗証番号の発行」で発行します。"]


def _seed(tenant):
    from app.extensions import db

    from .models import RepairRecord

    works = [("外壁塗装", "ヤマダ建装", "ヤマダケンソウ"), ("屋上防水", "サトウ防水", "サトウボウスイ"),
             ("給水管更生", "スズキ設備", "スズキセツビ")]
    db.session.add_all(RepairRecord(title=f"{title}（第{n}期）", contractor=name, contractor_kana=kana,
                                    cost=1_000_000 * n) for n in range(1, 11) for title, name, kana in works)
    return ["サンプルの修繕記録を30件登録しました。"]


@hookimpl
def demo_tenant():
    """demo-repairs, with sample records."""
    return DemoTenant("demo-repairs", "かえで修繕管理株式会社", PRODUCT.code, seed=_seed)


@hookimpl
def audit_action_labels():
    """Japanese labels of 修繕記録's audit actions."""
    return {"repairs.record.create": "修繕記録登録", "repairs.record.update": "修繕記録更新",
            "repairs.record.delete": "修繕記録削除", "repairs.pin.issue": "暗証番号発行",
            "repairs.pin.failed": "暗証番号の誤り"}
