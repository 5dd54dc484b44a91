"""Helpers for MAMA tests: the password step plus the registered-device step, and database peeks."""
from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, User
from app.tenancy import tenant_scope
from tests.conftest import PASSWORD, csrf_from, post_form

DEVICE_PAGE = "/mama/device"
NOT_REGISTERED = "この端末は登録されていません"


@contextmanager
def in_tenant(app, tenant_code: str):
    """Run the block inside an app context with tenant_code as the current tenant."""
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == tenant_code)).scalar_one()
        with tenant_scope(tenant):
            yield tenant


def get_user(login_id: str) -> User:
    """The user of the current tenant with this login id."""
    return db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one()


def issue_code(app, tenant_code: str, login_id: str) -> str:
    """Issue a registration code for a user as an operator would."""
    from plugins.mama import devices

    with in_tenant(app, tenant_code):
        code = devices.issue_code(get_user(login_id), "test")
        db.session.commit()
        return code


def password_step(client, company: str, login_id: str, password: str = PASSWORD):
    """Submit the login form; returns the (unfollowed) response."""
    return post_form(client, "/login", {"company_code": company, "login_id": login_id, "password": password,
                                        "next": ""})


def enter_code(client, code: str):
    """On the device page, submit a registration code; returns the response."""
    page = client.get(DEVICE_PAGE)
    return client.post("/mama/device/code", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                   "code": code})


def send_request(client, name: str = ""):
    """On the device page, send a registration request; returns the response."""
    page = client.get(DEVICE_PAGE)
    return client.post("/mama/device/request", data={"csrf_token": csrf_from(page.get_data(as_text=True)),
                                                      "name": name})


def login_with_code(client, app, company: str, login_id: str, password: str = PASSWORD):
    """Log in on a fresh browser by registering it with a newly issued code; returns the final response."""
    code = issue_code(app, company, login_id)
    response = password_step(client, company, login_id, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(DEVICE_PAGE)
    response = enter_code(client, code)
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def login(client, company: str, login_id: str, password: str = PASSWORD):
    """Log in on a browser that already carries an approved device; returns the device step's response."""
    response = password_step(client, company, login_id, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(DEVICE_PAGE)


def logout(client):
    """Log out through the navigation's POST form."""
    page = client.get("/")
    return client.post("/logout", data={"csrf_token": csrf_from(page.get_data(as_text=True))})


def mama_tenant(make_tenant, code: str = "mama1"):
    """A MAMA tenant with an admin 'admin' (password PASSWORD)."""
    return make_tenant(code, product="mama")


def audit_actions(app, tenant_code: str) -> list[tuple[str, str, str]]:
    """(action, outcome, target) of every audit row of a tenant, oldest first."""
    from app.models import AuditEvent

    with in_tenant(app, tenant_code) as tenant:
        rows = db.session.execute(
            sa.select(AuditEvent.action, AuditEvent.outcome, AuditEvent.target)
            .where(AuditEvent.chain_id == tenant.id).order_by(AuditEvent.seq)).all()
        return [tuple(row) for row in rows]


def audit_details(app, tenant_code: str, action: str) -> list[dict]:
    """The details of a tenant's audit rows with this action."""
    import json

    from app.models import AuditEvent

    with in_tenant(app, tenant_code) as tenant:
        rows = db.session.execute(sa.select(AuditEvent.details).where(
            AuditEvent.chain_id == tenant.id, AuditEvent.action == action).order_by(AuditEvent.seq)).scalars()
        return [json.loads(row) for row in rows]


def home_count(client, label: str) -> int | None:
    """The number ホーム's count list shows for ``label`` (None when the line is not there)."""
    import re

    html = client.get("/").get_data(as_text=True)
    match = re.search(rf'<span class="count-label">{re.escape(label)}</span>\s*<[^>]*class="count-value">([\d,]+)', html)
    return int(match.group(1).replace(",", "")) if match else None


def admin_client(app, make_tenant, code: str = "mama1"):
    """A tenant and a test client logged in as its admin through a registration code."""
    info = mama_tenant(make_tenant, code)
    client = app.test_client()
    login_with_code(client, app, code, "admin")
    return info, client
