"""Stronger factors: TOTP enrolment and login (fixed clock, ±1 step, replay), recovery codes, the tenant's factor
policy (a)/(b)/(c) and admins-required in both products, lockout counting, tenant isolation and hostile input."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.builtins.strong_factors import totp
from app.builtins.strong_factors.models import RecoveryCode, TotpCredential
from app.builtins.strong_factors.summary import factor_summary
from app.extensions import db
from app.models import AuditEvent, Tenant, User
from app.tenancy import tenant_scope
from tests.conftest import PASSWORD, csrf_from, password_step, post_form
from tests.jucho_helpers import CODE_PAGE, code_from, jucho_login, submit_code
from tests.mama_helpers import DEVICE_PAGE, enter_code, issue_code, login_with_code, logout
from tests.strong_factor_helpers import (
    STRONG_PAGE,
    Clock,
    code_at,
    enrol_totp,
    newest_session,
    open_qr_page,
    set_policy,
)


@pytest.fixture
def mama(app, make_tenant, add_user):
    make_tenant("mama1", product="mama")
    add_user("mama1", "emp")
    return "mama1"


@pytest.fixture
def jucho(app, make_tenant, add_user):
    make_tenant("jucho1", product="jucho")
    add_user("jucho1", "emp")
    return "jucho1"


def _audit(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
                                  .execution_options(all_tenants=True)).scalars().all()
        db.session.expunge_all()
        return rows


def _mama_with_totp(client, app, clock, login_id="emp"):
    login_with_code(client, app, "mama1", login_id)
    secret, codes = enrol_totp(client, clock)
    logout(client)
    return secret, codes


def _strong_step(client, code):
    return post_form(client, STRONG_PAGE, {"code": code})


# --- TOTP itself ---------------------------------------------------------------------------------------------

def test_totp_accepts_one_step_either_side_and_refuses_used_steps():
    secret = totp.new_secret()
    now = Clock().now
    step = int(now.timestamp()) // 30
    assert totp.matching_step(secret, code_at(secret, now), now, None) == step
    assert totp.matching_step(secret, code_at(secret, now - timedelta(seconds=30)), now, None) == step - 1
    assert totp.matching_step(secret, code_at(secret, now + timedelta(seconds=30)), now, None) == step + 1
    assert totp.matching_step(secret, code_at(secret, now - timedelta(seconds=60)), now, None) is None
    assert totp.matching_step(secret, code_at(secret, now + timedelta(seconds=60)), now, None) is None
    assert totp.matching_step(secret, code_at(secret, now), now, step) is None  # replay of the same step
    assert totp.matching_step(secret, code_at(secret, now - timedelta(seconds=30)), now, step) is None  # older
    spaced = code_at(secret, now)
    assert totp.matching_step(secret, f"{spaced[:3]} {spaced[3:]}", now, None) == step
    assert totp.matching_step(secret, "１２３４５６", now, None) in (None, step)  # full-width digits are read


def test_enrolment_shows_qr_once_stores_secret_encrypted_and_issues_recovery_codes(app, client, mama, clock, outbox):
    login_with_code(client, app, "mama1", "emp")
    intro = client.get("/account/factors/totp").get_data(as_text=True)
    assert "totp-secret" not in intro and "QRコードを表示" in intro  # opening the page changes nothing
    page, _ = open_qr_page(client)
    assert post_form(client, "/account/factors/totp", {}).headers["Cache-Control"] == "no-store"
    page, _ = open_qr_page(client)
    assert 'src="data:image/svg+xml;base64,' in page and "data-testid=\"totp-secret\"" in page
    wrong = client.post("/account/factors/totp/confirm", data={"csrf_token": csrf_from(page), "code": "000000"})
    assert wrong.status_code == 422 and "コードが正しくありません" in wrong.get_data(as_text=True)
    secret, codes = enrol_totp(client, clock)
    assert len(codes) == 10 and len(set(codes)) == 10
    with app.app_context():
        raw = db.session.execute(sa.text("SELECT secret FROM strong_factor_totp")).scalar_one()
        assert secret not in raw
        stored = db.session.execute(sa.text("SELECT code_hash FROM strong_factor_recovery_codes")).scalars().all()
        assert len(stored) == 10 and not any(code.replace("-", "") in h for code in codes for h in stored)
    again = client.get("/account/factors/totp")
    assert again.status_code == 302  # active: the QR code and key are never shown again
    assert "totp-secret" not in client.get("/account/factors").get_data(as_text=True)
    assert [e.outcome for e in _audit(app, "strong_factors.totp_confirmed")] == ["failure", "success"]
    assert all(secret not in e.details for e in _audit(app, "strong_factors.totp_started"))


# --- policy (a): the product's factor stays, the stronger one comes first --------------------------------------

def test_mama_policy_a_asks_totp_then_the_device(app, mama, clock, new_client=None):
    client = app.test_client()
    secret, _ = _mama_with_totp(client, app, clock)
    clock.now += timedelta(seconds=30)
    response = password_step(client, "mama1", "emp", PASSWORD)
    assert response.headers["Location"].endswith(STRONG_PAGE)
    assert client.get(DEVICE_PAGE).status_code == 302  # the device screen does not open before the stronger step
    response = _strong_step(client, code_at(secret, clock.now))
    assert response.status_code == 302 and response.headers["Location"].endswith(DEVICE_PAGE)
    response = client.get(DEVICE_PAGE)  # this browser carries the approved device
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert client.get("/").status_code == 200
    assert newest_session(app, "mama1", "emp").stronger_factor == "totp"


def test_jucho_policy_a_asks_totp_then_the_mailed_code(app, jucho, clock, outbox):
    client = app.test_client()
    jucho_login(client, outbox, "jucho1", "emp")
    secret, _ = enrol_totp(client, clock)
    logout(client)
    clock.now += timedelta(seconds=30)
    password_step(client, "jucho1", "emp", PASSWORD)
    response = _strong_step(client, code_at(secret, clock.now))
    assert response.headers["Location"].endswith(CODE_PAGE)
    before = len(outbox)
    client.get(CODE_PAGE)
    assert len(outbox) == before + 1
    response = submit_code(client, code_from(outbox[-1]))
    assert response.status_code == 302 and client.get("/").status_code == 200
    assert newest_session(app, "jucho1", "emp").stronger_factor == "totp"


def test_user_without_stronger_factor_keeps_the_product_factor_in_every_mode(app, mama, jucho, outbox):
    for mode in ("additional", "replace"):
        set_policy(app, "mama1", mode)
        set_policy(app, "jucho1", mode)
        client = app.test_client()
        assert password_step(client, "mama1", "emp", PASSWORD).headers["Location"].endswith(DEVICE_PAGE)
        assert client.get(STRONG_PAGE).status_code == 302  # no stronger step to skip the device with
        client = app.test_client()
        assert password_step(client, "jucho1", "emp", PASSWORD).headers["Location"].endswith(CODE_PAGE)


# --- policy (b): the stronger factor replaces the product's for those who have one ----------------------------

def test_mama_policy_b_totp_replaces_the_device_on_a_new_browser(app, mama, clock):
    secret, _ = _mama_with_totp(app.test_client(), app, clock)
    set_policy(app, "mama1", "replace")
    fresh = app.test_client()  # no device cookie at all
    password_step(fresh, "mama1", "emp", PASSWORD)
    response = _strong_step(fresh, code_at(secret, clock.now + timedelta(seconds=30)))
    assert response.status_code == 302 and response.headers["Location"].endswith("/")
    assert fresh.get("/").status_code == 200
    assert fresh.get("/account/factors").status_code == 200  # the device guard accepts the stronger login
    assert newest_session(app, "mama1", "emp").stronger_factor == "totp"


def test_jucho_policy_b_totp_replaces_the_mailed_code(app, jucho, clock, outbox):
    client = app.test_client()
    jucho_login(client, outbox, "jucho1", "emp")
    secret, _ = enrol_totp(client, clock)
    logout(client)
    set_policy(app, "jucho1", "replace")
    before = len(outbox)
    password_step(client, "jucho1", "emp", PASSWORD)
    response = _strong_step(client, code_at(secret, clock.now + timedelta(seconds=30)))
    assert response.headers["Location"].endswith("/") and client.get("/").status_code == 200
    assert len(outbox) == before  # no login code was mailed


def test_mama_session_without_device_or_stronger_factor_is_ended(app, mama):
    """The device guard fails closed: only the device factor or a stronger factor opens a MAMA session."""
    from app.auth.sessions import create_session

    with app.test_request_context("/"):
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "mama1")).scalar_one()
        with tenant_scope(tenant):
            user = db.session.execute(sa.select(User).where(User.login_id == "emp")).scalar_one()
            token = create_session(user)
            db.session.commit()
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
    response = client.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# --- policy (c) and admins-required: enrolment right after the product's factor -------------------------------

def test_jucho_policy_c_sends_users_without_a_factor_to_enrolment_before_any_page(app, jucho, clock, outbox):
    set_policy(app, "jucho1", "both")
    client = app.test_client()
    jucho_login(client, outbox, "jucho1", "emp")
    for url in ("/", "/account/sessions", "/jucho/requests"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].endswith("/account/factors"), url
    page = client.get("/account/factors").get_data(as_text=True)
    assert "登録が必要です" in page
    enrol_totp(client, clock)
    assert client.get("/").status_code == 200


def test_mama_policy_c_and_admins_required(app, mama, clock):
    set_policy(app, "mama1", "additional", admins_required=True)
    admin, emp = app.test_client(), app.test_client()
    login_with_code(admin, app, "mama1", "admin")
    login_with_code(emp, app, "mama1", "emp")
    assert admin.get("/").headers["Location"].endswith("/account/factors")
    assert emp.get("/").status_code == 200  # the rule is for administrators only
    set_policy(app, "mama1", "both", admins_required=True)
    assert emp.get("/").headers["Location"].endswith("/account/factors")
    enrol_totp(admin, clock)
    assert admin.get("/").status_code == 200


# --- replay, wrong codes and lockout -------------------------------------------------------------------------

def test_a_used_code_is_refused_in_the_same_time_step(app, mama, clock):
    secret, _ = _mama_with_totp(app.test_client(), app, clock)
    set_policy(app, "mama1", "replace")
    clock.now += timedelta(seconds=30)
    code = code_at(secret, clock.now)
    first = app.test_client()
    password_step(first, "mama1", "emp", PASSWORD)
    assert _strong_step(first, code).headers["Location"].endswith("/")
    second = app.test_client()
    password_step(second, "mama1", "emp", PASSWORD)
    replay = _strong_step(second, code)
    assert replay.status_code == 422 and "コードが正しくありません" in replay.get_data(as_text=True)
    old = _strong_step(second, code_at(secret, clock.now - timedelta(seconds=30)))
    assert old.status_code == 422  # an older step than the one used is refused as well


def test_five_wrong_codes_end_the_login_and_ten_in_an_hour_lock_the_account(app, mama, clock):
    secret, _ = _mama_with_totp(app.test_client(), app, clock)
    client = app.test_client()
    password_step(client, "mama1", "emp", PASSWORD)
    for left in (4, 3, 2, 1):
        response = _strong_step(client, "999999")
        assert response.status_code == 422 and f"あと{left}回" in response.get_data(as_text=True)
    response = _strong_step(client, "999999")
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert client.get(STRONG_PAGE).status_code == 302  # the login is void
    password_step(client, "mama1", "emp", PASSWORD)
    for _ in range(5):
        response = _strong_step(client, "999999")
    assert _audit(app, "account.locked")[-1].target == "user:emp"
    locked = password_step(client, "mama1", "emp", PASSWORD)
    assert locked.status_code == 200 and "正しくありません" in locked.get_data(as_text=True)


# --- recovery codes -------------------------------------------------------------------------------------------

def test_recovery_code_works_once_is_mailed_and_audited(app, mama, clock, outbox):
    _, codes = _mama_with_totp(app.test_client(), app, clock)
    set_policy(app, "mama1", "replace")
    client = app.test_client()
    password_step(client, "mama1", "emp", PASSWORD)
    before = len(outbox)
    response = _strong_step(client, codes[0].upper())
    assert response.headers["Location"].endswith("/")
    assert len(outbox) == before + 1 and "リカバリーコードが使用されました" in outbox[-1].subject
    assert codes[0] not in outbox[-1].body and "残りのリカバリーコードは 9 個" in outbox[-1].body
    event = _audit(app, "strong_factors.recovery_used")[-1]
    assert codes[0] not in event.details and codes[0].replace("-", "") not in event.details
    again = app.test_client()
    password_step(again, "mama1", "emp", PASSWORD)
    assert _strong_step(again, codes[0]).status_code == 422
    assert newest_session(app, "mama1", "emp").stronger_factor == "recovery"


def test_regenerating_recovery_codes_needs_the_password_and_voids_the_old_ones(app, mama, clock):
    client = app.test_client()
    login_with_code(client, app, "mama1", "emp")
    _, old = enrol_totp(client, clock)
    wrong = post_form(client, "/account/factors/recovery", {"confirmed": "yes", "password": "wrong"})
    assert wrong.status_code == 422 and "パスワードが正しくありません" in wrong.get_data(as_text=True)
    one_click = post_form(client, "/account/factors/recovery", {"password": PASSWORD})
    assert one_click.status_code == 200 and "再発行しますか" in one_click.get_data(as_text=True)
    done = post_form(client, "/account/factors/recovery", {"confirmed": "yes", "password": PASSWORD})
    new = [line for line in done.get_data(as_text=True).split("<code>")[1:]]
    assert len(new) == 10
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(RecoveryCode)
                                  .execution_options(all_tenants=True)).scalar_one() == 10
    logout(client)
    set_policy(app, "mama1", "replace")
    password_step(client, "mama1", "emp", PASSWORD)
    assert _strong_step(client, old[0]).status_code == 422


def test_removing_totp_needs_the_password_and_takes_the_recovery_codes(app, mama, clock):
    client = app.test_client()
    login_with_code(client, app, "mama1", "emp")
    enrol_totp(client, clock)
    page = client.get("/account/factors/totp/remove")
    assert page.status_code == 200 and "認証アプリを削除しますか" in page.get_data(as_text=True)
    wrong = post_form(client, "/account/factors/totp/remove", {"confirmed": "yes", "password": "nope"})
    assert wrong.status_code == 422
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count()).select_from(TotpCredential)
                                  .execution_options(all_tenants=True)).scalar_one() == 1
    done = post_form(client, "/account/factors/totp/remove", {"confirmed": "yes", "password": PASSWORD})
    assert done.status_code == 302
    with app.app_context():
        for model in (TotpCredential, RecoveryCode):
            assert db.session.execute(sa.select(sa.func.count()).select_from(model)
                                      .execution_options(all_tenants=True)).scalar_one() == 0
    assert [e.outcome for e in _audit(app, "strong_factors.totp_removed")] == ["failure", "success"]
    assert password_step(app.test_client(), "mama1", "emp", PASSWORD).headers["Location"].endswith(DEVICE_PAGE)


def _checked(html: str) -> str:
    """The value of the checked policy radio button."""
    import re

    return re.search(r'<input checked[^>]*value="(\w+)"', html).group(1)


# --- the policy page -------------------------------------------------------------------------------------------

def test_policy_page_is_for_admins_and_every_change_is_audited(app, mama, jucho, outbox):
    emp = app.test_client()
    login_with_code(emp, app, "mama1", "emp")
    assert emp.get("/admin/security/factors").status_code == 403
    admin = app.test_client()
    login_with_code(admin, app, "mama1", "admin")
    page = admin.get("/admin/security/factors").get_data(as_text=True)
    assert "登録端末" in page and _checked(page) == "additional"
    response = post_form(admin, "/admin/security/factors", {"mode": "replace"})
    assert response.status_code == 302
    event = _audit(app, "strong_factors.policy")[-1]
    assert '"mode": "replace"' in event.details and '"mode_before": "additional"' in event.details
    bad = post_form(admin, "/admin/security/factors", {"mode": "none"})
    assert bad.status_code == 422 and "error-summary" in bad.get_data(as_text=True)
    post_form(admin, "/admin/security/factors", {"mode": "replace", "admins_required": "y"})
    event = _audit(app, "strong_factors.policy")[-1]
    assert '"admins_required": true' in event.details and '"admins_required_before": false' in event.details
    # The admin has no stronger factor: from now on every page sends them to the registration first.
    assert admin.get("/admin/security/factors").headers["Location"].endswith("/account/factors")
    jadmin = app.test_client()
    jucho_login(jadmin, outbox, "jucho1", "admin")
    jpage = jadmin.get("/admin/security/factors").get_data(as_text=True)
    assert _checked(jpage) == "additional" and "メール" in jpage  # the other tenant keeps its own policy


# --- isolation, hostile input and the summary -----------------------------------------------------------------

def test_factor_summary_and_tenant_isolation(app, mama, make_tenant, add_user, clock):
    make_tenant("mama2", product="mama")
    add_user("mama2", "emp")
    _mama_with_totp(app.test_client(), app, clock)
    with app.app_context():
        ids = dict(db.session.execute(sa.select(User.tenant_id, User.id).where(User.login_id == "emp")
                                      .execution_options(all_tenants=True)).all())
        tenants = dict(db.session.execute(sa.select(Tenant.code, Tenant.id)).all())
        summary = factor_summary(tenants["mama1"])
        other = factor_summary(tenants["mama2"])
        assert factor_summary(999999) == {}
    emp1 = ids[tenants["mama1"]]
    assert summary[emp1] == {"passkeys": 0, "totp": True, "recovery_codes_left": 10}
    assert emp1 not in other and all(not v["totp"] for v in other.values())
    stranger = app.test_client()
    login_with_code(stranger, app, "mama2", "emp")
    assert stranger.get("/account/factors/totp/remove").status_code == 404  # someone else's app is not theirs


def test_overview_lists_each_users_stronger_factors_through_the_hook(app, mama, clock):
    _mama_with_totp(app.test_client(), app, clock)
    admin = app.test_client()
    login_with_code(admin, app, "mama1", "admin")
    page = admin.get("/admin/security/overview").get_data(as_text=True)
    assert "認証アプリ" in page and "パスキー" in page and "リカバリーコード残り" in page
    csv = admin.get("/admin/security/overview.csv").get_data(as_text=True)
    emp = next(line for line in csv.splitlines() if "emp" in line)
    admin_line = next(line for line in csv.splitlines() if ",admin," in line or line.startswith("admin,"))
    assert "登録済み" in emp and "10" in emp
    assert "登録済み" not in admin_line


def test_an_authenticator_app_spares_the_user_from_the_ip_restriction_for_weak_bindings(app, mama, clock):
    from app.builtins.ip_restriction.service import has_strong_binding

    _mama_with_totp(app.test_client(), app, clock)
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "mama1")).scalar_one()
        with tenant_scope(tenant):
            users = {u.login_id: u for u in db.session.execute(sa.select(User)).scalars()}
            assert has_strong_binding(tenant, users["emp"]) is True   # TOTP, no device
            assert not has_strong_binding(tenant, users["admin"])     # neither


@pytest.mark.parametrize("typed", ["", " ", "12345", "1234567", "abc\x00def", "' OR 1=1 --", "９" * 6 + "x", "a" * 41,
                                   "<script>alert(1)</script>"])
def test_hostile_codes_get_a_japanese_message(app, mama, clock, typed):
    _mama_with_totp(app.test_client(), app, clock)
    client = app.test_client()
    password_step(client, "mama1", "emp", PASSWORD)
    response = _strong_step(client, typed)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and ("入力" in html or "正しくありません" in html)


def test_hostile_passkey_responses_are_refused_with_a_message(app, mama):
    client = app.test_client()
    login_with_code(client, app, "mama1", "emp")
    for raw in ("", "not json", "[]", '{"id": 1}', "{" * 5000):
        response = post_form(client, "/account/factors", {"name": "ノートPC", "response": raw},
                             action="/account/factors/passkeys")
        assert response.status_code == 422, raw
        assert "パスキー" in response.get_data(as_text=True)
    too_long = post_form(client, "/account/factors", {"name": "あ" * 65, "response": "{}"},
                         action="/account/factors/passkeys")
    assert too_long.status_code == 422 and "64文字以内" in too_long.get_data(as_text=True)


def test_options_need_csrf_and_a_login(app, mama):
    anonymous = app.test_client()
    assert anonymous.post("/account/factors/passkeys/options").status_code in (302, 400)
    client = app.test_client()
    login_with_code(client, app, "mama1", "emp")
    assert client.post("/account/factors/passkeys/options").status_code == 400
    token = csrf_from(client.get("/account/factors").get_data(as_text=True))
    options = client.post("/account/factors/passkeys/options", data={"csrf_token": token})
    assert options.status_code == 200 and options.json["rp"]["id"] == "localhost" or options.json["rp"]["id"]
    assert options.json["authenticatorSelection"]["userVerification"] == "required"


def test_enter_code_helper_still_works_for_users_without_stronger_factor(app, mama):
    client = app.test_client()
    code = issue_code(app, "mama1", "emp")
    password_step(client, "mama1", "emp", PASSWORD)
    assert enter_code(client, code).status_code == 302


def _stored_passkey(app, tenant_code: str, login_id: str, name: str) -> int:
    """A passkey row as registration stores it (the browser test registers real ones through WebAuthn)."""
    from webauthn.helpers import bytes_to_base64url

    from app.builtins.strong_factors.models import Passkey

    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == tenant_code)).scalar_one()
        with tenant_scope(tenant):
            user = db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one()
            key = Passkey(user_id=user.id, name=name, credential_id=bytes_to_base64url(f"cred-{tenant_code}-{login_id}".encode()),
                          public_key=b"\x01", sign_count=3)
            db.session.add(key)
            db.session.commit()
            return key.id


def test_passkeys_are_listed_removed_after_the_password_and_foreign_ones_answer_404(app, mama, make_tenant, add_user):
    make_tenant("mama2", product="mama")
    add_user("mama2", "emp")
    client = app.test_client()
    login_with_code(client, app, "mama1", "emp")
    own = _stored_passkey(app, "mama1", "emp", "会社のノートPC")
    foreign = _stored_passkey(app, "mama2", "emp", "よその鍵")
    page = client.get("/account/factors").get_data(as_text=True)
    assert "会社のノートPC" in page and "未使用" in page and "よその鍵" not in page
    assert client.get(f"/account/factors/passkeys/{foreign}/remove").status_code == 404
    assert post_form(client, "/account/factors", {"confirmed": "yes", "password": PASSWORD},
                     action=f"/account/factors/passkeys/{foreign}/remove").status_code == 404
    confirm = client.get(f"/account/factors/passkeys/{own}/remove").get_data(as_text=True)
    assert "パスキーを削除しますか" in confirm and "会社のノートPC" in confirm
    done = post_form(client, f"/account/factors/passkeys/{own}/remove", {"confirmed": "yes", "password": PASSWORD})
    assert done.status_code == 302
    after = client.get("/account/factors").get_data(as_text=True)
    assert "パスキー「会社のノートPC」を削除しました" in after and "パスキーは登録されていません" in after
    assert '"name": "会社のノートPC"' in _audit(app, "strong_factors.passkey_removed")[-1].details


def test_a_passkey_holder_gets_the_stronger_step_and_a_forged_assertion_is_refused(app, mama):
    _stored_passkey(app, "mama1", "emp", "鍵")
    client = app.test_client()
    assert password_step(client, "mama1", "emp", PASSWORD).headers["Location"].endswith(STRONG_PAGE)
    page = client.get(STRONG_PAGE).get_data(as_text=True)
    assert "パスキーでログイン" in page
    options = client.post("/login/stronger/passkey/options", data={"csrf_token": csrf_from(page)})
    credential = options.json["allowCredentials"]
    assert options.status_code == 200 and [c["id"] for c in credential] == ["Y3JlZC1tYW1hMS1lbXA"]
    forged = '{"id": "Y3JlZC1tYW1hMS1lbXA", "rawId": "Y3JlZC1tYW1hMS1lbXA", "type": "public-key", "response": {}}'
    response = client.post("/login/stronger/passkey", data={"csrf_token": csrf_from(page), "response": forged})
    assert response.status_code == 302 and response.headers["Location"].endswith(STRONG_PAGE)
    assert "パスキーで認証できませんでした" in client.get(STRONG_PAGE).get_data(as_text=True)
    assert client.get("/").status_code == 302  # not logged in


def test_admin_resets_the_factors_of_a_user_who_lost_them(app, mama, make_tenant, add_user, clock, outbox):
    make_tenant("mama2", product="mama")
    add_user("mama2", "emp")
    _mama_with_totp(app.test_client(), app, clock)
    admin = app.test_client()
    login_with_code(admin, app, "mama1", "admin")
    page = admin.get("/admin/security/factors").get_data(as_text=True)
    assert "factor-holders" in page and ">emp<" in page.replace("\n", "").replace(" ", "")
    with app.app_context():
        ids = dict(db.session.execute(sa.select(User.tenant_id, User.id).where(User.login_id == "emp")
                                      .execution_options(all_tenants=True)).all())
        tenants = dict(db.session.execute(sa.select(Tenant.code, Tenant.id)).all())
    own, foreign = ids[tenants["mama1"]], ids[tenants["mama2"]]
    assert admin.get(f"/admin/security/factors/users/{foreign}/reset").status_code == 404
    assert "強い認証要素をリセットしますか" in admin.get(f"/admin/security/factors/users/{own}/reset").get_data(as_text=True)
    before = len(outbox)
    done = post_form(admin, f"/admin/security/factors/users/{own}/reset", {"confirmed": "yes"})
    assert done.status_code == 302
    assert len(outbox) == before + 1 and "リセットされました" in outbox[-1].subject
    assert '"authenticator_apps": 1' in _audit(app, "strong_factors.reset")[-1].details
    assert password_step(app.test_client(), "mama1", "emp", PASSWORD).headers["Location"].endswith(DEVICE_PAGE)
    emp = app.test_client()
    login_with_code(emp, app, "mama1", "emp")
    assert emp.get(f"/admin/security/factors/users/{own}/reset").status_code == 403
