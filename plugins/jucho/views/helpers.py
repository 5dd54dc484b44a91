"""The access checks every 重調@CITY screen uses, and the tenant-scoped 404 lookup."""
from __future__ import annotations

from functools import wraps

from flask import abort, request
from flask_login import current_user, login_required

from app.auth.guards import deny
from app.queryargs import choice_arg
from app.tenancy import current_tenant

from .. import PRODUCT
from ..listing import Sorting


def get_or_404(model, object_id: int):
    """The current tenant's row with this id; another tenant's id answers 404 (the core's <int:> bounds the id)."""
    from app.extensions import db

    row = db.session.get(model, object_id)
    if row is None:
        abort(404)
    return row


def sorting(columns: dict, default: str) -> Sorting:
    """Read sort= and dir= against a whitelist of column keys."""
    return Sorting(key=choice_arg("sort", columns, default), descending=choice_arg("dir", ("asc", "desc"), "asc") == "desc")


def _require_product() -> None:
    tenant = current_tenant()
    if tenant is None or tenant.product != PRODUCT.code:
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
