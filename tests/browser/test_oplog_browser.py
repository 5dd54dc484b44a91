"""操作ログ in a real browser: a tenant admin opens it from the navigation, filters by 操作, by JST date range and to
運用担当者による操作のみ, pages forward and back, and downloads the filtered CSV."""
from datetime import UTC, datetime

import sqlalchemy as sa

from app import audit
from app.extensions import db
from app.models import Tenant
from app.tenancy import tenant_scope
from tests.browser.conftest import password_step, screenshot

REASON = "問い合わせ #4521 のロック解除"


def _seed(app, monkeypatch) -> None:
    """60 ユーザー更新 on 2026-11-20 (JST) and 5 ユーザー作成 on 2026-11-25 (JST) in acme; one in other."""
    with app.app_context():
        for code, events in (("acme", [("user.update", f"user:u{i:02d}", datetime(2026, 11, 20, 1, 0, i, tzinfo=UTC))
                                       for i in range(60)]
                              + [("user.create", f"user:new{i}", datetime(2026, 11, 25, 2, 0, i, tzinfo=UTC))
                                 for i in range(5)]),
                             ("other", [("user.update", "user:other-secret", datetime(2026, 11, 20, 1, 0, tzinfo=UTC))])):
            tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
            with tenant_scope(tenant):
                for action, target, when in events:
                    monkeypatch.setattr(audit, "utcnow", lambda when=when: when)
                    audit.record(action, actor_login="admin", target=target, before={"role": "general"},
                                 after={"role": "admin"})
                db.session.commit()
        monkeypatch.undo()


def _rows(page):
    return page.locator("[data-testid=oplog] tbody tr")


def _column(page, index: int) -> list[str]:
    return [text.strip() for text in page.locator(f"[data-testid=oplog] tbody tr td:nth-child({index})").all_inner_texts()]


def test_admin_filters_pages_and_downloads_the_operation_log(app, live_server, new_context, make_tenant, monkeypatch):
    make_tenant("acme")
    make_tenant("other")
    _seed(app, monkeypatch)
    monkeypatch.setenv("KANRI_OPERATOR", "ops-yamada")
    result = app.test_cli_runner().invoke(args=["tenant", "suspend", "acme", "--reason", REASON])
    assert result.exit_code == 0, result.output
    assert app.test_cli_runner().invoke(args=["tenant", "resume", "acme", "--reason", REASON]).exit_code == 0

    page = new_context(accept_downloads=True).new_page()
    password_step(page, live_server, "acme", "admin", then="**/sample/confirm")
    page.fill("#answer", "ok")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")

    page.locator("nav.site-nav").get_by_role("link", name="操作ログ").click()
    page.wait_for_url("**/admin/oplog")
    assert page.get_by_role("heading", name="操作ログ").is_visible()
    assert _rows(page).count() == 50  # newest first, 50 a page

    # 操作 = ユーザー更新: 60 events, 50 on the first page, 10 on the next, and back again.
    page.select_option("#action", label="ユーザー更新")
    page.get_by_role("button", name="絞り込む").click()
    page.wait_for_url("**action=user.update**")
    assert _rows(page).count() == 50 and set(_column(page, 3)) == {"ユーザー更新"}
    first = _column(page, 4)
    assert first[0] == "user:u59" and first[-1] == "user:u10"
    assert "user:other-secret" not in page.content()
    page.get_by_test_id("oplog-next").click()
    page.wait_for_url("**before=**")
    assert _column(page, 4) == [f"user:u{i:02d}" for i in range(9, -1, -1)]
    assert page.get_by_test_id("oplog-next").count() == 0
    page.get_by_test_id("oplog-prev").click()
    page.wait_for_url("**after=**")
    assert _column(page, 4) == first
    assert page.locator("#action").input_value() == "user.update"  # the filter survives paging

    # A JST date range: the day of the 5 ユーザー作成 only (02:00 UTC = 11:00 JST on 2026-11-25).
    page.get_by_role("link", name="条件をクリア").click()
    page.fill("#date_from", "2026-11-25")
    page.fill("#date_to", "2026-11-25")
    page.get_by_role("button", name="絞り込む").click()
    page.wait_for_url("**date_from=2026-11-25**")
    assert _column(page, 4) == [f"user:new{i}" for i in range(4, -1, -1)]
    assert _column(page, 1)[0] == "2026-11-25 11:00:04 JST"

    # 運用担当者による操作のみ: the suspend/resume and their access records, with the name, reason and badge.
    page.get_by_role("link", name="条件をクリア").click()
    page.get_by_label("運用担当者による操作のみ").check()
    page.get_by_role("button", name="絞り込む").click()
    page.wait_for_url("**operators=y**")
    labels = _column(page, 3)
    assert labels[:4] == ["運用担当者による操作", "テナント再開", "運用担当者による操作", "テナント停止"]
    rows = _rows(page)
    for index in range(rows.count()):
        assert rows.nth(index).locator(".badge.operator").inner_text() == "運用担当者"
    access = rows.filter(has_text="運用担当者による操作").first
    assert "ops-yamada" in access.inner_text() and f"理由: {REASON}" in access.inner_text()
    assert "コマンド: flask tenant resume" in access.inner_text()
    assert "ユーザー更新" not in labels
    screenshot(page, "oplog-operator-filter")

    with page.expect_download() as info:
        page.get_by_test_id("oplog-csv").click()
    download = info.value
    assert download.suggested_filename.startswith("操作ログ_acme") and download.suggested_filename.endswith(".csv")
    body = open(download.path(), "rb").read()
    assert body.startswith(b"\xef\xbb\xbf")
    text = body.decode("utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "日時,操作者,操作,操作コード,対象,結果,IPアドレス,詳細,運用担当者,理由"
    assert any("operator:ops-yamada,運用担当者による操作,operator.access,tenant:acme,成功" in line
               and line.endswith(f"ops-yamada,{REASON}") for line in lines[1:])
    assert not any("ユーザー更新" in line for line in lines[1:])
