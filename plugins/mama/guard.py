"""Every request of a MAMA session re-checks the registered device it logged in from.

A login through the device factor remembers the device id in the (signed) session. When an admin or the
user revokes that device — or revokes them all — the session ends at its next request, so a stolen device
cookie stops working at once and not only at the next login. The core asks through ``session_valid``.
"""
from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask import session

from app.auth.sessions import login_stronger_factor
from app.extensions import db
from app.models import User
from app.products import SessionCompanion, SessionRefusal

from .devices import is_usable
from .models import MamaDevice

SESSION_KEY = "mama_device_id"
DEVICE_REVOKED = SessionRefusal("device_revoked", "この端末の登録が無効になったため、ログアウトしました。")


def remember_device(device: MamaDevice) -> None:
    """Bind the new login session to the device it was opened from."""
    session[SESSION_KEY] = device.id


def device_companion() -> SessionCompanion | None:
    """The session's device, loaded in the core's session query so ``device_refusal`` reads no more rows."""
    device_id = session.get(SESSION_KEY)
    if not isinstance(device_id, int):
        return None
    return SessionCompanion(MamaDevice, _device_on(), {"mama_device_id": device_id})


@cache
def _device_on():
    return (MamaDevice.id == sa.bindparam("mama_device_id")) & (MamaDevice.user_id == User.id)


def device_refusal(user, session_record=None) -> SessionRefusal | None:
    """None while the session's device is still approved for user; a refusal once it is not."""
    if SESSION_KEY not in session:
        # The device factor always sets the key. A session without one was opened by a stronger factor
        # (a passkey, when the tenant's policy lets it replace the device): the core says which.
        return None if login_stronger_factor(session_record) else DEVICE_REVOKED
    device_id = session[SESSION_KEY]
    if not isinstance(device_id, int):
        return DEVICE_REVOKED
    device = db.session.get(MamaDevice, device_id)  # the identity map's copy from the session query
    if device is not None and device.user_id == user.id and is_usable(device):
        return None
    return DEVICE_REVOKED
