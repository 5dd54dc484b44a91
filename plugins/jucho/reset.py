"""Self-service password reset links: signed, 30 minutes, single use (bound to the current password hash)."""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from app.accounts import active_account, tenant_for_login
from app.extensions import db
from app.mailer import send_mail
from app.models import STATUS_ACTIVE, AuditEvent, Tenant, User
from app.queryargs import URLSAFE_ALPHABET, token_shaped
from app.tenancy import tenant_scope
from app.timeutil import utcnow
from app.urls import external_url

from . import PRODUCT

SALT = "kanri.jucho.password-reset.v1"
MAX_AGE_SECONDS = 30 * 60
# Per account, whoever asks from wherever: a link at most once a minute and 5 times an hour (no mail bombing).
MAIL_COOLDOWN = timedelta(seconds=60)
MAILS_PER_HOUR = 5


@dataclass
class ResetTarget:
    """The tenant and user a valid link belongs to, or why the link was refused."""

    tenant: Tenant | None = None
    user: User | None = None
    reason: str | None = None


TOKEN_ALPHABET = URLSAFE_ALPHABET | {"."}  # URLSafeTimedSerializer: base64url parts joined by dots


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def fingerprint(user: User) -> str:
    """A keyed digest of the password hash and the e-mail address: a password or address change voids older links."""
    key = current_app.config["SECRET_KEY"].encode("utf-8")
    message = f"reset|{user.id}|{user.password_hash or ''}|{user.email_bidx or ''}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:32]


def make_token(user: User) -> str:
    """A signed, timestamped token naming tenant and user and pinned to the current password."""
    return _serializer().dumps({"t": user.tenant_id, "u": user.id, "f": fingerprint(user)})


def find_jucho_tenant(code: str) -> Tenant | None:
    """The 重調@CITY tenant with this company code that can log in, or None (a MAMA company code is None too)."""
    return tenant_for_login(PRODUCT, code)


def find_account(tenant: Tenant, identifier: str) -> User | None:
    """An active user of tenant with an e-mail address, by login id or registered e-mail (blind index), or None."""
    user = active_account(tenant, identifier, by_email=True)
    return user if user is not None and user.email else None


def too_many_links(user: User) -> bool:
    """True when this account was mailed a link in the last minute or 5 in the last hour (current tenant)."""
    now = utcnow()
    sent = db.session.execute(
        sa.select(AuditEvent.occurred_at).where(
            AuditEvent.action == "jucho.reset.request", AuditEvent.outcome == "success",
            AuditEvent.actor_id == user.id, AuditEvent.occurred_at >= now - timedelta(hours=1))
    ).scalars().all()
    return len(sent) >= MAILS_PER_HOUR or any(now - when < MAIL_COOLDOWN for when in sent)


def read_token(token: str) -> ResetTarget:
    """Check a link: signature, 30-minute age, tenant still usable, password unchanged since it was made."""
    if token_shaped(token, max_length=500, alphabet=TOKEN_ALPHABET) is None:  # not something make_token made
        return ResetTarget(reason="bad_signature")
    try:
        data = _serializer().loads(token, max_age=MAX_AGE_SECONDS)
    except SignatureExpired:
        return ResetTarget(reason="expired")
    except BadSignature:
        return ResetTarget(reason="bad_signature")
    if not isinstance(data, dict) or not {"t", "u", "f"} <= data.keys():
        return ResetTarget(reason="bad_signature")
    tenant = db.session.get(Tenant, data["t"])
    if not PRODUCT.owns(tenant) or not tenant.can_log_in:
        return ResetTarget(reason="tenant_unavailable")
    with tenant_scope(tenant):
        user = db.session.get(User, data["u"])
        if user is None or user.status != STATUS_ACTIVE:
            return ResetTarget(tenant=tenant, reason="user_unavailable")
        if not hmac.compare_digest(str(data["f"]), fingerprint(user)):
            return ResetTarget(tenant=tenant, user=user, reason="already_used")
    return ResetTarget(tenant=tenant, user=user)


def mail_reset_link(tenant: Tenant, user: User) -> None:
    """Queue the one-time link with the request's audit row; the response never waits for SMTP (timing tells nobody who exists)."""
    link = external_url("jucho.reset_password", token=make_token(user))
    send_mail(user.email, "パスワード再設定のご案内", "jucho/email/reset_link", secret=True, user=user, tenant=tenant, link=link,
              minutes=MAX_AGE_SECONDS // 60)
