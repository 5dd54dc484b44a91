"""Helpers for the stronger-factor tests: a settable clock for TOTP, enrolment through the pages, policy changes."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pyotp
import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, User, UserSession
from app.tenancy import tenant_scope
from tests.conftest import csrf_from, post_form

STRONG_PAGE = "/login/stronger"
_SECRET = re.compile(r'data-testid="totp-secret">([A-Z2-7 ]+)<')
_RECOVERY = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


class Clock:
    """The time the TOTP checks see (tests move it by hand; nothing waits)."""

    def __init__(self):
        self.now = datetime(2026, 12, 1, 1, 0, 10, tzinfo=UTC)

    def __call__(self):
        return self.now


def code_at(secret: str, when: datetime) -> str:
    """The authenticator app's code for ``when``."""
    return pyotp.TOTP(secret).at(when)


def open_qr_page(client) -> tuple[str, str]:
    """Press 「QRコードを表示」 on /account/factors/totp; returns (the page's HTML, the secret it shows)."""
    page = post_form(client, "/account/factors/totp", {})
    assert page.status_code == 200, page.get_data(as_text=True)
    html = page.get_data(as_text=True)
    return html, _SECRET.search(html).group(1).replace(" ", "")


def enrol_totp(client, clock: Clock) -> tuple[str, list[str]]:
    """Register an authenticator app on /account/factors/totp; returns (secret, recovery codes shown)."""
    html, secret = open_qr_page(client)
    done = client.post("/account/factors/totp/confirm", data={"csrf_token": csrf_from(html),
                                                               "code": code_at(secret, clock.now)})
    assert done.status_code in (200, 302), done.get_data(as_text=True)
    return secret, _RECOVERY.findall(done.get_data(as_text=True))


def set_policy(app, tenant_code: str, mode: str, admins_required: bool = False) -> None:
    """Save a tenant's factor policy directly (the policy page has its own tests)."""
    from app.builtins.strong_factors.policy import set_policy as save

    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == tenant_code)).scalar_one()
        with tenant_scope(tenant):
            save(mode, admins_required, None)
            db.session.commit()


def newest_session(app, tenant_code: str, login_id: str) -> UserSession:
    """The user's newest server-side session row."""
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == tenant_code)).scalar_one()
        with tenant_scope(tenant):
            user = db.session.execute(sa.select(User).where(User.login_id == login_id)).scalar_one()
            row = db.session.execute(sa.select(UserSession).where(UserSession.user_id == user.id)
                                     .order_by(UserSession.id.desc())).scalars().first()
            db.session.expunge_all()
            return row
