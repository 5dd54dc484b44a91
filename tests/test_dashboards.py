"""ホーム in both products: 前回ログイン, 対応待ち, 登録件数, お知らせ, 最近の変更 — real values, few queries."""
from __future__ import annotations

import re
from contextlib import contextmanager
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import event

from app.extensions import db
from app.softdelete import soft_delete
from app.timeutil import utcnow
from tests.conftest import post_form
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import (
    admin_client,
    get_user,
    in_tenant,
    login,
    login_with_code,
    logout,
    mama_tenant,
    send_request,
)
from tests.query_helpers import still_at, stopped_clock

CHROME = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/131.0.0.0 Safari/537.36")
IPHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
          "Version/17.5 Mobile/15E148 Safari/604.1")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, testid: str) -> str:
    match = re.search(rf'<section[^>]*data-testid="{testid}"[^>]*>(.*?)</section>', html, re.S)
    return _text(match.group(1)).strip() if match else ""


def _panel(html: str, title: str) -> str:
    for body in re.findall(r'<section class="card panel" data-testid="panel"><h2>(.*?)</section>', html, re.S):
        if body.startswith(title + "</h2>"):
            return _text(body).strip()
    return ""


def _mama_seed(app, code: str, associations: int = 3, deleted: int = 0) -> None:
    from plugins.mama.cli import add_sample_associations
    from plugins.mama.models import MamaAssociation

    with in_tenant(app, code):
        add_sample_associations(associations)
        for row in db.session.execute(sa.select(MamaAssociation).limit(deleted)).scalars().all():
            soft_delete(row, "admin")
        db.session.commit()


@contextmanager
def _counted_queries(app):
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_first_login_then_previous_login_with_time_place_and_browser(app, make_tenant):
    client = app.test_client()
    info = mama_tenant(make_tenant)
    client.environ_base["HTTP_USER_AGENT"] = CHROME
    login_with_code(client, app, info.code, "admin")
    first = client.get("/").get_data(as_text=True)
    assert "初めてのログインです" in _section(first, "last-login")

    logout(client)
    client.environ_base["HTTP_USER_AGENT"] = IPHONE
    login(client, info.code, "admin")
    last = _section(client.get("/").get_data(as_text=True), "last-login")
    # the previous login is the Chrome one, not this iPhone session; its JST time, IP and readable browser
    assert "初めてのログインです" not in last
    assert "Chrome 131 / Windows" in last and "127.0.0.1" in last and "Safari" not in last
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", last)
    assert "Mozilla" not in last


def test_a_session_opened_before_the_copy_reads_the_previous_login_from_the_audit_log(app, make_tenant):
    from app.models import UserSession

    client = app.test_client()
    info = mama_tenant(make_tenant)
    client.environ_base["HTTP_USER_AGENT"] = CHROME
    login_with_code(client, app, info.code, "admin")
    logout(client)
    client.environ_base["HTTP_USER_AGENT"] = IPHONE
    login(client, info.code, "admin")
    with in_tenant(app, info.code):
        newest = db.session.execute(sa.select(UserSession).order_by(UserSession.id.desc())).scalars().first()
        assert newest.previous_login_read and newest.previous_login_agent == CHROME
        # as a session opened before migration 0034 looks: nothing copied
        newest.previous_login_read, newest.previous_login_at, newest.previous_login_agent = False, None, None
        db.session.commit()
    last = _section(client.get("/").get_data(as_text=True), "last-login")
    assert "Chrome 131 / Windows" in last and "初めてのログインです" not in last


def test_home_counts_stop_at_the_lists_cap(app, make_tenant):
    """ホーム counts no further than a list page does: 1,001 管理組合 read 「1,000件以上」 (and 999 read exactly)."""
    info, client = admin_client(app, make_tenant)
    _mama_seed(app, info.code, associations=999)
    assert "参照できる管理組合 999件" in _panel(client.get("/").get_data(as_text=True), "登録件数")
    _mama_seed(app, info.code, associations=2)
    counts = _panel(client.get("/").get_data(as_text=True), "登録件数")
    assert "参照できる管理組合 1,000件以上" in counts and "1,001" not in counts


def test_mama_admin_sees_pending_work_counts_changes_and_notices(app, make_tenant, add_user):
    info, client = admin_client(app, make_tenant)
    add_user(info.code, "staff")
    add_user(info.code, "locked")
    _mama_seed(app, info.code, associations=4, deleted=1)
    staff = app.test_client()
    post_form(staff, "/login", {"company_code": info.code, "login_id": "staff", "password": info.password, "next": ""})
    send_request(staff)
    with in_tenant(app, info.code):
        get_user("locked").locked_until = utcnow() + timedelta(minutes=15)
        db.session.commit()

    html = client.get("/").get_data(as_text=True)
    pending = _panel(html, "対応待ち")
    assert "端末の登録申請（承認待ち） 1件" in pending and "ロック中のユーザー 1人" in pending
    assert 'href="/mama/devices"' in html and 'href="/mama/users"' in html
    counts = _panel(html, "登録件数")
    assert "参照できる管理組合 3件" in counts  # 4 added, 1 in 削除済み
    assert "ユーザー 3人" in counts
    changes = _section(html, "panel-changes")
    assert changes.startswith("最近の変更")
    assert "端末登録申請" in changes  # Japanese labels from the operation log, not action codes
    assert "device.request" not in changes and "login.success" not in html
    assert 'href="/admin/oplog"' in html
    assert "お知らせ" in _section(html, "panel-notices")


def test_recent_changes_are_the_last_five_changes_not_sign_ins(app, make_tenant):
    from app import audit

    info, client = admin_client(app, make_tenant)
    with in_tenant(app, info.code):
        admin = get_user("admin")
        for number in range(7):
            audit.record("mama.association.create", target=f"association:T{number:03d}", actor=admin)
        audit.record("mama.association.update", target="association:T000", actor=admin, outcome="failure")
        audit.record("mama.association.export", target="associations", actor=admin)
        db.session.commit()
    logout(client)
    login(client, info.code, "admin")  # a sign-in after the changes: not a change
    changes = _section(client.get("/").get_data(as_text=True), "panel-changes")
    assert changes.count("管理組合登録") == 5 and "admin" in changes, changes
    assert "ログイン成功" not in changes and "管理組合更新" not in changes and "CSV出力" not in changes


def test_mama_general_user_sees_no_admin_panels(app, make_tenant, add_user):
    info, _ = admin_client(app, make_tenant)
    add_user(info.code, "staff")
    client = app.test_client()
    login_with_code(client, app, info.code, "staff")
    html = client.get("/").get_data(as_text=True)
    assert _section(html, "panel-changes") == "" and "/admin/oplog" not in html
    assert _panel(html, "対応待ち") == "" and "ロック中" not in html
    assert "お知らせ" in _section(html, "panel-notices") and "前回ログイン" in html


def test_jucho_counts_are_live_rows_of_this_tenant_only(app, make_tenant, add_user, outbox):
    from plugins.jucho.demo import seed_demo
    from plugins.jucho.models import JuchoBuilding

    mine = make_tenant("juchoa", product="jucho")
    other = make_tenant("juchob", product="jucho")
    add_user(mine.code, "staff")
    for code in (mine.code, other.code):
        with in_tenant(app, code) as tenant:
            seed_demo(tenant)
            db.session.commit()
    with in_tenant(app, mine.code):
        soft_delete(db.session.execute(sa.select(JuchoBuilding).limit(1)).scalar_one(), "admin")
        db.session.commit()

    admin = app.test_client()
    jucho_login(admin, outbox, mine.code, "admin")
    html = admin.get("/").get_data(as_text=True)
    counts = _panel(html, "登録件数")
    assert "管理組合 5件" in counts and "物件 4件" in counts and "社員 2人" in counts
    assert "最近の変更" in html and "お知らせ" in _section(html, "panel-notices")

    staff = app.test_client()
    jucho_login(staff, outbox, mine.code, "staff")
    html = staff.get("/").get_data(as_text=True)
    counts = _panel(html, "登録件数")
    assert "管理組合 5件" in counts and "社員" not in counts
    assert _section(html, "panel-changes") == ""


def test_dashboard_queries_do_not_grow_with_the_records(app, make_tenant):
    info, client = admin_client(app, make_tenant)
    _mama_seed(app, info.code, associations=3)
    client.get("/")
    with still_at(stopped_clock()):  # the session's last-seen time (written once a minute) is not counted
        client.get("/")
        with _counted_queries(app) as few:
            assert client.get("/").status_code == 200
        _mama_seed(app, info.code, associations=40)
        with _counted_queries(app) as many:
            assert client.get("/").status_code == 200
    assert len(many) == len(few) and len(few) <= 30, few
