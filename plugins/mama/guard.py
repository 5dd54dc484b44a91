"""Every request of a MAMA session re-checks the registered device it logged in from.

A login through the device factor remembers the device id in the (signed) session. When an admin or the
user revokes that device — or revokes them all — the session ends at its next request, so a stolen device
cookie stops working at once and not only at the next login.
"""
from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_login import current_user, logout_user

from app.auth.sessions import end_session
from app.extensions import db
from app.tenancy import current_tenant

from .devices import is_usable
from .models import Device
from .permissions import is_mama

SESSION_KEY = "mama_device_id"


def remember_device(device: Device) -> None:
    """Bind the new login session to the device it was opened from."""
    session[SESSION_KEY] = device.id


def check_device():
    """before_request: end a MAMA session whose device is no longer approved."""
    if request.endpoint == "static" or SESSION_KEY not in session:
        return None
    if not current_user.is_authenticated or not is_mama(current_tenant()):
        return None
    device = db.session.get(Device, session[SESSION_KEY])
    if device is not None and device.user_id == current_user.id and is_usable(device):
        return None
    record = current_user.current_session
    if record is not None:
        end_session(record, "device_revoked", actor=current_user._get_current_object())
        db.session.commit()
    logout_user()
    session.clear()
    flash("この端末の登録が無効になったため、ログアウトしました。", "warning")
    return redirect(url_for("auth.login"))
