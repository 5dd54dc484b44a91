"""User account operations shared by the core, the CLI and the product plugins."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from . import audit
from .crypto import blind_index
from .extensions import db
from .models import ROLE_ADMIN, ROLE_GENERAL, STATUS_ACTIVE, STATUS_SUSPENDED, Tenant, User
from .passwords import generate_temporary_password, hash_password, policy_errors, verify_password
from .products import plugin_manager, product_name
from .timeutil import utcnow

LOGIN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$"


def context_words(user: User | None, tenant: Tenant, login_id: str | None = None) -> list[str]:
    """Words a password must not contain: login id, company code and name, product name."""
    words = [tenant.code, tenant.name, tenant.product, product_name(tenant.product)]
    words.append(login_id or (user.login_id if user else ""))
    return [w for w in words if w]


def new_password_errors(user: User, password: str) -> list[str]:
    """Policy errors for a new password of user under the tenant's policy, including reuse of the current
    one and of the last N (the tenant's password history)."""
    from .builtins.security_center.policy import history_errors, password_min_length

    errors = policy_errors(password, context_words(user, user.tenant), min_length=password_min_length(user.tenant))
    if not errors and user.password_hash and verify_password(password, user.password_hash):
        errors = ["現在のパスワードと異なるパスワードにしてください。"]
    return errors or history_errors(user, password)


def initial_password_errors(tenant: Tenant, password: str, login_id: str) -> list[str]:
    """Policy errors for an initial password an admin types for a new user (the tenant's minimum applies)."""
    from .builtins.security_center.policy import password_min_length

    return policy_errors(password, context_words(None, tenant, login_id), min_length=password_min_length(tenant))


def find_user_by_email(email: str) -> User | None:
    """Look a user of the current tenant up by e-mail through the blind index."""
    return db.session.execute(sa.select(User).where(User.email_bidx == blind_index(email))).scalars().first()


def tenant_for_login(product, company_code: str) -> Tenant | None:
    """The tenant of product with this company code whose users may log in, or None (for reset forms)."""
    tenant = Tenant.by_code(company_code)
    if not product.owns(tenant) or not tenant.can_log_in:
        return None
    return tenant


def active_account(tenant: Tenant, identifier: str, by_email: bool = False) -> User | None:
    """An active user of tenant by login id (or, with by_email, a registered e-mail address), or None.

    The shared lookup of the products' "forgot password" forms: they answer the same page whatever this returns,
    so the form never tells whether an account exists.
    """
    from .tenancy import tenant_scope

    identifier = (identifier or "").strip()
    with tenant_scope(tenant):
        if by_email and "@" in identifier:
            user = find_user_by_email(identifier)
        else:
            user = db.session.execute(sa.select(User).where(User.login_id == identifier)).scalar_one_or_none()
        return user if user is not None and user.status == STATUS_ACTIVE else None


def login_id_taken(login_id: str) -> bool:
    """True when the current tenant already has this login id."""
    return db.session.execute(sa.select(User.id).where(User.login_id == login_id)).first() is not None


def set_email(user: User, email: str | None) -> None:
    """Set the (encrypted) e-mail address and its blind index together."""
    user.email = email.strip() if email else None
    user.email_bidx = blind_index(email, tenant_id=user.tenant_id) if email else None


def set_password(user: User, password: str) -> None:
    """Store a long-term password chosen by the user."""
    from .builtins.security_center.policy import remember_password

    user.password_hash = hash_password(password)
    user.must_change_password = False
    user.temp_password_expires_at = None
    user.password_changed_at = utcnow()
    user.failed_logins = 0
    user.locked_until = None
    remember_password(user)


def issue_temporary_password(user: User) -> str:
    """Give user a new random temporary password (72 h, change forced, as long as the tenant's minimum);
    returns it once."""
    from .builtins.security_center.policy import temporary_length

    password = generate_temporary_password(temporary_length(user.tenant))
    user.password_hash = hash_password(password)
    user.must_change_password = True
    user.temp_password_expires_at = utcnow() + timedelta(hours=current_app.config["KANRI_TEMP_PASSWORD_HOURS"])
    user.failed_logins = 0
    user.locked_until = None
    return password


def create_user(tenant: Tenant, login_id: str, name: str, email: str | None, role: str = ROLE_GENERAL,
                password: str | None = None, actor=None) -> tuple[User, str | None]:
    """Create a user in the current tenant; without password a temporary one is issued and returned."""
    if role not in (ROLE_GENERAL, ROLE_ADMIN):
        raise ValueError(f"unknown role {role!r}")
    user = User(tenant_id=tenant.id, login_id=login_id, name=name, role=role, status=STATUS_ACTIVE)
    user.tenant = tenant
    set_email(user, email)
    temporary = None
    if password is None:
        temporary = issue_temporary_password(user)
    else:
        set_password(user, password)
    db.session.add(user)
    db.session.flush()
    audit.record("user.create", tenant=tenant, actor=actor, target=f"user:{login_id}",
                 after={"login_id": login_id, "role": role, "status": STATUS_ACTIVE})
    plugin_manager().hook.user_created(tenant=tenant, user=user, actor=actor)
    return user, temporary


def active_admins() -> list[User]:
    """The current tenant's active 管理者, read under a lock on the tenant's row.

    Last-admin guards call this after flushing their change and before committing: the row lock
    (SELECT … FOR UPDATE) makes two admins demoting each other at once check one after the other,
    so the second sees the first's change.
    """
    from .tenancy import current_tenant

    db.session.execute(sa.select(Tenant.id).where(Tenant.id == current_tenant().id).with_for_update())
    return list(db.session.execute(
        sa.select(User).where(User.role == ROLE_ADMIN, User.status == STATUS_ACTIVE)).scalars())


def unlock(user: User, actor=None, actor_login: str | None = None) -> None:
    """Lift a lockout and reset the failure counter (``actor_login`` names an operator when no user acts)."""
    user.locked_until = None
    user.failed_logins = 0
    audit.record("account.unlock", tenant=user.tenant, actor=actor, actor_login=actor_login,
                 target=f"user:{user.login_id}")


def set_status(user: User, status: str, actor=None) -> None:
    """Suspend or resume a user; suspension ends every session at once."""
    from .auth.sessions import end_user_sessions

    if status not in (STATUS_ACTIVE, STATUS_SUSPENDED):
        raise ValueError(f"unknown status {status!r}")
    before = user.status
    user.status = status
    audit.record("user.suspend" if status == STATUS_SUSPENDED else "user.resume", tenant=user.tenant,
                 actor=actor, target=f"user:{user.login_id}", before={"status": before}, after={"status": status})
    if status == STATUS_SUSPENDED:
        end_user_sessions(user, "suspended", actor=actor)
