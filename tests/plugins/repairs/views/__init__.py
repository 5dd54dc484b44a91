"""修繕記録's blueprint; each screen lives in its own module."""
from flask import Blueprint

bp = Blueprint("repairs", __name__, url_prefix="/repairs", template_folder="../templates")

from . import login, records  # noqa: E402,F401  (routes register on import)
