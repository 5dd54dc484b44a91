"""MAMA's blueprint; each screen lives in its own module."""
from flask import Blueprint, abort

bp = Blueprint("mama", __name__, url_prefix="/mama", template_folder="../templates")

# Ids are 32-bit INTEGER columns; a larger number in a URL can name nothing (and would overflow the driver).
MAX_ID = 2**31 - 1


@bp.url_value_preprocessor
def _ids_in_range(endpoint, values):
    """Answer 404 for an id in the URL that no row can have, before any query runs."""
    for value in (values or {}).values():
        if isinstance(value, int) and not 0 < value <= MAX_ID:
            abort(404)


from . import (  # noqa: E402,F401  (routes register on import)
    associations,
    device_admin,
    device_login,
    my_devices,
    permission_sets,
    scopes,
    users,
)
