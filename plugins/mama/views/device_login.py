"""The second factor screen: 「この端末は登録されていません」, registration code and registration request."""
from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for

from app import audit
from app.auth.factors import abandon_pending_login, complete_login, pending_login, restart_login
from app.extensions import db, limiter

from .. import device_status, devices
from ..factor import FACTOR
from ..forms import DeviceCodeForm, DeviceRequestForm
from ..guard import remember_device
from ..models import DEVICE_PENDING
from ..notify import mail_device_request
from . import bp

STATE_MESSAGES = {
    DEVICE_PENDING: "この端末は登録を申請済みで、管理者の承認待ちです。承認されたら、もう一度ログインしてください。",
    "rejected": "この端末の登録申請は管理者に拒否されました。登録コードを入力するか、改めて申請してください。",
    "revoked": "この端末の登録は無効化されています。登録コードを入力するか、改めて申請してください。",
    "approved": "この端末の登録の有効期限が切れています。登録コードを入力するか、改めて申請してください。",
}


def _device_limit() -> str:
    return current_app.config.get("MAMA_DEVICE_RATE_LIMIT", "10 per minute;60 per hour")


def _finish(pending, device, token):
    devices.mark_used(device)
    response = complete_login(pending, FACTOR.name)
    remember_device(device)
    devices.set_device_cookie(response, token)
    return response


def _page(pending, code_form=None, request_form=None, status=200):
    device = devices.device_of_browser(pending.user)
    state = device.status if device is not None else None
    return render_template("mama/device_login.html", user=pending.user, state=state,
                           state_message=STATE_MESSAGES.get(state), code_form=code_form or DeviceCodeForm(),
                           request_form=request_form or DeviceRequestForm()), status


@bp.route("/device")
def device():
    """After the password: log in from an approved device, or offer the code and the request."""
    pending = pending_login(FACTOR)
    if pending is None:
        return restart_login()
    found = devices.device_of_browser(pending.user)
    if devices.is_usable(found):
        return _finish(pending, found, devices.token_for(found))
    audit.record("device.check", outcome="failure", actor=pending.user, target=f"user:{pending.user.login_id}",
                 state=found.status if found else "unregistered")
    db.session.commit()
    return _page(pending)


@bp.route("/device/code", methods=["POST"])
@limiter.limit(_device_limit)
def device_code():
    """Register and approve this browser with a one-time registration code, then log in."""
    pending = pending_login(FACTOR)
    if pending is None:
        return restart_login()
    form = DeviceCodeForm()
    if form.validate_on_submit():
        result = devices.redeem_code(pending.user, form.code.data)
        if result is not None:
            device, token = result
            return _finish(pending, device, token)
        db.session.commit()
        form.code.errors = ["登録コードが正しくないか、有効期限切れ・使用済みです。管理者に確認してください。"]
    return _page(pending, code_form=form, status=200 if not form.errors else 422)


@bp.route("/device/request", methods=["POST"])
@limiter.limit(_device_limit)
def device_request():
    """Send a registration request for this browser; every admin gets a mail."""
    pending = pending_login(FACTOR)
    if pending is None:
        return restart_login()
    form = DeviceRequestForm()
    if not form.validate_on_submit():
        return _page(pending, request_form=form, status=422)
    existing = devices.device_of_browser(pending.user)
    if existing is not None and existing.status == DEVICE_PENDING:
        flash("この端末は既に申請済みです。管理者の承認をお待ちください。", "info")
        return redirect(url_for("mama.device"))
    if devices.pending_count(pending.user) >= devices.MAX_PENDING_PER_USER:
        audit.record("device.request", outcome="failure", actor=pending.user, target=f"user:{pending.user.login_id}",
                     reason="too_many_pending")
        db.session.commit()
        form.name.errors = [f"承認待ちの申請が既に{devices.MAX_PENDING_PER_USER}件あります。管理者の承認を待つか、"
                            "管理者から登録コードを受け取ってください。"]
        return _page(pending, request_form=form, status=422)
    device, token = devices.request_device(pending.user, form.name.data)
    status_token = device_status.issue_status_token(device)
    mail_device_request(device, pending.user)  # queued with the request: both commit or neither
    db.session.commit()
    abandon_pending_login()
    flash("端末の登録を申請しました。このページで承認されたかどうかを確認できます。", "success")
    response = redirect(url_for("mama.device_status_page"))
    devices.set_device_cookie(response, token)
    device_status.set_status_cookie(response, status_token)
    return response


def _status_limit() -> str:
    return current_app.config.get("MAMA_DEVICE_STATUS_RATE_LIMIT", "30 per minute;600 per hour")


@bp.route("/device/status")
@limiter.limit(_status_limit)
def device_status_page():
    """申請状況 of this browser's own registration request (no login; bound to the browser by its cookie)."""
    device = device_status.device_of_status_cookie()
    if device is None:
        return render_template("mama/device_status.html", device=None, refresh=None,
                               hours=device_status.STATUS_HOURS), 404
    every = current_app.config.get("MAMA_DEVICE_STATUS_REFRESH_SECONDS", device_status.REFRESH_SECONDS)
    refresh = every if device.status == DEVICE_PENDING else None
    return render_template("mama/device_status.html", device=device, tenant=device.user.tenant, refresh=refresh)
