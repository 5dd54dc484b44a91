"""端末管理 for admins: the approval queue, each user's devices, revocation and registration codes."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.confirm import confirmation, confirmed
from app.extensions import db
from app.forms import ConfirmForm, require_confirm
from app.models import User

from .. import devices
from ..models import DEVICE_APPROVED, DEVICE_PENDING, MamaDevice
from ..notify import mail_device_decision
from ..permissions import LEVEL_DELETE, LEVEL_EDIT, MENU_DEVICES, menu_required
from . import bp


def _device_counts() -> dict[int, dict]:
    rows = db.session.execute(
        sa.select(MamaDevice.user_id, sa.func.count(), sa.func.max(MamaDevice.last_used_at))
        .where(MamaDevice.status == DEVICE_APPROVED).group_by(MamaDevice.user_id)
    ).all()
    return {user_id: {"approved": count, "last_used": last} for user_id, count, last in rows}


@bp.route("/devices")
@menu_required(MENU_DEVICES)
def devices_index():
    """The approval queue and every user with their approved devices."""
    users = db.session.execute(sa.select(User).order_by(User.login_id)).scalars().all()
    return render_template("mama/devices/index.html", queue=devices.pending_devices(), users=users,
                           counts=_device_counts(), form=ConfirmForm())


@bp.route("/devices/<int:device_id>/approve", methods=["POST"])
@menu_required(MENU_DEVICES, LEVEL_EDIT)
def device_approve(device_id: int):
    """Approve a pending device."""
    require_confirm()
    device = db.get_or_404(MamaDevice, device_id)
    if devices.decide(device, True, current_user):
        mail_device_decision(device)  # queued with the decision: both commit or neither
        db.session.commit()
        flash(f"{device.user.login_id} の端末「{device.name}」を承認しました。", "success")
    else:
        flash("この端末は既に処理されています。", "warning")
    return redirect(url_for("mama.devices_index"))


@bp.route("/devices/<int:device_id>/reject", methods=["POST"])
@menu_required(MENU_DEVICES, LEVEL_EDIT)
def device_reject(device_id: int):
    """Reject a pending device."""
    require_confirm()
    device = db.get_or_404(MamaDevice, device_id)
    if devices.decide(device, False, current_user):
        mail_device_decision(device)  # queued with the decision: both commit or neither
        db.session.commit()
        flash(f"{device.user.login_id} の端末「{device.name}」の申請を拒否しました。", "success")
    else:
        flash("この端末は既に処理されています。", "warning")
    return redirect(url_for("mama.devices_index"))


@bp.route("/devices/users/<int:user_id>")
@menu_required(MENU_DEVICES)
def devices_user(user_id: int):
    """One user's devices with last use, revocation and a registration code."""
    user = db.get_or_404(User, user_id)
    return render_template("mama/devices/user.html", user=user, devices=devices.devices_of(user),
                           form=ConfirmForm())


def revoke_confirmation(device: MamaDevice, cancel_url: str, this_browser: bool = False):
    """The confirmation page of revoking one device (admin screen and the user's own 登録端末)."""
    consequences = [
        "この端末からはログインできなくなります。もう一度使うには端末登録をやり直してください。",
        "この端末でのログイン中のセッションも終了します。",
    ]
    if this_browser:
        consequences.append("いま使っているこのブラウザの端末です。無効にすると、このブラウザもログアウトします。")
    return confirmation("端末を無効にしますか？", target=[
        ("ユーザー", f"{device.user.login_id}（{device.user.name}）"), ("端末", device.name),
        ("状態", device.status_label), ("ブラウザ情報", device.user_agent or "—")],
        consequences=consequences, cancel_url=cancel_url, button="無効にする", testid="confirm-revoke")


@bp.route("/devices/<int:device_id>/revoke", methods=["GET", "POST"])
@menu_required(MENU_DEVICES, LEVEL_DELETE)
def device_revoke(device_id: int):
    """Revoke one device of any user of the tenant, after the confirmation page."""
    device = db.get_or_404(MamaDevice, device_id)
    back = url_for("mama.devices_user", user_id=device.user_id)
    if not confirmed():
        return revoke_confirmation(device, back)
    if devices.revoke(device, current_user):
        db.session.commit()
        flash(f"端末「{device.name}」を無効にしました。", "success")
    else:
        flash("この端末は既に無効です。", "warning")
    return redirect(back)


@bp.route("/devices/users/<int:user_id>/revoke-all", methods=["GET", "POST"])
@menu_required(MENU_DEVICES, LEVEL_DELETE)
def devices_revoke_all(user_id: int):
    """Revoke every device of a user, after the confirmation page."""
    user = db.get_or_404(User, user_id)
    back = url_for("mama.devices_user", user_id=user.id)
    if not confirmed():
        open_count = sum(1 for d in devices.devices_of(user) if d.status in (DEVICE_APPROVED, DEVICE_PENDING))
        return confirmation("このユーザーの端末をすべて無効にしますか？", target=[
            ("ユーザー", f"{user.login_id}（{user.name}）"), ("対象の端末", f"{open_count}台（承認済み・承認待ち）")],
            consequences=["どの端末からもログインできなくなります。もう一度使うには端末登録をやり直してください。",
                          "このユーザーのログイン中のセッションもすべて終了します。"],
            cancel_url=back, button="すべて無効にする", testid="confirm-revoke-all")
    count = devices.revoke_all(user, current_user, reason="admin")
    db.session.commit()
    flash(f"{user.login_id} の端末を{count}台無効にしました。", "success")
    return redirect(back)


@bp.route("/devices/users/<int:user_id>/code", methods=["POST"])
@menu_required(MENU_DEVICES, LEVEL_EDIT)
def devices_issue_code(user_id: int):
    """Issue a one-time registration code for a user and show it once."""
    require_confirm()
    user = db.get_or_404(User, user_id)
    code = devices.issue_code(user, current_user.login_id)
    db.session.commit()
    return render_template("mama/devices/code.html", user=user, code=code, hours=devices.CODE_HOURS)
