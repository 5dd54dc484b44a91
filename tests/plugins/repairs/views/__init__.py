"""修繕記録's blueprint; each screen lives in its own module."""
from .. import PRODUCT

bp = PRODUCT.blueprint(__name__)

from . import login, records  # noqa: E402,F401  (routes register on import)
