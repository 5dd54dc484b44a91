"""MAMA's 管理組合 list at 1,000 and 10,000 rows: requests/s per page as a ratio to a bare Flask page.

The tests assert what holds on any machine (queries per page, the index in the plan); the time these
pages take is measured here and only reported.
"""
from __future__ import annotations

import random

import sqlalchemy as sa
from flask import Flask

from app.crypto import bind_rows
from app.extensions import db
from app.tenants import create_tenant
from plugins.mama.cli import sample_association
from plugins.mama.models import MamaAssociation
from tests.conftest import PASSWORD, TenantInfo
from tests.mama_helpers import in_tenant, login_with_code

CODE = "benchmama"
URLS = ("/mama/associations", "/mama/associations?page=150", "/mama/associations?sort=name&dir=desc",
        "/mama/associations?q=コウホク&sort=units", "/mama/associations?prefecture=東京都&sort=year")


def _make_tenant(app: Flask):
    def _make(code: str, product: str) -> TenantInfo:
        with app.app_context():
            tenant, admin, _, _ = create_tenant(
                code=code, name=f"{code} 株式会社", product=product, contract_end="2099-12-31", admin_login="admin",
                admin_email=f"admin@{code}.example.jp", admin_name="管理 太郎", admin_password=PASSWORD)
            return TenantInfo(tenant.code, tenant.id, admin.login_id, PASSWORD)

    return _make


def _add_associations(app: Flask, first: int, count: int) -> None:
    """Bulk-insert count sample associations numbered from first."""
    rng = random.Random(first)  # noqa: S311  # nosec B311 - sample data
    columns = [c.key for c in MamaAssociation.__table__.columns if c.key not in ("id", "tenant_id", "row_key",
                                                                                  "search_text")]
    with in_tenant(app, CODE):
        for start in range(first, first + count, 5000):
            rows = []
            for number in range(start, min(start + 5000, first + count)):
                association = sample_association(number, rng)
                rows.append({name: getattr(association, name) for name in columns
                             if getattr(association, name) is not None})
            db.session.execute(sa.insert(MamaAssociation), bind_rows(MamaAssociation, rows))
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def list_page_ratios(app: Flask, rate, bare_rps: float, requests: int, sizes=(1_000, 10_000)) -> dict:
    """For each size, requests/s of each list URL and its ratio to bare Flask; ``rate(client, url, n)`` measures."""
    _make_tenant(app)(CODE, product="mama")
    client = app.test_client()
    login_with_code(client, app, CODE, "admin")
    results, have = {}, 0
    for size in sizes:
        _add_associations(app, have + 1, size - have)
        have = size
        for url in URLS:
            rps = rate(client, url, requests)
            results[f"list_{size}_rows {url}"] = f"{rps:.1f} req/s = {rps / bare_rps:.1%} of bare Flask"
    return results
