"""重調@CITY's blueprint; each screen lives in its own module."""
from .. import PRODUCT

bp = PRODUCT.blueprint(__name__)

from . import (  # noqa: E402,F401  (routes register on import)
    associations,
    buildings,
    login,
    profile,
    reset,
    staff,
    unit_import,
    units,
)
