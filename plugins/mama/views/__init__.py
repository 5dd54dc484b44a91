"""MAMA's blueprint; each screen lives in its own module."""
from .. import PRODUCT

bp = PRODUCT.blueprint(__name__)

from . import (  # noqa: E402,F401  (routes register on import)
    associations,
    device_admin,
    device_login,
    my_devices,
    permission_sets,
    reset_requests,
    scopes,
    users,
)


@bp.context_processor
def _permission_helpers():
    """`can(menu, level)` in MAMA's templates, to hide the buttons and links a user may not use."""
    from flask_login import current_user

    from ..permissions import can

    return {"can": lambda menu_id, level="view": current_user.is_authenticated and can(current_user, menu_id, level)}
