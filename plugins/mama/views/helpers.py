"""Small helpers the MAMA views share: safe query arguments, 404 lookups, confirm forms."""
from __future__ import annotations

from flask import abort, request

from app.auth.forms import ConfirmForm
from app.extensions import db
from app.forms import without_control_characters
from app.models import User


def int_arg(name: str, default: int = 1, minimum: int = 1, maximum: int = 100_000) -> int:
    """An integer query argument; anything unparsable or out of range gives the default."""
    try:
        value = int(request.args.get(name, default))
    except (TypeError, ValueError):
        return default
    return value if minimum <= value <= maximum else default


def text_arg(name: str, limit: int = 100, source=None) -> str:
    """A search text from the query (or source): control characters dropped, trimmed, at most limit characters."""
    value = (source if source is not None else request.args).get(name, "")
    return without_control_characters(value).strip()[:limit]


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
