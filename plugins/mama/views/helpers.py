"""Small helpers the MAMA views share: safe query arguments, 404 lookups, confirm forms."""
from __future__ import annotations

from flask import abort

from app.auth.forms import ConfirmForm


def require_confirm() -> None:
    """Check the CSRF token of a button-only form; 400 when it is missing or wrong."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
