"""User administration every product's user screen shares: add, edit (role, suspend/resume), delete,
password reset, and one last-admin guard.

The guard runs *after* the change is flushed and *before* it is committed, through
``app.accounts.active_admins()``, which locks the tenant's row: two admins demoting each other at once
are checked one after the other, so the second sees the first's change. A refused change is rolled
back here and reported as :class:`UserAdminError`; the caller shows its message and commits nothing.
Every function leaves the commit to the caller.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from . import audit
from .accounts import active_admins, create_user, issue_temporary_password, set_email, set_status
from .auth.sessions import end_user_sessions
from .extensions import db
from .models import ROLE_GENERAL, Tenant, User, UserSession
from .timeutil import utcnow

LAST_ADMIN = "管理者が一人もいなくなるため、この変更はできません。"
NOT_YOURSELF_DELETE = "自分自身は削除できません。"
NOT_YOURSELF_RESET = "自分のパスワードは「パスワード変更」画面で変更してください。"

AdminCheck = Callable[[], bool]


class UserAdminError(Exception):
    """A refused user change; ``message`` is the Japanese text to show (the change was rolled back)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LastAdminError(UserAdminError):
    """The change would leave the tenant without a working 管理者."""


def has_an_admin() -> bool:
    """True while the current tenant keeps an active 管理者 (locks the tenant's row; call after flushing)."""
    return bool(active_admins())


def require_an_admin(admin_check: AdminCheck | None = None, message: str = LAST_ADMIN) -> None:
    """The last-admin guard: after a flushed change, roll it back and raise LastAdminError when the
    tenant has no admin left. ``admin_check`` is a product's stricter rule built on ``active_admins()``
    (for example: an active admin who may still open the user-administration menu)."""
    if not (admin_check or has_an_admin)():
        db.session.rollback()
        raise LastAdminError(message)


def add_user(tenant: Tenant, login_id: str, name: str, email: str | None, role: str = ROLE_GENERAL,
             password: str | None = None, actor=None) -> tuple[User, str | None]:
    """Add a user. Without ``password`` a temporary one is generated and returned; a password the admin
    typed is temporary too (must be changed at first login, expires like a generated one)."""
    user, temporary = create_user(tenant, login_id, name, email, role=role, password=password, actor=actor)
    if password is not None:
        user.must_change_password = True
        user.temp_password_expires_at = utcnow() + timedelta(hours=current_app.config["KANRI_TEMP_PASSWORD_HOURS"])
    return user, temporary


def _snapshot(user: User) -> dict:
    return {"role": user.role, "status": user.status}


def edit_user(user: User, *, name: str, email: str | None, role: str, status: str, actor=None,
              also: Callable[[], None] | None = None, snapshot: Callable[[User], dict] = _snapshot,
              admin_check: AdminCheck | None = None, message: str = LAST_ADMIN) -> list[str]:
    """Change a user's name, e-mail, role and status (suspend/resume ends sessions), guarded against
    leaving no admin; audited as ``user.update`` with ``snapshot(user)`` before and after.

    ``also`` makes the product's own changes in the same step (before the guard). Returns the personal
    fields that changed (only their names are audited).
    """
    before = snapshot(user)
    changed = [field for field, value in (("name", name), ("email", email or None))
               if (getattr(user, field) or None) != value]
    user.name = name
    set_email(user, email or None)
    user.role = role
    if also is not None:
        also()
    if status != user.status:
        set_status(user, status, actor=actor)
    db.session.flush()
    require_an_admin(admin_check, message)
    audit.record("user.update", target=f"user:{user.login_id}", actor=actor, before=before,
                 after=snapshot(user), changed_personal_fields=changed)
    return changed


def delete_user(user: User, *, actor, cleanup: Callable[[User], None] | None = None,
                admin_check: AdminCheck | None = None, message: str = LAST_ADMIN) -> str:
    """Delete a user (never oneself; never the last admin): their sessions end, ``cleanup(user)``
    deletes the product's rows; audit rows keep the login id as text. Returns the login id."""
    if actor is not None and user.id == actor.id:
        raise UserAdminError(NOT_YOURSELF_DELETE)
    login_id, before = user.login_id, {"login_id": user.login_id, "role": user.role, "status": user.status}
    end_user_sessions(user, "user_deleted", actor=actor)
    if cleanup is not None:
        cleanup(user)
    db.session.execute(sa.delete(UserSession).where(UserSession.user_id == user.id))
    db.session.delete(user)
    db.session.flush()
    require_an_admin(admin_check, message)
    audit.record("user.delete", target=f"user:{login_id}", actor=actor, before=before)
    return login_id


def reset_password(user: User, *, actor, also: Callable[[User], dict] | None = None) -> tuple[str, dict]:
    """Give another user a new temporary password and end their sessions; ``also(user)`` does the
    product's part (for example: revoke registered devices) and returns details for the ``password.reset`` audit.
    Returns the temporary password (show it once) and those details."""
    if actor is not None and user.id == actor.id:
        raise UserAdminError(NOT_YOURSELF_RESET)
    temporary = issue_temporary_password(user)
    ended = end_user_sessions(user, "password_reset", actor=actor)
    details = also(user) if also is not None else {}
    audit.record("password.reset", target=f"user:{user.login_id}", actor=actor, sessions_ended=ended, **details)
    return temporary, details
