"""重調@CITY's blueprint; each screen lives in its own module."""
from flask import Blueprint

bp = Blueprint("jucho", __name__, url_prefix="/jucho", template_folder="../templates",
               static_folder="../static")

from . import (  # noqa: E402,F401  (routes register on import)
    associations,
    buildings,
    login,
    reset,
    staff,
)
