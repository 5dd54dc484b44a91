"""The 申請状況 page of a device registration request: a browser-bound, expiring, hashed status token.

After 「登録を申請」 the requesting browser gets a random 256-bit token in an HttpOnly cookie; only its sha256 is
stored on the device row. The page answers for that browser's own request and nothing else, without a login.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app.extensions import db
from app.models import Tenant
from app.queryargs import cookie_tokens, token_length
from app.tenancy import set_current_tenant
from app.timeutil import utcnow

from .models import MamaDevice

STATUS_COOKIE = "kanri-mama-device-status"
STATUS_HOURS = 72
STATUS_TOKEN_BYTES = 32
STATUS_TOKEN_LENGTH = token_length(STATUS_TOKEN_BYTES)
REFRESH_SECONDS = 15


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def cookie_name() -> str:
    """The status cookie's name; '__Host-' prefixed when cookies are Secure."""
    secure = current_app.config.get("SESSION_COOKIE_SECURE")
    return f"__Host-{STATUS_COOKIE}" if secure else STATUS_COOKIE


def issue_status_token(device: MamaDevice) -> str:
    """Give device a fresh status token (STATUS_HOURS); returns the token for the cookie, stores its hash."""
    token = secrets.token_urlsafe(STATUS_TOKEN_BYTES)
    device.status_token_hash = _hash(token)
    device.status_token_expires_at = utcnow() + timedelta(hours=STATUS_HOURS)
    return token


def set_status_cookie(response, token: str) -> None:
    """Put the status token in an HttpOnly, SameSite=Lax cookie that lives as long as the token."""
    response.set_cookie(cookie_name(), token, max_age=STATUS_HOURS * 3600, path="/", httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))


def device_of_status_cookie() -> MamaDevice | None:
    """The device whose unexpired status token this browser holds, or None; its tenant becomes the current one.

    The browser is not logged in, so there is no current tenant yet: the row is found by the token's hash across
    tenants (an explicit opt-out of scoping, reading only its id and tenant), then loaded inside its own tenant.
    """
    tokens = cookie_tokens(cookie_name(), limit=1, length=STATUS_TOKEN_LENGTH)
    if not tokens:
        return None
    found = db.session.execute(
        sa.select(MamaDevice.id, MamaDevice.tenant_id).where(MamaDevice.status_token_hash == _hash(tokens[0]),
                                                             MamaDevice.status_token_expires_at > utcnow())
        .execution_options(all_tenants=True)).one_or_none()
    if found is None:
        return None
    set_current_tenant(db.session.get(Tenant, found.tenant_id))
    return db.session.get(MamaDevice, found.id)
