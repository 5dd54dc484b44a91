"""MAMA's blueprint; each screen lives in its own module."""
from flask import Blueprint

bp = Blueprint("mama", __name__, url_prefix="/mama", template_folder="../templates",
               static_folder="../static")

from . import (  # noqa: E402,F401  (routes register on import)
    associations,
    device_admin,
    device_login,
    my_devices,
    permission_sets,
    scopes,
    users,
)
