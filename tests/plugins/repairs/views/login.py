"""The second factor (暗証番号) and the admin screen that issues one."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template

from app import audit
from app.auth.factors import abandon_pending_login, complete_login, pending_login, restart_login
from app.auth.guards import product_required
from app.extensions import db
from app.models import User

from ..factor import FACTOR
from ..forms import IssuePinForm, PinForm
from ..models import check_pin, issue_pin
from . import bp

WRONG = "暗証番号が正しくありません。"
LOCKED = "暗証番号がロックされているか、発行されていません。管理者に再発行を依頼してください。"


@bp.route("/pin", methods=["GET", "POST"])
def pin():
    """Finish the login with the user's 暗証番号; the core makes the pending login single use."""
    pending = pending_login(FACTOR)
    if pending is None:
        return restart_login()
    form = PinForm()
    if form.validate_on_submit():
        result = check_pin(pending.user, form.pin.data)
        if result:
            return complete_login(pending, FACTOR.name)
        audit.record("repairs.pin.failed", outcome="failure", actor=pending.user,
                     target=f"user:{pending.user.login_id}", locked=result is None)
        db.session.commit()
        if result is None:
            abandon_pending_login()
            return restart_login(LOCKED)
        form.pin.errors.append(WRONG)
    return render_template("repairs/login/pin.html", form=form), 422 if form.errors else 200


@bp.route("/pins", methods=["GET", "POST"])
@product_required("repairs", admin=True)
def pins_issue():
    """管理者 only: issue a new 暗証番号 to a user (shown once)."""
    form, issued = IssuePinForm(), None
    if form.validate_on_submit():
        user = db.session.execute(sa.select(User).where(User.login_id == form.login.data)).scalar_one_or_none()
        if user is None:
            form.login.errors.append("このログインIDのユーザーはいません。")
        else:
            issued = (user, issue_pin(user))
            audit.record("repairs.pin.issue", target=f"user:{user.login_id}")
            db.session.commit()
    return render_template("repairs/pins/issue.html", form=form, issued=issued), 422 if form.errors else 200
