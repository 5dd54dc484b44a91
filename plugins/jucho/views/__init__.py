"""重調@CITY's blueprint; each screen lives in its own module."""
from .. import PRODUCT

bp = PRODUCT.blueprint(__name__)

from . import (  # noqa: E402,F401  (routes register on import)
    associations,
    buildings,
    deliveries,
    fees,
    login,
    profile,
    public_request,
    report_link,
    reports,
    requests,
    reset,
    staff,
    unit_import,
    units,
)
