"""Authentication: password login, second-factor hand-off, sessions, password change."""
from flask import Blueprint

bp = Blueprint("auth", __name__)

from . import views  # noqa: E402,F401  (routes register on import)
