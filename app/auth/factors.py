"""The hand-off between the core's password step and a product's second factor."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, redirect, session, url_for
from flask_login import login_user

from .. import audit
from ..extensions import db
from ..models import Tenant, User
from ..security import is_safe_next
from ..tenancy import set_current_tenant, tenant_scope
from ..timeutil import utcnow
from .sessions import create_session

PENDING_KEY = "kanri_pending_login"


@dataclass(frozen=True)
class SecondFactor:
    """What a product's ``second_factor`` hook returns: its name and the endpoint that runs it."""

    name: str
    label: str
    endpoint: str


@dataclass
class PendingLogin:
    """A login whose password was right and whose second factor is still open."""

    tenant: Tenant
    user: User
    nonce: str
    factor: str
    next_url: str | None


def start_pending_login(user: User, factor: SecondFactor, next_url: str | None) -> None:
    """Replace the browser session with a pending login that lives a few minutes."""
    minutes = current_app.config["KANRI_PENDING_LOGIN_MINUTES"]
    session.clear()
    session[PENDING_KEY] = {
        "tenant_id": user.tenant_id,
        "user_id": user.id,
        "nonce": secrets.token_urlsafe(16),
        "factor": factor.name,
        "expires": (utcnow() + timedelta(minutes=minutes)).timestamp(),
        "next": next_url,
    }


def pending_login() -> PendingLogin | None:
    """Return the open pending login of this browser (and make its tenant current), or None."""
    data = session.get(PENDING_KEY)
    if not data:
        return None
    if utcnow().timestamp() > data["expires"]:
        session.pop(PENDING_KEY, None)
        return None
    tenant = db.session.get(Tenant, data["tenant_id"])
    if tenant is None:
        return None
    set_current_tenant(tenant)
    user = db.session.get(User, data["user_id"])
    if user is None or not user.is_active or not tenant.can_log_in:
        session.pop(PENDING_KEY, None)
        return None
    return PendingLogin(tenant, user, data["nonce"], data["factor"], data.get("next"))


def complete_login(pending: PendingLogin, factor_name: str):
    """Finish a login after the factor succeeded (fresh session, server record, audit); returns the redirect."""
    if pending.factor != factor_name:
        raise PermissionError("the factor that completed is not the one this login started")
    user = pending.user
    session.clear()  # no value from before authentication survives (session fixation)
    with tenant_scope(pending.tenant):
        create_session(user)
        user.last_login_at = utcnow()
        login_user(user)
        audit.record("login.success", target=f"user:{user.login_id}", actor=user, factor=factor_name)
        db.session.commit()
    set_current_tenant(pending.tenant)
    if user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return redirect(pending.next_url if is_safe_next(pending.next_url) else url_for("main.dashboard"))


MAX_PENDING_EXTENSION = timedelta(minutes=15)


def extend_pending_login(until) -> None:
    """Let the pending login live until ``until`` (a factor whose proof outlives 5 minutes, e.g. a
    10-minute e-mail code). Never shortens it, and never beyond 15 minutes from now."""
    data = session.get(PENDING_KEY)
    if not data:
        return
    until = min(until, utcnow() + MAX_PENDING_EXTENSION)
    if until.timestamp() > data["expires"]:
        session[PENDING_KEY] = {**data, "expires": until.timestamp()}


def abandon_pending_login() -> None:
    """Drop the pending login (the factor failed for good or the user cancelled)."""
    session.pop(PENDING_KEY, None)
