"""お知らせ: flask notice post/list/withdraw/deliver-due, MAMA's mail delivery, 重調's dashboard with 未読 marks,
the /notices screens (tenant isolation, publication time, audience), safe Markdown, maintenance notices,
the mail worker's cycle, export and purge of the tenant-owned rows."""
from __future__ import annotations

import json
import re
import threading
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.builtins.transparency import notices
from app.extensions import db
from app.models import AuditEvent
from app.richtext import markdown_html
from app.timeutil import JST, utcnow
from tests import mama_helpers
from tests.conftest import cli_output, login
from tests.jucho_helpers import jucho_login

BODY = "# 新機能のご案内\n\n**帳票出力**が速くなりました。詳しくは [ヘルプ](https://help.example.jp/a) をご覧ください。\n"


def _jst(delta: timedelta) -> str:
    return (utcnow() + delta).astimezone(JST).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def body_file(tmp_path):
    """Write a Markdown body and return its path."""

    def _write(text: str = BODY, name: str = "notice.md", encoding: str = "utf-8"):
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return str(path)

    return _write


def _post(runner, body_path: str, *args: str, reason: str = "新機能の案内"):
    return runner.invoke(args=["notice", "post", "--body-file", body_path, "--reason", reason,
                               "--operator", "ops-sato", *args])


def _posted_id(result) -> int:
    assert result.exit_code == 0, cli_output(result)
    return int(re.search(r"お知らせ番号 (\d+)", result.output).group(1))


def _notice_mails(outbox) -> list:
    return [m for m in outbox if "お知らせ:" in m.subject]


def _count(app, model) -> int:
    with app.app_context():
        return db.session.execute(sa.select(sa.func.count()).select_from(model)
                                  .execution_options(all_tenants=True)).scalar_one()


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
                                  .execution_options(all_tenants=True)).scalars().all()
        for row in rows:
            db.session.expunge(row)
        return rows


def _mama_world(make_tenant, add_user, app, codes=("mama1", "mama2")):
    """MAMA tenants with two active admins, a suspended admin and a general user each."""
    for code in codes:
        make_tenant(code, product="mama")
        add_user(code, "boss", role="admin")
        add_user(code, "quiet", role="admin")
        add_user(code, "staff")
        with mama_helpers.in_tenant(app, code):
            mama_helpers.get_user("quiet").status = "suspended"
            db.session.commit()


# --- safe Markdown -------------------------------------------------------------------------------

def test_markdown_is_rendered_and_every_kind_of_script_is_neutralised():
    html = str(markdown_html(
        "# 見出し\n\n<script>alert(1)</script>\n\n[踏む](javascript:alert(1)) [vb](vbscript:msgbox) "
        "[ok](https://example.jp/x)\n\n<img src=x onerror=alert(2)>\n\n<a href=\"https://e.jp\" onclick=\"steal()\">生</a>"
        "\n\n<iframe src=\"https://evil.example\"></iframe>\n\n- 一\n- 二\n\n`<b>code</b>`"))
    assert "<h1>見出し</h1>" in html and "<li>一</li>" in html
    assert '<a href="https://example.jp/x" rel="noopener noreferrer">ok</a>' in html
    assert "<script" not in html and "<img" not in html and "<iframe" not in html
    assert "javascript:" not in html.replace("[踏む](javascript:alert(1))", "")  # left as text, never a link
    assert 'href="javascript' not in html and 'href="vbscript' not in html
    assert "onerror=" not in html.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    assert "onclick" not in html.replace('&lt;a href="https://e.jp" onclick="steal()"&gt;', "")
    assert "&lt;script&gt;" in html and "<code>&lt;b&gt;code&lt;/b&gt;</code>" in html


def test_a_hostile_notice_is_harmless_on_the_page_and_in_the_mail(app, runner, make_tenant, add_user, body_file,
                                                                   outbox):
    _mama_world(make_tenant, add_user, app, codes=("mama1",))
    hostile = body_file('<script>alert("x")</script>\n\n[クリック](javascript:alert(1))\n\n'
                        '<img src=x onerror="alert(2)">\n\n[安全](https://example.jp/ok)\n')
    notice_id = _posted_id(_post(runner, hostile, "--product", "mama", "--title", "<b>重要</b>"))
    client = app.test_client()
    mama_helpers.login_with_code(client, app, "mama1", "admin")
    page = client.get(f"/notices/{notice_id}").get_data(as_text=True)
    body = page.split('data-testid="notice-body">')[1].split("</div>")[0]
    assert "<script" not in body and "<img" not in body and 'href="javascript' not in body
    assert '<a href="https://example.jp/ok" rel="noopener noreferrer">安全</a>' in body
    assert "&lt;b&gt;重要&lt;/b&gt;" in page and "<b>重要</b>" not in page
    [mail, *_] = _notice_mails(outbox)
    assert "<script" not in mail.html and "<img" not in mail.html and 'href="javascript' not in mail.html


# --- posting and MAMA's delivery ----------------------------------------------------------------

def test_mama_delivery_mails_each_active_admin_once(app, runner, make_tenant, add_user, body_file, outbox):
    _mama_world(make_tenant, add_user, app)
    make_tenant("juchoco", product="jucho")
    result = _post(runner, body_file(), "--product", "mama", "--title", "帳票機能のご案内")
    notice_id = _posted_id(result)
    assert "2 テナント" in result.output and "メール 4 通" in result.output

    mails = _notice_mails(outbox)
    assert sorted(m.recipients[0] for m in mails) == [
        "admin@mama1.example.jp", "admin@mama2.example.jp", "boss@mama1.example.jp", "boss@mama2.example.jp"]
    assert all(len(m.recipients) == 1 for m in mails)
    for mail in mails:
        code = mail.recipients[0].split("@")[1].split(".")[0]
        assert "MAMAシステム" in mail.subject and f"{code} 株式会社" in mail.subject and "帳票機能のご案内" in mail.subject
        assert "帳票出力" in mail.body and f"http://localhost/notices/{notice_id}" in mail.body
        assert "<strong>帳票出力</strong>" in mail.html

    # Run again, as cron and the worker do: nobody is mailed twice.
    again = runner.invoke(args=["notice", "deliver-due"])
    assert again.exit_code == 0 and "配信: 0 テナント" in again.output
    assert len(_notice_mails(outbox)) == 4

    # The system chain has notice.post; each MAMA tenant's own log says an operator did it, and why.
    [post] = _events(app, "notice.post")
    assert (post.chain_id, post.actor_login, post.target) == (0, "operator:ops-sato", f"notice:{notice_id}")
    access = _events(app, "operator.access")
    with app.app_context():
        ids = {code: db.session.execute(sa.text("SELECT id FROM tenants WHERE code = :c"), {"c": code}).scalar_one()
               for code in ("mama1", "mama2", "juchoco")}
    assert sorted(e.chain_id for e in access) == sorted([ids["mama1"], ids["mama2"]])
    assert all(json.loads(e.details)["reason"] == "新機能の案内" for e in access)
    delivered = _events(app, "notice.deliver")
    assert sorted(e.chain_id for e in delivered) == sorted([ids["mama1"], ids["mama2"]])
    assert {json.loads(e.details)["mails"] for e in delivered} == {2}


def test_listed_tenants_only_and_other_tenants_get_404(app, runner, make_tenant, add_user, body_file, outbox):
    _mama_world(make_tenant, add_user, app)
    notice_id = _posted_id(_post(runner, body_file(), "--product", "mama", "--tenant", "mama1", "--title", "個別"))
    assert {m.recipients[0].split("@")[1] for m in _notice_mails(outbox)} == {"mama1.example.jp"}

    mine, other = app.test_client(), app.test_client()
    mama_helpers.login_with_code(mine, app, "mama1", "staff")
    mama_helpers.login_with_code(other, app, "mama2", "admin")
    assert "個別" in mine.get("/notices").get_data(as_text=True)
    assert mine.get(f"/notices/{notice_id}").status_code == 200
    listing = other.get("/notices")
    assert listing.status_code == 200 and "個別" not in listing.get_data(as_text=True)
    assert other.get(f"/notices/{notice_id}").status_code == 404          # an attacker guessing ids
    assert other.get("/notices/999999").status_code == 404
    assert app.test_client().get(f"/notices/{notice_id}").status_code == 302  # logged out: to the login page


def test_the_menu_links_the_notices_for_every_product(app, runner, make_tenant, add_user, body_file, outbox):
    make_tenant("sampleco")
    client = app.test_client()
    login(client, "sampleco", "admin")
    home = client.get("/").get_data(as_text=True)
    assert 'href="/notices">お知らせ</a>' in home
    assert "現在、お知らせはありません。" in client.get("/notices").get_data(as_text=True)


def test_admins_only_notices_are_404_for_general_users(app, runner, make_tenant, add_user, body_file, outbox):
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako")
    notice_id = _posted_id(_post(runner, body_file(), "--product", "jucho", "--title", "管理者向け",
                                 "--audience", "admins"))
    staff, admin = app.test_client(), app.test_client()
    jucho_login(staff, outbox, "juchoco", "hanako")
    jucho_login(admin, outbox, "juchoco", "admin")
    assert staff.get(f"/notices/{notice_id}").status_code == 404
    assert "管理者向け" not in staff.get("/").get_data(as_text=True)
    assert admin.get(f"/notices/{notice_id}").status_code == 200


def test_a_product_scoped_notice_is_404_for_another_products_tenant(app, runner, make_tenant, body_file, outbox):
    make_tenant("juchoco", product="jucho")
    make_tenant("sampleco")
    notice_id = _posted_id(_post(runner, body_file(), "--product", "jucho", "--title", "重調だけ"))
    client = app.test_client()
    login(client, "sampleco", "admin")
    assert client.get(f"/notices/{notice_id}").status_code == 404
    assert "重調だけ" not in client.get("/notices").get_data(as_text=True)


# --- publication time -----------------------------------------------------------------------------

def test_a_scheduled_notice_is_invisible_and_undelivered_until_due(app, runner, make_tenant, add_user, body_file,
                                                                   outbox):
    _mama_world(make_tenant, add_user, app, codes=("mama1",))
    make_tenant("juchoco", product="jucho")
    publish = _jst(timedelta(hours=3))
    result = _post(runner, body_file(), "--product", "all", "--title", "予定のお知らせ", "--publish-at", publish)
    notice_id = _posted_id(result)
    assert f"{publish} JST に掲載されます" in result.output
    assert _notice_mails(outbox) == []
    assert "[掲載予定]" in runner.invoke(args=["notice", "list"]).output

    jucho = app.test_client()
    jucho_login(jucho, outbox, "juchoco", "admin")
    assert "予定のお知らせ" not in jucho.get("/").get_data(as_text=True)
    assert jucho.get(f"/notices/{notice_id}").status_code == 404
    assert "配信: 0 テナント" in runner.invoke(args=["notice", "deliver-due"]).output
    assert _notice_mails(outbox) == []

    with time_machine.travel(utcnow() + timedelta(hours=3, minutes=1), tick=False):
        result = runner.invoke(args=["notice", "deliver-due"])
        assert result.exit_code == 0 and "配信: 2 テナント（メール 2 通" in result.output, cli_output(result)
        assert sorted(m.recipients[0] for m in _notice_mails(outbox)) == ["admin@mama1.example.jp",
                                                                          "boss@mama1.example.jp"]
        assert "配信: 0 テナント" in runner.invoke(args=["notice", "deliver-due"]).output
        assert len(_notice_mails(outbox)) == 2
        later = app.test_client()  # the first browser's session has been idle too long by now
        jucho_login(later, outbox, "juchoco", "admin")
        assert "予定のお知らせ" in later.get("/").get_data(as_text=True)
        assert later.get(f"/notices/{notice_id}").status_code == 200


def test_the_mail_worker_delivers_due_notices_each_cycle(app, runner, make_tenant, add_user, body_file, outbox):
    _mama_world(make_tenant, add_user, app, codes=("mama1",))
    _post(runner, body_file(), "--product", "mama", "--title", "ワーカー配信", "--publish-at", _jst(timedelta(hours=1)))
    assert runner.invoke(args=["mail", "worker", "--once"]).exit_code == 0
    assert _notice_mails(outbox) == []
    with time_machine.travel(utcnow() + timedelta(hours=1, minutes=1), tick=True):
        result = runner.invoke(args=["mail", "worker", "--once"])
        assert result.exit_code == 0, cli_output(result)
        assert sorted(m.recipients[0] for m in _notice_mails(outbox)) == ["admin@mama1.example.jp",
                                                                          "boss@mama1.example.jp"]
        assert runner.invoke(args=["mail", "worker", "--once"]).exit_code == 0
    assert len(_notice_mails(outbox)) == 2


@pytest.mark.config(KANRI_MAIL_THREAD=False)
def test_two_deliverers_at_once_deliver_each_tenant_once(app, runner, make_tenant, add_user, body_file, outbox,
                                                         monkeypatch):
    _mama_world(make_tenant, add_user, app)
    _post(runner, body_file(), "--product", "mama", "--title", "同時配信", "--publish-at", _jst(timedelta(hours=1)))
    later = utcnow() + timedelta(hours=1, minutes=1)
    both_read = threading.Barrier(2, timeout=10)
    original = notices._due_targets

    def _read_then_wait(now, notice_id):
        rows = original(now, notice_id)
        both_read.wait()  # both deliverers hold the same due list before either claims
        return rows

    monkeypatch.setattr(notices, "_due_targets", _read_then_wait)
    reports = []

    def _deliver():
        with app.app_context():
            reports.append(notices.deliver_due(now=later))
            db.session.remove()

    threads = [threading.Thread(target=_deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(reports) == 2
    assert sum(r.tenants for r in reports) + sum(len(r.failed) for r in reports) >= 2
    monkeypatch.setattr(notices, "_due_targets", original)
    with app.app_context():
        notices.deliver_due(now=later)  # whatever a lock made one of them give up is delivered now, once
    mails = sorted(m.recipients[0] for m in _notice_mails(outbox))
    assert mails == ["admin@mama1.example.jp", "admin@mama2.example.jp", "boss@mama1.example.jp",
                     "boss@mama2.example.jp"]
    assert len(_events(app, "notice.deliver")) == 2


# --- 重調@CITY: the dashboard and 未読 per user ---------------------------------------------------------

def test_jucho_dashboard_unread_mark_goes_only_for_the_reader(app, runner, make_tenant, add_user, body_file, outbox):
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "hanako")
    older = _posted_id(_post(runner, body_file(), "--product", "jucho", "--title", "古いお知らせ"))
    newer = _posted_id(_post(runner, body_file(), "--product", "jucho", "--title", "料金改定のお知らせ"))
    assert [m for m in outbox if "お知らせ" in m.subject] == []  # 重調 delivers on the dashboard, not by mail
    admin, staff = app.test_client(), app.test_client()
    jucho_login(admin, outbox, "juchoco", "admin")
    jucho_login(staff, outbox, "juchoco", "hanako")

    def panel(client) -> str:
        html = client.get("/").get_data(as_text=True)
        return html.split("<h2>お知らせ</h2>")[1].split("</section>")[0]

    def unread_titles(client) -> list[str]:
        return [item.split("</a>")[0].rsplit(">", 1)[1] for item in panel(client).split("<li>")[1:]
                if 'data-testid="unread"' in item]

    assert panel(admin).index("料金改定のお知らせ") < panel(admin).index("古いお知らせ")   # newest first
    assert unread_titles(admin) == unread_titles(staff) == ["料金改定のお知らせ", "古いお知らせ"]
    assert "未読のお知らせが 2 件" in panel(admin) and 'href="/notices"' in panel(admin)

    page = admin.get(f"/notices/{newer}")
    assert page.status_code == 200 and "<strong>帳票出力</strong>" in page.get_data(as_text=True)
    assert unread_titles(admin) == ["古いお知らせ"]
    assert unread_titles(staff) == ["料金改定のお知らせ", "古いお知らせ"]
    assert "未読のお知らせが 1 件" in panel(admin) and "未読のお知らせが 2 件" in panel(staff)
    admin.get(f"/notices/{newer}")  # opening again changes nothing
    listing = admin.get("/notices").get_data(as_text=True)
    assert listing.count('data-testid="unread"') == 1 and "既読" in listing
    assert older and "現在、お知らせはありません" not in panel(staff)


def test_the_list_is_paginated_newest_first(app, make_tenant):
    make_tenant("sampleco")
    with app.app_context():
        from app.models import Tenant

        tenant = Tenant.by_code("sampleco")
        for number in range(23):
            notices.create_notice(title=f"お知らせ{number:02d}", body="本文", product="sample", tenants=[tenant],
                                  operator="operator:test", publish_at=utcnow() - timedelta(minutes=30 - number))
        db.session.commit()
    client = app.test_client()
    login(client, "sampleco", "admin")
    first = client.get("/notices").get_data(as_text=True)
    assert first.count("<tr>") == 21 and "1 / 2 ページ（全23件）" in first
    assert first.index("お知らせ22") < first.index("お知らせ21") and "お知らせ02" not in first
    second = client.get("/notices?page=2").get_data(as_text=True)
    assert second.count("<tr>") == 4 and "お知らせ00" in second and "お知らせ03" not in second
    assert client.get("/notices?page=abc").status_code == 200


# --- withdraw and list ------------------------------------------------------------------------------

def test_list_and_withdraw(app, runner, make_tenant, body_file, outbox):
    make_tenant("juchoco", product="jucho")
    notice_id = _posted_id(_post(runner, body_file(), "--product", "jucho", "--title", "取り下げるお知らせ"))
    listed = runner.invoke(args=["notice", "list"])
    assert listed.exit_code == 0
    assert f"番号 {notice_id} [掲載中]" in listed.output and "配信 1/1 テナント: 取り下げるお知らせ" in listed.output
    client = app.test_client()
    jucho_login(client, outbox, "juchoco", "admin")
    assert client.get(f"/notices/{notice_id}").status_code == 200

    result = runner.invoke(args=["notice", "withdraw", str(notice_id), "--reason", "誤掲載", "--operator", "ops"])
    assert result.exit_code == 0 and "取り下げました" in result.output
    assert client.get(f"/notices/{notice_id}").status_code == 404
    assert "取り下げるお知らせ" not in client.get("/").get_data(as_text=True)
    assert f"番号 {notice_id} [取下げ]" in runner.invoke(args=["notice", "list"]).output
    again = runner.invoke(args=["notice", "withdraw", str(notice_id), "--reason", "誤掲載"])
    assert again.exit_code == 2 and "取り下げ済み" in cli_output(again)
    missing = runner.invoke(args=["notice", "withdraw", "9999", "--reason", "誤掲載"])
    assert missing.exit_code == 2 and "ありません" in cli_output(missing)
    [event] = _events(app, "notice.withdraw")
    assert event.chain_id == 0 and json.loads(event.details)["reason"] == "誤掲載"
    commands = [json.loads(e.details)["command"] for e in _events(app, "operator.access")]
    assert commands == ["notice post", "notice withdraw"]


# --- bad input ------------------------------------------------------------------------------------

def test_bad_input_is_refused_in_japanese_and_writes_nothing(app, runner, make_tenant, body_file, tmp_path):
    make_tenant("juchoco", product="jucho")
    make_tenant("sampleco")
    good = body_file()
    big = body_file("あ" * (notices.BODY_MAX + 1), name="big.md")
    sjis = body_file("シフトJISの本文", name="sjis.md", encoding="shift_jis")
    empty = body_file("   \n", name="empty.md")
    cases = [
        (["--body-file", str(tmp_path / "none.md"), "--product", "jucho", "--title", "t"], "見つかりません"),
        (["--body-file", str(tmp_path), "--product", "jucho", "--title", "t"], "フォルダ"),
        (["--body-file", big, "--product", "jucho", "--title", "t"], "文字以内"),
        (["--body-file", sjis, "--product", "jucho", "--title", "t"], "UTF-8"),
        (["--body-file", empty, "--product", "jucho", "--title", "t"], "本文が空"),
        (["--body-file", good, "--product", "nosuch", "--title", "t"], "製品コード 'nosuch' はありません"),
        (["--body-file", good, "--product", "jucho", "--tenant", "nosuch", "--title", "t"], "会社コード 'nosuch'"),
        (["--body-file", good, "--product", "jucho", "--tenant", "sampleco", "--title", "t"], "のテナントではありません"),
        (["--body-file", good, "--product", "mama", "--title", "t"], "有効なテナントがありません"),
        (["--body-file", good, "--product", "jucho", "--title", "  "], "タイトルを指定"),
        (["--body-file", good, "--product", "jucho", "--title", "x" * 201], "200文字以内"),
        (["--body-file", good, "--product", "jucho", "--title", "t", "--publish-at", "2026/12/01"], "YYYY-MM-DD HH:MM"),
        (["--body-file", good, "--product", "jucho", "--title", "t", "--publish-at", "2001-01-01 10:00"], "過去"),
        (["--body-file", good, "--product", "jucho", "--title", "t", "--audience", "everyone"], "everyone"),
    ]
    before = _count(app, AuditEvent)
    for args, message in cases:
        result = runner.invoke(args=["notice", "post", "--reason", "確認", *args])
        assert result.exit_code == 2, (args, cli_output(result))
        assert message in cli_output(result), (args, cli_output(result))
        assert "Traceback" not in cli_output(result)
    no_reason = runner.invoke(args=["notice", "post", "--body-file", good, "--product", "jucho", "--title", "t"])
    assert no_reason.exit_code == 2 and "--reason" in cli_output(no_reason)
    blank = runner.invoke(args=["notice", "post", "--body-file", good, "--product", "jucho", "--title", "t",
                                "--reason", " "])
    assert blank.exit_code == 2 and "理由（--reason）を入力してください" in cli_output(blank)
    assert _count(app, notices.Notice) == 0 and _count(app, notices.NoticeTarget) == 0
    assert _count(app, AuditEvent) == before


# --- maintenance windows announce themselves ----------------------------------------------------

def test_maintenance_schedule_posts_a_notice_to_every_product_and_cancel_withdraws_it(app, runner, make_tenant,
                                                                                     add_user, outbox):
    _mama_world(make_tenant, add_user, app, codes=("mama1",))
    make_tenant("juchoco", product="jucho")
    start_at = (utcnow() + timedelta(days=5)).astimezone(JST).replace(hour=1, minute=0, second=0, microsecond=0)
    start = start_at.strftime("%Y-%m-%d %H:%M")
    end = (start_at + timedelta(hours=2, minutes=30)).strftime("%Y-%m-%d %H:%M")
    result = runner.invoke(args=["maintenance", "schedule", "--start", start, "--end", end,
                                 "--message", "データベース更新のため", "--operator", "ops"])
    assert result.exit_code == 0, cli_output(result)
    title = f"メンテナンスのお知らせ（{start}〜{end[-5:]}）"
    assert title in result.output

    mails = _notice_mails(outbox)
    assert sorted(m.recipients[0] for m in mails) == ["admin@mama1.example.jp", "boss@mama1.example.jp"]
    assert title in mails[0].subject
    assert f"開始: {start} JST" in mails[0].body and f"終了: {end} JST（約2時間30分）" in mails[0].body
    assert "データベース更新のため" in mails[0].body
    jucho = app.test_client()
    jucho_login(jucho, outbox, "juchoco", "admin")
    assert title in jucho.get("/").get_data(as_text=True)
    notice_id = _posted_id(result)

    window_id = result.output.split("番号 ")[1].split(":")[0]
    cancelled = runner.invoke(args=["maintenance", "cancel", window_id, "--operator", "ops"])
    assert cancelled.exit_code == 0, cli_output(cancelled)
    assert f"お知らせ番号 {notice_id} を取り下げました" in cancelled.output
    assert title not in jucho.get("/").get_data(as_text=True)
    assert jucho.get(f"/notices/{notice_id}").status_code == 404
    assert [e.target for e in _events(app, "notice.withdraw")] == [f"notice:{notice_id}"]


# --- export and purge cover the tenant-owned rows ---------------------------------------------------

def test_export_holds_the_tenants_targets_and_read_marks_only(app, runner, make_tenant, add_user, body_file, outbox,
                                                              tmp_path):
    make_tenant("juchoco", product="jucho")
    make_tenant("otherco", product="jucho")
    notice_id = _posted_id(_post(runner, body_file(), "--product", "jucho", "--title", "書き出し確認"))
    for code in ("juchoco", "otherco"):
        client = app.test_client()
        jucho_login(client, outbox, code, "admin")
        assert client.get(f"/notices/{notice_id}").status_code == 200
    out = tmp_path / "juchoco.zip"
    result = runner.invoke(args=["tenant", "export", "juchoco", "--out", str(out), "--reason", "書き出しの確認"])
    assert result.exit_code == 0, cli_output(result)
    with zipfile.ZipFile(out) as archive, app.app_context():
        from app.models import Tenant

        mine = Tenant.by_code("juchoco").id
        targets = json.loads(archive.read("json/notice_targets.json"))
        reads = json.loads(archive.read("json/notice_reads.json"))
    assert [(t["notice_id"], t["tenant_id"]) for t in targets] == [(notice_id, mine)]
    assert [(r["notice_id"], r["tenant_id"]) for r in reads] == [(notice_id, mine)]
