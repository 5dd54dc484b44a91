"""IPアドレス制限 in both products: MAMA (the device scope through ``user_has_strong_binding``) and 重調@CITY."""
from __future__ import annotations

from tests.conftest import PASSWORD, password_step
from tests.ip_restriction_helpers import PAGE, events, from_address, save, stored
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import DEVICE_PAGE, in_tenant, login_with_code
from tests.mama_helpers import password_step as mama_password_step

OFFICE = "203.0.113.0/24 # 本社"
OUTSIDE = "198.51.100.7"


def _mama_admin(app, make_tenant):
    make_tenant("mama1", product="mama")
    admin = from_address(app.test_client(), "203.0.113.10")
    login_with_code(admin, app, "mama1", "admin")
    return admin


def test_mama_admin_saves_and_a_mama_session_outside_is_refused(app, make_tenant, add_user):
    admin = _mama_admin(app, make_tenant)
    add_user("mama1", "emp")
    user = from_address(app.test_client(), "203.0.113.20")
    login_with_code(user, app, "mama1", "emp")
    assert user.get("/").status_code == 200
    assert save(admin, "all", OFFICE).status_code == 302
    assert stored(app, "mama1")[:2] == ("all", ["203.0.113.0/24"])
    from_address(user, OUTSIDE)
    response = user.get("/mama/associations")
    assert response.status_code == 403 and OUTSIDE in response.get_data(as_text=True)


def test_mama_device_scope_spares_users_with_an_approved_device(app, make_tenant, add_user):
    from plugins.mama.devices import has_approved_device
    from tests.mama_helpers import get_user

    admin = _mama_admin(app, make_tenant)
    add_user("mama1", "emp")
    add_user("mama1", "newcomer")
    emp = from_address(app.test_client(), "203.0.113.21")
    login_with_code(emp, app, "mama1", "emp")
    save(admin, "weak", OFFICE)
    # The hook answers for MAMA: an approved device is a strong binding.
    with in_tenant(app, "mama1") as tenant:
        from app.builtins.ip_restriction.service import has_strong_binding

        assert has_approved_device(get_user("emp")) and has_strong_binding(tenant, get_user("emp"))
        assert not has_approved_device(get_user("newcomer")) and not has_strong_binding(tenant, get_user("newcomer"))
    from_address(emp, OUTSIDE)
    assert emp.get("/").status_code == 200  # registered device: outside is fine
    newcomer = from_address(app.test_client(), OUTSIDE)
    response = mama_password_step(newcomer, "mama1", "newcomer", PASSWORD)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and f"このIPアドレス（{OUTSIDE}）" in body
    assert not response.headers.get("Location", "").endswith(DEVICE_PAGE)  # no device registration from outside
    inside = from_address(app.test_client(), "203.0.113.22")
    assert mama_password_step(inside, "mama1", "newcomer", PASSWORD).headers["Location"].endswith(DEVICE_PAGE)


def test_jucho_admin_saves_and_the_password_step_refuses_outside(app, make_tenant, add_user, outbox):
    make_tenant("juchoco", product="jucho")
    add_user("juchoco", "emp")
    admin = from_address(app.test_client(), "203.0.113.10")
    jucho_login(admin, outbox, "juchoco", "admin")
    page = admin.get(PAGE)
    assert page.status_code == 200 and "IPアドレス制限" in page.get_data(as_text=True)
    assert save(admin, "weak", f"{OFFICE}\n2001:db8::/32").status_code == 302
    outside = from_address(app.test_client(), OUTSIDE)
    before = len(outbox)
    body = password_step(outside, "juchoco", "emp", PASSWORD).get_data(as_text=True)
    assert f"このIPアドレス（{OUTSIDE}）からはご利用いただけません。" in body
    assert len(outbox) == before  # no code mailed: refused before the factor
    # 重調 has no device: in the "weak" scope everyone is restricted, and v6 inside the list passes.
    v6 = from_address(app.test_client(), "2001:db8::77")
    jucho_login(v6, outbox, "juchoco", "emp")
    assert v6.get("/").status_code == 200
    [(outcome, details)] = events(app, "juchoco", "ip_restriction.update")
    assert details["scope_after"] == "weak" and details["entries"] == 2
