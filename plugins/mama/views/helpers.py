"""Small helpers the MAMA views share: safe query arguments, 404 lookups, confirm forms."""
from __future__ import annotations

from flask import abort

from app.auth.forms import ConfirmForm
from app.extensions import db
from app.models import User


def user_or_404(user_id: int) -> User:
    """A user of the current tenant, or 404 (another tenant's id looks like a missing one)."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


def require_confirm() -> None:
    """Check the CSRF token of a button-only form; 400 when it is missing or wrong."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
