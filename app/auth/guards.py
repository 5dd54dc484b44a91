"""Per-request loading of the session user and the checks every view relies on."""
from __future__ import annotations

from functools import wraps

from flask import Flask, abort, flash, g, redirect, request, session, url_for
from flask_login import current_user, login_required, logout_user

from .. import audit
from ..extensions import db, login_manager
from ..products import plugin_manager
from ..tenancy import current_tenant
from .sessions import load_session

# Endpoints a user who must change the password may still reach.
_CHANGE_PASSWORD_ALLOWED = {"auth.change_password", "auth.logout", "static"}


@login_manager.user_loader
def _load_user(token: str):
    return load_session(token)


def _load_user_early():
    # Resolve the session before any view so the tenant scope is set for every query.
    if request.endpoint == "static":
        return None
    if not current_user.is_authenticated and g.get("session_refusal") is not None:
        logout_user()
        session.clear()
        flash(g.session_refusal.message, "warning")
        return redirect(url_for("auth.login"))
    if current_user.is_authenticated and current_user.must_change_password \
            and request.endpoint not in _CHANGE_PASSWORD_ALLOWED:
        return redirect(url_for("auth.change_password"))
    if current_user.is_authenticated and request.endpoint not in _CHANGE_PASSWORD_ALLOWED:
        gate = plugin_manager().hook.session_gate(tenant=current_tenant(), user=current_user._get_current_object(),
                                                  endpoint=request.endpoint)
        if gate is not None:
            return redirect(url_for(gate))
    return None


def admin_required(view):
    """Allow only logged-in 管理者; others get 403 and an audit event."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_admin:
            deny(f"endpoint:{request.endpoint}", reason="admin_only")
        return view(*args, **kwargs)

    return wrapped


def product_required(code: str, admin: bool = False):
    """View decorator for a product's pages: logged in, the current tenant's product is ``code``.

    Another product's tenant gets 404 (the page does not exist for it: no existence oracle). With
    ``admin=True`` a user who is not 管理者 gets :func:`deny` (403 and an audit event). A product's own
    finer checks (per-menu permissions) wrap or follow this one.
    """

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            tenant = current_tenant()
            if tenant is None or tenant.product != code:
                abort(404)
            if admin and not current_user.is_admin:
                deny(f"endpoint:{request.endpoint}", reason="admin_only")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def deny(target: str, **details):
    """Audit an access-control failure and answer 403."""
    audit.record("access.denied", outcome="failure", target=target, **details)
    db.session.commit()
    abort(403)


def init_app(app: Flask) -> None:
    """Install the early session load."""
    app.before_request(_load_user_early)
