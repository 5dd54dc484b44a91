"""Maintenance as one story in a real browser: a MAMA 管理者 is editing a 管理組合 when the operator switches
maintenance on (``flask maintenance on``); the save shows the maintenance screen and changes nothing; once the
operator switches it off the 管理者 is still logged in and saves again."""
from __future__ import annotations

import random

import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from plugins.mama.cli import sample_association
from plugins.mama.models import MamaAssociation
from tests.browser.conftest import screenshot
from tests.browser.test_mama_permissions_browser import _admin_page
from tests.mama_helpers import in_tenant

MESSAGE = "ただいまシステムを更新しています。"


def _name_of(app, association_id: int) -> str:
    with in_tenant(app, "mama1"):
        return db.session.get(MamaAssociation, association_id).name


def test_admin_editing_meets_the_maintenance_screen_and_continues_afterwards(
        app, live_server, new_context, make_tenant):
    make_tenant("mama1", product="mama")
    with in_tenant(app, "mama1"):
        db.session.add(sample_association(1, random.Random(11)))  # as the demo has them: saved unchanged
        db.session.commit()
        association_id = db.session.execute(sa.select(MamaAssociation.id)).scalar_one()
    before = _name_of(app, association_id)
    admin = _admin_page(app, live_server, new_context)
    admin.goto(f"{live_server}/mama/associations/{association_id}/edit")
    admin.fill("#name", "メンテナンス中に入力した名前")

    runner = app.test_cli_runner()
    result = runner.invoke(args=["maintenance", "on", "--message", MESSAGE, "--operator", "ops"])
    assert result.exit_code == 0, result.output

    # Saving now shows the maintenance screen (503) and writes nothing.
    with admin.expect_response(lambda r: r.request.method == "POST") as info:
        admin.click("button.primary[type=submit]")
    assert info.value.status == 503
    screen = admin.locator("[data-testid=maintenance]")
    assert screen.get_by_text("ただいまメンテナンス中です").is_visible()
    assert screen.get_by_text(MESSAGE).is_visible()
    screenshot(admin, "journey-maintenance-during-edit")
    assert _name_of(app, association_id) == before
    assert admin.goto(f"{live_server}/mama/associations").status == 503  # every page, not only the form
    assert new_context().new_page().goto(f"{live_server}/login").status == 503  # and for visitors

    # Maintenance over: the session survived, the edit goes through.
    assert runner.invoke(args=["maintenance", "off", "--operator", "ops"]).exit_code == 0
    admin.goto(f"{live_server}/mama/associations/{association_id}/edit")
    admin.fill("#name", "メンテナンス後に保存した名前")
    admin.click("button.primary[type=submit]")
    expect(admin.locator("body")).to_contain_text("管理組合「メンテナンス後に保存した名前」を更新しました。")
    assert _name_of(app, association_id) == "メンテナンス後に保存した名前"
