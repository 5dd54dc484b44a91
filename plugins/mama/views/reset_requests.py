"""パスワードのリセット依頼: the anonymous form (one neutral answer) and 却下 on the admins' ユーザーマスタ."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.auth.login import login_limit
from app.extensions import db, limiter
from app.forms import require_confirm
from app.tenancy import set_current_tenant

from .. import reset_requests
from ..forms import ResetRequestForm
from ..models import RESET_REJECTED, MamaResetRequest
from ..permissions import LEVEL_EDIT, MENU_USERS, menu_required
from . import bp


@bp.route("/password/reset-request", methods=["GET", "POST"])
@limiter.limit(login_limit, methods=["POST"])
def reset_request():
    """Ask the company's admins for a password reset; the answer never tells whether the account exists."""
    form = ResetRequestForm()
    if form.validate_on_submit():
        reset_requests.submit(form.company_code.data, form.login_id.data)
        db.session.commit()
        set_current_tenant(None)
        return redirect(url_for("mama.reset_request_sent"))
    return render_template("mama/reset/request.html", form=form), 422 if form.errors else 200


@bp.route("/password/reset-request/sent")
def reset_request_sent():
    """The one answer everybody gets."""
    return render_template("mama/reset/sent.html")


@bp.route("/users/reset-requests/<int:request_id>/reject", methods=["POST"])
@menu_required(MENU_USERS, LEVEL_EDIT)
def reset_request_reject(request_id: int):
    """却下: close a reset request without resetting (e.g. the user remembered, or nobody asked)."""
    require_confirm()
    item = db.get_or_404(MamaResetRequest, request_id)
    if reset_requests.close(item, current_user, RESET_REJECTED):
        db.session.commit()
        flash(f"{item.user.login_id} のパスワードリセット依頼を却下しました。", "success")
    else:
        flash("この依頼は既に処理されています。", "warning")
    return redirect(url_for("mama.users_index"))
