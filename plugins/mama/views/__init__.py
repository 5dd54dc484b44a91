"""MAMA's blueprint; each screen lives in its own module."""
from .. import PRODUCT

bp = PRODUCT.blueprint(__name__)

from . import (  # noqa: E402,F401  (routes register on import)
    associations,
    device_admin,
    device_login,
    my_devices,
    permission_sets,
    scopes,
    users,
)
