"""IPアドレス制限: the allow list page, enforcement at the password step and on every request, the proxy, the scopes,
the lock-out guard and its 15-minute undo, tenant isolation and hostile input."""
from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from tests.conftest import PASSWORD, csrf_from, login, password_step
from tests.ip_restriction_helpers import PAGE, ended_reasons, events, from_address, save, stored, textarea

OFFICE = "203.0.113.0/24 # 本社"
OUTSIDE = "198.51.100.7"


@pytest.fixture
def acme(make_tenant, add_user):
    """A sample-product tenant with its admin and a 一般 user 'emp'."""
    info = make_tenant("acme")
    add_user("acme", "emp")
    return info


def _admin(app, address: str = "203.0.113.10"):
    client = from_address(app.test_client(), address)
    login(client, "acme", "admin")
    return client


def test_admin_saves_a_list_and_the_change_is_audited_with_counts(app, acme):
    admin = _admin(app)
    response = save(admin, "all", f"# 拠点\n{OFFICE}\n2001:db8::/32 # 大阪（IPv6）\n192.0.2.5\n")
    assert response.status_code == 302
    page = admin.get(PAGE).get_data(as_text=True)
    assert "IPアドレス制限を保存しました（対象: 全員、許可リスト 3件）" in page
    assert "203.0.113.0/24 # 本社" in page and "2001:db8::/32 # 大阪（IPv6）" in page
    assert 'data-testid="ip-undo-button"' in page
    scope, networks, version = stored(app, "acme")
    assert (scope, networks, version) == ("all", ["203.0.113.0/24", "2001:db8::/32", "192.0.2.5"], 1)
    [(outcome, details)] = events(app, "acme", "ip_restriction.update")
    assert outcome == "success"
    assert details["added"] == 3 and details["removed"] == 0 and details["entries"] == 3
    assert details["scope_before"] == "off" and details["scope_after"] == "all"
    assert "203.0.113.0" not in str(details)  # counts, never the list


def test_per_line_errors_in_japanese_and_nothing_saved(app, acme):
    admin = _admin(app)
    response = save(admin, "all", "203.0.113.0/24\n# ok\n10.0.0.300\n2001:db8::/129\n")
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "3行目: 「10.0.0.300」はIPアドレスでもCIDRでもありません。" in body
    assert "4行目: 「2001:db8::/129」はIPアドレスでもCIDRでもありません。" in body
    assert "10.0.0.300" in body  # what was typed is still in the textarea
    assert stored(app, "acme") == ("off", [], 0)


def test_host_bits_are_cleared_and_the_user_is_told(app, acme):
    admin = _admin(app)
    save(admin, "all", "203.0.113.10/24\n203.0.113.0/24\n")
    page = admin.get(PAGE).get_data(as_text=True)
    assert "1行目: 「203.0.113.10/24」はホスト部を0にして「203.0.113.0/24」として保存しました。" in page
    assert "2行目: 「203.0.113.0/24」は1行目と重複するため1件にまとめました。" in page
    assert stored(app, "acme")[1] == ["203.0.113.0/24"]


def test_a_thousand_entries_are_saved_and_enforced(app, acme, add_user):
    admin = _admin(app)
    lines = [f"10.{i // 250}.{i % 250}.0/24 # 拠点{i}" for i in range(1000)] + ["2001:db8::/32", "203.0.113.0/24"]
    assert save(admin, "all", "\n".join(lines)).status_code == 302
    assert len(stored(app, "acme")[1]) == 1002
    inside = from_address(app.test_client(), "10.3.249.77")
    login(inside, "acme", "emp")
    assert inside.get("/").status_code == 200
    outside = from_address(app.test_client(), OUTSIDE)
    response = password_step(outside, "acme", "emp", PASSWORD)
    assert response.status_code == 200
    assert f"このIPアドレス（{OUTSIDE}）からはご利用いただけません。" in response.get_data(as_text=True)


def test_password_step_refuses_before_any_factor_and_counts_a_failed_login(app, acme):
    admin = _admin(app)
    save(admin, "all", OFFICE)
    outside = from_address(app.test_client(), OUTSIDE)
    response = password_step(outside, "acme", "emp", PASSWORD)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "/sample/confirm" not in response.headers.get("Location", "")
    assert f"このIPアドレス（{OUTSIDE}）からはご利用いただけません。" in body
    assert outside.get("/sample/confirm").status_code in (302, 303)  # no pending login to finish
    assert ("failure", {"reason": "ip_restricted"}) in [(o, {"reason": d.get("reason")})
                                                       for o, d in events(app, "acme", "login.failure")]
    # A wrong password from outside says nothing about the restriction.
    wrong = password_step(outside, "acme", "emp", "wrong password 123").get_data(as_text=True)
    assert "IPアドレス" not in wrong


def test_a_session_from_a_now_refused_address_gets_the_refusal_page(app, acme):
    admin = _admin(app)
    user = from_address(app.test_client(), "203.0.113.50")
    login(user, "acme", "emp")
    assert user.get("/").status_code == 200
    save(admin, "all", OFFICE)
    from_address(user, OUTSIDE)
    response = user.get("/")
    body = response.get_data(as_text=True)
    assert response.status_code == 403
    assert "このIPアドレスからはご利用いただけません" in body
    assert f'data-testid="ip-refused-address">{OUTSIDE}<' in body
    assert "管理者" in body and "許可リストに追加" in body
    assert user.get("/favicon.ico").status_code == 403  # every request, not only the first
    assert user.get("/").status_code == 403
    assert [d["reason"] for _, d in events(app, "acme", "ip_restriction.refused")] == ["ip_restricted"]  # once
    assert ended_reasons(app, "acme") == []
    # Back at the office the same session simply goes on.
    from_address(user, "203.0.113.50")
    assert user.get("/").status_code == 200


def test_logging_out_still_works_from_a_refused_address(app, acme):
    admin = _admin(app)
    user = from_address(app.test_client(), "203.0.113.50")
    login(user, "acme", "emp")
    token = csrf_from(user.get("/").get_data(as_text=True))
    save(admin, "all", OFFICE)
    from_address(user, OUTSIDE)
    assert user.post("/logout", data={"csrf_token": token}).status_code == 302
    assert ended_reasons(app, "acme") == ["logout"]


def test_the_list_is_re_read_by_another_process_when_it_changes(app, acme, base_config):
    """Each process caches the parsed list per tenant; the tenant row's version tells it to re-read."""
    from app import create_app

    other_process = create_app({**base_config, "KANRI_AUDIT_ANCHOR_DIR": app.config["KANRI_AUDIT_ANCHOR_DIR"]})
    admin = _admin(app)
    save(admin, "all", f"{OFFICE}\n{OUTSIDE}")
    user = from_address(other_process.test_client(), OUTSIDE)
    login(user, "acme", "emp")
    assert user.get("/").status_code == 200  # cached there with OUTSIDE allowed
    save(admin, "all", OFFICE)
    assert user.get("/").status_code == 403


@pytest.mark.parametrize("proxy", [0, 1])
def test_forged_x_forwarded_for_never_bypasses(app, acme, proxy):
    app.config["KANRI_PROXY_FIX"] = proxy  # read at create_app: rebuild below
    from app import create_app

    proxied = create_app({**app.config, "KANRI_PROXY_FIX": proxy})
    admin = from_address(proxied.test_client(), "203.0.113.10")
    admin.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.10"
    login(admin, "acme", "admin")
    save(admin, "all", OFFICE)
    client = from_address(proxied.test_client(), OUTSIDE)
    # The attacker adds an allowed address in front: a proxy appends the real peer, ProxyFix takes the last one.
    client.environ_base["HTTP_X_FORWARDED_FOR"] = f"203.0.113.10, {OUTSIDE}" if proxy else "203.0.113.10"
    body = password_step(client, "acme", "emp", PASSWORD).get_data(as_text=True)
    assert f"このIPアドレス（{OUTSIDE}）からはご利用いただけません。" in body


def test_behind_the_proxy_the_forwarded_address_counts_ipv4_and_ipv6(app, acme):
    from app import create_app

    proxied = create_app({**app.config, "KANRI_PROXY_FIX": 1})
    admin = from_address(proxied.test_client(), "10.0.0.2")  # the proxy's own address, never in the list
    admin.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.10"
    login(admin, "acme", "admin")
    save(admin, "all", f"{OFFICE}\n2001:db8:1::/48 # 大阪")
    v6 = from_address(proxied.test_client(), "10.0.0.2")
    v6.environ_base["HTTP_X_FORWARDED_FOR"] = "2001:db8:1:0:ffff::9"
    login(v6, "acme", "emp")
    assert v6.get("/").status_code == 200
    v6.environ_base["HTTP_X_FORWARDED_FOR"] = "2001:db8:2::9"
    response = v6.get("/")
    assert response.status_code == 403 and "2001:db8:2::9" in response.get_data(as_text=True)
    # Without a forwarded address the proxy's own (not listed) address is what counts.
    bare = from_address(proxied.test_client(), "10.0.0.2")
    assert "このIPアドレス（10.0.0.2）" in password_step(bare, "acme", "emp", PASSWORD).get_data(as_text=True)


def test_ipv6_socket_peer_and_ipv4_mapped_addresses(app, acme):
    admin = _admin(app)
    save(admin, "all", f"{OFFICE}\n2001:db8::/32")
    v6 = from_address(app.test_client(), "2001:db8::1")
    login(v6, "acme", "emp")
    assert v6.get("/").status_code == 200
    mapped = from_address(app.test_client(), "::ffff:203.0.113.99")
    login(mapped, "acme", "emp")
    assert mapped.get("/").status_code == 200
    other = from_address(app.test_client(), "2001:db9::1")
    assert "2001:db9::1" in password_step(other, "acme", "emp", PASSWORD).get_data(as_text=True)


def test_admins_only_scope(app, acme):
    admin = _admin(app)
    save(admin, "admins", OFFICE)
    user = from_address(app.test_client(), OUTSIDE)
    login(user, "acme", "emp")
    assert user.get("/").status_code == 200
    second_admin = from_address(app.test_client(), OUTSIDE)
    assert "ご利用いただけません" in password_step(second_admin, "acme", "admin", PASSWORD).get_data(as_text=True)


def test_scope_off_keeps_the_list_but_restricts_nobody(app, acme):
    admin = _admin(app)
    save(admin, "off", OFFICE)
    assert stored(app, "acme")[:2] == ("off", ["203.0.113.0/24"])
    user = from_address(app.test_client(), OUTSIDE)
    login(user, "acme", "emp")
    assert user.get("/").status_code == 200


def test_an_empty_list_cannot_restrict(app, acme):
    admin = _admin(app)
    response = save(admin, "all", "# まだ決めていない\n")
    assert response.status_code == 422
    assert "許可するIPアドレスを1件以上入力してください" in response.get_data(as_text=True)
    assert stored(app, "acme")[2] == 0


def test_only_admins_open_the_page(app, acme):
    user = from_address(app.test_client(), "203.0.113.20")
    login(user, "acme", "emp")
    assert user.get(PAGE).status_code == 403
    token = csrf_from(user.get("/").get_data(as_text=True))
    assert user.post(PAGE, data={"csrf_token": token, "scope": "all", "entries": "0.0.0.0/0"}).status_code == 403
    assert stored(app, "acme")[2] == 0


def test_lock_out_guard_asks_then_saves_then_the_mailed_link_undoes_from_the_refused_address(app, acme, outbox):
    admin = _admin(app, OUTSIDE)
    response = save(admin, "all", OFFICE)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="confirm-ip-lockout"' in body
    assert "あなた自身がアクセスできなくなります" in body and OUTSIDE in body
    assert stored(app, "acme")[2] == 0  # nothing saved yet
    response = save(admin, "all", OFFICE, confirmed=True)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-testid="ip-locked-out"' in body
    link = re.search(r'href="(http://localhost/ip-restriction/undo/[^"]+)"', body).group(1)
    assert stored(app, "acme")[:2] == ("all", ["203.0.113.0/24"])
    [mail] = [m for m in outbox if "元に戻すリンク" in m.subject]
    assert link in mail.body and mail.recipients == ["admin@acme.example.jp"]
    assert admin.get("/").status_code == 403  # the admin is refused now
    path = link.removeprefix("http://localhost")
    page = admin.get(path)
    assert page.status_code == 200 and 'data-testid="confirm-ip-undo"' in page.get_data(as_text=True)
    done = admin.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True)), "confirmed": "yes"})
    assert done.status_code == 200 and "変更前の設定に戻しました" in done.get_data(as_text=True)
    assert stored(app, "acme")[:2] == ("off", [])
    [(outcome, details)] = events(app, "acme", "ip_restriction.undo")
    assert outcome == "success" and details["via"] == "link" and details["scope_after"] == "off"
    assert events(app, "acme", "ip_restriction.update")[0][1]["locks_out_self"] is True
    # Single use; the second try is in the tenant's log.
    assert admin.get(path).status_code == 404
    assert events(app, "acme", "ip_restriction.undo")[-1][0] == "failure"
    assert admin.get("/").status_code == 200  # the same session works again
    # A browser without a session can use a link too (the mailed one, opened elsewhere).
    body = save(admin, "all", OFFICE, confirmed=True).get_data(as_text=True)
    path = re.search(r'href="http://localhost(/ip-restriction/undo/[^"]+)"', body).group(1)
    fresh = from_address(app.test_client(), "192.0.2.99")
    page = fresh.get(path)
    fresh.post(path, data={"csrf_token": csrf_from(page.get_data(as_text=True)), "confirmed": "yes"})
    assert stored(app, "acme")[:2] == ("off", [])


def test_the_undo_link_expires_after_fifteen_minutes(app, acme, outbox):
    from app.builtins.ip_restriction.models import IpRestrictionUndo
    from app.timeutil import utcnow

    admin = _admin(app, OUTSIDE)
    body = save(admin, "all", OFFICE, confirmed=True).get_data(as_text=True)
    path = re.search(r'href="http://localhost(/ip-restriction/undo/[^"]+)"', body).group(1)
    with app.app_context():
        db.session.execute(sa.update(IpRestrictionUndo).values(expires_at=utcnow())
                           .execution_options(all_tenants=True))
        db.session.commit()
    response = admin.get(path)
    assert response.status_code == 404 and "このリンクは使えません" in response.get_data(as_text=True)
    assert stored(app, "acme")[:2] == ("all", ["203.0.113.0/24"])


def test_a_guessed_undo_link_is_refused(app, acme):
    client = app.test_client()
    assert client.get("/ip-restriction/undo/not-a-real-token").status_code == 404
    assert client.get("/ip-restriction/undo/" + "x" * 500).status_code == 404


def test_the_undo_button_restores_the_previous_settings_once(app, acme):
    admin = _admin(app)
    save(admin, "all", OFFICE)
    save(admin, "admins", f"{OFFICE}\n192.0.2.0/24")
    token = csrf_from(admin.get(PAGE).get_data(as_text=True))
    assert admin.post("/admin/security/ip/undo", data={"csrf_token": token}).status_code == 302
    assert stored(app, "acme")[:2] == ("all", ["203.0.113.0/24"])
    assert "IPアドレス制限を変更前の設定に戻しました。" in admin.get(PAGE).get_data(as_text=True)
    # The older change's undo was superseded by the newer one: nothing more to undo.
    token = csrf_from(admin.get(PAGE).get_data(as_text=True))
    admin.post("/admin/security/ip/undo", data={"csrf_token": token})
    assert "元に戻せる変更はありません" in admin.get(PAGE).get_data(as_text=True)
    assert stored(app, "acme")[:2] == ("all", ["203.0.113.0/24"])
    assert [d["via"] for _, d in events(app, "acme", "ip_restriction.undo")] == ["button"]


def test_tenants_are_isolated(app, acme, make_tenant):
    make_tenant("other")
    admin = _admin(app)
    save(admin, "all", OFFICE)
    other = from_address(app.test_client(), OUTSIDE)
    login(other, "other", "admin")
    page = other.get(PAGE).get_data(as_text=True)
    assert other.get("/").status_code == 200 and textarea(page) == ""
    assert 'data-testid="ip-undo-button"' not in page
    token = csrf_from(page)
    other.post("/admin/security/ip/undo", data={"csrf_token": token})
    assert stored(app, "acme")[:2] == ("all", ["203.0.113.0/24"])
    # acme's undo link in a browser logged in to another tenant does nothing there.
    body = save(admin, "admins", "192.0.2.0/24", confirmed=True).get_data(as_text=True)  # locks acme's admin out
    path = re.search(r'href="http://localhost(/ip-restriction/undo/[^"]+)"', body).group(1)
    assert other.get(path).status_code == 404
    assert other.post(path, data={"csrf_token": token, "confirmed": "yes"}).status_code == 404
    assert stored(app, "acme")[:2] == ("admins", ["192.0.2.0/24"])


@pytest.mark.parametrize("text", [
    "1.2.3.4\x00\n", "1.2.3.4 # メモ\x1b[31m\n", "\u2028", "\n".join(f"10.{i // 256}.{i % 256}.1" for i in range(6000)), "a" * 450_000,
    "1.2.3.4 # " + "長" * 500, "::::\n" * 100, "1.2.3.4/-1\n1.2.3.4/\n/24\n", "%s%n{}<script>\n",
])
def test_hostile_input_never_500_and_saves_nothing(app, acme, text):
    admin = _admin(app)
    response = save(admin, "all", text)
    assert response.status_code == 422, response.status_code
    assert 'data-testid="error-summary"' in response.get_data(as_text=True)
    assert stored(app, "acme")[2] == 0


def test_a_bad_scope_is_refused(app, acme):
    admin = _admin(app)
    assert save(admin, "everyone-but-me", OFFICE).status_code == 422
    assert stored(app, "acme")[2] == 0


def test_operator_switches_a_locked_out_tenant_off_with_a_reason(app, acme, runner):
    admin = _admin(app)
    save(admin, "all", "192.0.2.0/24", confirmed=True)  # the only admin locks everyone out
    assert runner.invoke(args=["ip-restriction", "off", "acme"]).exit_code == 2  # a reason is required
    result = runner.invoke(args=["ip-restriction", "status", "acme", "--reason", "問い合わせ #77"])
    assert result.exit_code == 0 and "制限の対象 全員、許可リスト 1件" in result.output
    result = runner.invoke(args=["ip-restriction", "off", "acme", "--reason", "問い合わせ #77", "--operator", "ops-sato"])
    assert result.exit_code == 0, result.output
    assert stored(app, "acme")[:2] == ("off", ["192.0.2.0/24"])
    assert admin.get("/").status_code == 200
    [_, (outcome, details)] = events(app, "acme", "ip_restriction.update")
    assert details["scope_after"] == "off"
    accesses = [d for _, d in events(app, "acme", "operator.access")]
    assert [a["command"] for a in accesses] == ["ip-restriction status", "ip-restriction off"]
    assert accesses[-1]["reason"] == "問い合わせ #77"


def test_a_body_far_beyond_the_limit_is_refused_without_a_500(app, acme):
    admin = _admin(app)
    token = csrf_from(admin.get(PAGE).get_data(as_text=True))
    response = admin.post(PAGE, data={"csrf_token": token, "scope": "all", "entries": "10.0.0.1\n" * 200_000})
    assert response.status_code == 422
    assert "入力が長すぎます（400,000文字まで）。" in response.get_data(as_text=True)
    assert stored(app, "acme")[2] == 0
