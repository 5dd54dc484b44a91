"""The 重調@CITY blueprint and the access checks every one of its screens uses."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from app.auth.guards import deny
from app.tenancy import current_tenant

PRODUCT_CODE = "jucho"

bp = Blueprint("jucho", __name__, url_prefix="/jucho", template_folder="templates", static_folder="static")

def get_or_404(model, object_id: int):
    """The current tenant's row with this id; another tenant's id answers 404 (the core's <int:> bounds the id)."""
    from app.extensions import db

    row = db.session.get(model, object_id)
    if row is None:
        abort(404)
    return row


def _require_product() -> None:
    tenant = current_tenant()
    if tenant is None or tenant.product != PRODUCT_CODE:
        abort(404)


def member_required(view):
    """Allow any logged-in user of a 重調@CITY tenant; other products' tenants get 404."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        """Run the view for a member of this product's tenant."""
        _require_product()
        return view(*args, **kwargs)

    return wrapped


def admin_only(view):
    """Allow only 管理者 of a 重調@CITY tenant; others get 403 and an audit event."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        """Run the view for an admin of this product's tenant."""
        _require_product()
        if not current_user.is_admin:
            deny(f"endpoint:{request.endpoint}", reason="admin_only")
        return view(*args, **kwargs)

    return wrapped
