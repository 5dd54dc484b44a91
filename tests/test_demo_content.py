"""`flask demo` (and so `make run`) gives each product a manual to download, a notice and a FAQ to open."""
from __future__ import annotations

import re

from tests.conftest import cli_output
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import login_with_code

DEMO_TITLE = "デモ環境へようこそ"


def _demo_logins(runner) -> dict[tuple[str, str], str]:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, cli_output(result)
    assert "マニュアル: MAMAシステム 第1.0版を公開しました" in result.output
    assert "マニュアル: 重調@CITY 第1.0版を公開しました" in result.output
    assert f"お知らせ: 「{DEMO_TITLE}」を2テナントに掲載しました" in result.output
    logins, company = {}, None
    for line in result.output.splitlines():
        found = re.search(r"会社コード: (\S+)", line)
        if found:
            company = found.group(1)
        found = re.search(r"ログインID: (\w+)\s+パスワード: (\S+)", line)
        if found:
            logins[(company, found.group(1))] = found.group(2)
    return logins


def test_jucho_demo_user_sees_the_notice_unread_downloads_the_manual_and_opens_the_faq(app, client, runner, outbox):
    logins = _demo_logins(runner)
    jucho_login(client, outbox, "demo-jucho", "staff", logins[("demo-jucho", "staff")])
    page = client.get("/").get_data(as_text=True)
    assert DEMO_TITLE in page and "未読" in page

    manuals = client.get("/manual").get_data(as_text=True)
    link = re.search(r'href="(/manual/\d+/download)"', manuals)
    assert link, manuals
    pdf = client.get(link.group(1))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")

    faq = client.get("/faq/jucho")
    assert faq.status_code == 200 and "認証コード" in faq.get_data(as_text=True)


def test_mama_demo_admin_was_mailed_the_notice_and_sees_it_listed(app, client, runner, outbox):
    logins = _demo_logins(runner)
    mailed = [m for m in outbox if DEMO_TITLE in m.subject]
    assert [m.recipients for m in mailed] == [["admin@demo-mama.example.jp"]]
    assert not [m for m in outbox if "staff@demo-mama" in m.recipients[0] and DEMO_TITLE in m.subject]

    login_with_code(client, app, "demo-mama", "admin", logins[("demo-mama", "admin")])
    listing = client.get("/notices", follow_redirects=True).get_data(as_text=True)
    assert DEMO_TITLE in listing


def test_a_second_demo_run_adds_no_second_notice_or_manual(app, runner, outbox):
    _demo_logins(runner)
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0, cli_output(again)
    assert "マニュアル:" not in again.output and "お知らせ:" not in again.output


def test_jucho_demo_has_full_building_profiles_and_forty_units_without_arrears_for_staff(app, client, runner, outbox):
    logins = _demo_logins(runner)
    jucho_login(client, outbox, "demo-jucho", "staff", logins[("demo-jucho", "staff")])
    buildings = client.get("/jucho/buildings?q=パークハウス新宿").get_data(as_text=True)
    building_id = re.search(r'href="/jucho/buildings/(\d+)"', buildings).group(1)
    detail = client.get(f"/jucho/buildings/{building_id}").get_data(as_text=True)
    assert "住戸一覧（40戸）" in detail and "国土交通大臣(5)第012345号" in detail and "有（使用料なし）" in detail
    units = client.get(f"/jucho/buildings/{building_id}/units").get_data(as_text=True)
    assert ">302<" in units and ">805<" in units and "滞納" not in units and "45,000" not in units


def test_jucho_demo_has_an_issued_report_sent_to_the_broker(app, client, runner, outbox):
    logins = _demo_logins(runner)
    sent = [m for m in outbox if "重要事項調査報告書のご送付" in m.subject]
    assert [m.recipients for m in sent] == [["chukai@sample-fudosan.example.jp"]]
    link = re.search(r"http://localhost(/jucho/demo-jucho/r/\S+)", sent[0].body)
    assert link, sent[0].body
    jucho_login(client, outbox, "demo-jucho", "admin", logins[("demo-jucho", "admin")])
    issued = client.get("/jucho/requests?status=issued").get_data(as_text=True)
    request_id = re.search(r'href="/jucho/requests/(\d+)"', issued).group(1)
    page = client.get(f"/jucho/requests/{request_id}/delivery").get_data(as_text=True)
    assert 'data-testid="delivery-row"' in page and "chukai@sample-fudosan.example.jp" in page
    assert "発行済みの報告書はまだありません" not in page
    broker = app.test_client().get(link.group(1))  # the broker's link works (the PDF after the landing page)
    assert broker.status_code == 200
