"""MAMA user administration as one story in a real browser: the 管理者 makes a 閲覧-only permission set, adds a user
with it and a scope of one 管理組合, and reads the initial password once; the new user asks to register the office
PC, the 管理者 approves it, the user logs in, must change the initial password, and then sees only the chosen
管理組合, read-only."""
from __future__ import annotations

import random

import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from plugins.mama.cli import sample_association
from plugins.mama.models import MamaAssociation
from tests.browser.conftest import password_step, screenshot
from tests.browser.test_mama_permissions_browser import _admin_page
from tests.mama_helpers import in_tenant

NEW_PASSWORD = "amber lantern drifting softly 47"


def test_admin_adds_a_read_only_user_who_registers_a_device_and_changes_the_initial_password(
        app, live_server, new_context, make_tenant):
    make_tenant("mama1", product="mama")
    with in_tenant(app, "mama1"):
        db.session.add_all(sample_association(n, random.Random(7)) for n in range(1, 5))
        db.session.commit()
        chosen = db.session.execute(sa.select(MamaAssociation).where(MamaAssociation.code == "A00003")).scalar_one()
        chosen_id, chosen_name = chosen.id, chosen.name
    admin = _admin_page(app, live_server, new_context)

    # 1. A permission set: 管理組合登録 閲覧 only, nothing else.
    admin.click("nav.site-nav >> text=メニュー権限")
    admin.wait_for_url("**/mama/permissions**")
    admin.goto(f"{live_server}/mama/permissions/new?role=general")
    admin.fill("#name", "閲覧のみ担当")
    admin.check("[data-testid='grant-mama.associations-view']")
    admin.click("button.primary[type=submit]")
    admin.wait_for_url("**/mama/permissions?role=general")
    assert "閲覧のみ担当" in admin.inner_text("[data-testid=permission-matrix]")

    # 2. ユーザー追加 with that set and one 管理組合; a missing 氏名 first keeps what was typed.
    admin.goto(f"{live_server}/mama/users")
    admin.click("a.button >> text=ユーザーを追加")
    admin.fill("#login_id", "sato")
    admin.fill("#email", "sato@mama1.example.jp")
    admin.select_option("#permission_set", label="閲覧のみ担当（一般）")
    admin.check("#scope_mode-1")  # 選択した管理組合のみ
    admin.select_option("#scope_associations", value=str(chosen_id))
    admin.click("button.primary[type=submit]")
    assert "氏名" in admin.inner_text("[data-testid=error-summary]")
    assert admin.input_value("#login_id") == "sato"
    admin.fill("#name", "佐藤 花子")
    admin.check("#scope_mode-1")
    admin.select_option("#scope_associations", value=str(chosen_id))
    admin.click("button.primary[type=submit]")
    expect(admin.locator("body")).to_contain_text("ユーザーを追加しました")
    initial = admin.inner_text("[data-testid=initial-password]").strip()
    assert len(initial) >= 12
    screenshot(admin, "journey-mama-user-created")
    admin.click("[data-testid=user-detail-link]")
    detail = admin.inner_text("[data-testid=user-detail]")
    assert "佐藤 花子" in detail and "閲覧のみ担当" in detail

    # 3. The user's first login: the PC is unknown, so a registration request goes to the 管理者.
    user = new_context().new_page()
    password_step(user, live_server, "mama1", "sato", initial, then="**/mama/device")
    expect(user.locator("body")).to_contain_text("この端末は登録されていません")
    user.fill("#name", "経理部のPC")
    user.click("[data-testid=request-submit]")
    user.wait_for_url("**/mama/device/status")
    assert user.inner_text("[data-testid=status-label]") == "申請中"

    admin.goto(f"{live_server}/mama/devices")
    assert "経理部のPC" in admin.inner_text("[data-testid=device-queue]")
    admin.click("[data-testid=approve-sato]")
    admin.wait_for_url("**/mama/devices")
    expect(admin.locator("body")).to_contain_text("承認しました")

    # 4. Logging in again from the approved PC: the initial password must be changed first.
    password_step(user, live_server, "mama1", "sato", initial, then="**/account/password")
    user.fill("#current_password", initial)
    user.fill("#new_password", NEW_PASSWORD)
    user.fill("#confirm_password", NEW_PASSWORD)
    user.click("button.primary")
    user.wait_for_url(f"{live_server}/")
    nav = user.inner_text("nav.site-nav")
    assert "管理組合登録" in nav and "ユーザーマスタ" not in nav and "端末管理" not in nav

    # 5. Only the chosen 管理組合, and only to read.
    user.click("nav.site-nav >> text=管理組合登録")
    table = user.inner_text("[data-testid=association-table]")
    assert "A00003" in table and "A00001" not in table and "A00004" not in table
    user.click(f"[data-testid=association-table] >> text={chosen_name}")
    assert chosen_name in user.inner_text("[data-testid=association-detail]")
    assert user.locator("[data-testid=edit]").count() == 0
    screenshot(user, "journey-mama-read-only-association")
    assert user.goto(f"{live_server}/mama/associations/{chosen_id}/edit").status == 403
    assert user.goto(f"{live_server}/mama/users").status == 403

    # The initial password no longer opens the account.
    stranger = new_context().new_page()
    password_step(stranger, live_server, "mama1", "sato", initial)
    expect(stranger.locator("body")).to_contain_text("会社コード、ログインID、またはパスワードが正しくありません。")
