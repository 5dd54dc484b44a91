"""登録端末: a user's own devices, which they can revoke."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.guards import product_required
from app.confirm import confirmed
from app.extensions import db
from app.forms import ConfirmForm

from .. import PRODUCT, devices
from ..models import MamaDevice
from . import bp
from .device_admin import revoke_confirmation


@bp.route("/account/devices")
@product_required(PRODUCT.code)
def my_devices():
    """List the user's own devices; the one this browser holds is marked."""
    current = devices.device_of_browser(current_user)
    return render_template("mama/my_devices.html", devices=devices.devices_of(current_user),
                           current_id=current.id if current else None, form=ConfirmForm())


@bp.route("/account/devices/<int:device_id>/revoke", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def my_device_revoke(device_id: int):
    """Revoke one of the user's own devices after the confirmation page (another user's id answers 404)."""
    device = db.first_or_404(sa.select(MamaDevice).where(MamaDevice.id == device_id,
                                                         MamaDevice.user_id == current_user.id))
    if not confirmed():
        current = devices.device_of_browser(current_user)
        return revoke_confirmation(device, url_for("mama.my_devices"),
                                   this_browser=current is not None and current.id == device.id)
    if devices.revoke(device, current_user):
        db.session.commit()
        flash(f"端末「{device.name}」を無効にしました。", "success")
    return redirect(url_for("mama.my_devices"))
