"""重調@CITY 操作ログ as one story in a real browser: a 一般 社員 logs in with the mailed code and changes a 物件's
管理費; the 管理者 later finds out who changed it in 操作ログ, narrows it to 物件編集 and downloads the CSV. The log
shows nothing of another company."""
from __future__ import annotations

import sqlalchemy as sa
from playwright.sync_api import expect

from app import audit
from app.extensions import db
from tests.browser.conftest import jucho_login, screenshot
from tests.jucho_request_helpers import in_tenant


def test_staff_edits_a_building_and_the_admin_finds_it_in_the_operation_log(
        app, live_server, new_context, make_tenant, add_user, smtp):
    from plugins.jucho.demo import seed_demo
    from plugins.jucho.models import JuchoBuilding

    make_tenant("juchoco", product="jucho", admin_email="taro@example.co.jp")
    make_tenant("otherco", product="jucho")
    add_user("juchoco", "hanako", email="hanako@example.co.jp")
    with in_tenant(app, "juchoco") as tenant:
        seed_demo(tenant)  # complete 物件 records, as the demo company has them
        db.session.commit()
        building_id = db.session.execute(sa.select(JuchoBuilding.id).where(
            JuchoBuilding.name == "パークハウス新宿")).scalar_one()
    with in_tenant(app, "otherco"):  # the other company changes its own building: never in juchoco's log
        audit.record("jucho.building.update", actor_login="jiro", target="building:987654")
        db.session.commit()
    staff = new_context().new_page()
    jucho_login(staff, live_server, smtp.sink, "juchoco", "hanako", mails=1)
    staff.wait_for_url(f"{live_server}/")

    # 1. The 社員 opens the 物件 from 物件一覧 and changes 管理費.
    staff.click("nav.site-nav >> text=物件一覧")
    staff.click("table.jucho-list >> text=パークハウス新宿")
    staff.click("[data-testid=edit]")
    staff.wait_for_url(f"**/jucho/buildings/{building_id}/edit")
    staff.fill("#management_fee", "18500")
    staff.click("button.primary")
    expect(staff.locator("body")).to_contain_text("物件を保存しました。")
    assert staff.locator("nav.site-nav").get_by_role("link", name="操作ログ").count() == 0  # 管理者 only
    assert staff.goto(f"{live_server}/admin/oplog").status in (403, 404)

    # 2. The 管理者 looks it up: 物件編集 by hanako, and the CSV says the same.
    admin = new_context(accept_downloads=True).new_page()
    jucho_login(admin, live_server, smtp.sink, "juchoco", "admin", mails=2)
    admin.wait_for_url(f"{live_server}/")
    admin.locator("nav.site-nav").get_by_role("link", name="操作ログ").click()
    admin.wait_for_url("**/admin/oplog")
    assert "hanako" in admin.inner_text("[data-testid=oplog]")
    admin.select_option("#action", label="物件編集")
    admin.get_by_role("button", name="絞り込む").click()
    admin.wait_for_url("**action=jucho.building.update**")
    rows = admin.locator("[data-testid=oplog] tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    assert "hanako" in row and "物件編集" in row and f"building:{building_id}" in row
    assert "building:987654" not in admin.content() and "jiro" not in admin.content()
    screenshot(admin, "journey-jucho-oplog")
    with admin.expect_download() as info:
        admin.get_by_test_id("oplog-csv").click()
    assert info.value.suggested_filename.startswith("操作ログ_juchoco")
    lines = open(info.value.path(), "rb").read().decode("utf-8-sig").splitlines()
    assert not any("jiro" in line for line in lines)
    assert len(lines) == 2 and "hanako" in lines[1] and ",物件編集,jucho.building.update," in lines[1]
