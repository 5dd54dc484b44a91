"""社員 screens (管理者 only): list, 社員登録, 社員編集, 停止/再開 and パスワード再発行 (``..staff`` on the core's
``app.user_admin``)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.accounts import login_id_taken
from app.auth.guards import product_required
from app.extensions import db
from app.forms import ConfirmForm, require_confirm
from app.listing import listing
from app.models import STATUS_ACTIVE, STATUS_SUSPENDED, User
from app.tenancy import current_tenant
from app.user_admin import UserAdminError

from .. import PRODUCT, staff
from ..forms import StaffCreateForm, StaffEditForm
from . import bp

admin_required = product_required(PRODUCT.code, admin=True)


@bp.route("/staff")
@admin_required
def staff_list():
    """All employees of the company, by login id."""
    result = listing(sa.select(User), sorts={"login_id": User.login_id}, default_sort="login_id", tiebreak=User.id,
                     columns=[User.login_id])
    return render_template("jucho/staff/index.html", listing=result)


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_required
def staff_new():
    """社員登録: the new employee receives a temporary password by e-mail; the admin never sees it."""
    form = StaffCreateForm()
    if form.validate_on_submit():
        if login_id_taken(form.login_id.data):
            form.login_id.errors.append("このログインIDは既に使われています。")
        if staff.email_taken(form.email.data):
            form.email.errors.append(staff.EMAIL_TAKEN)
        if not (form.login_id.errors or form.email.errors):
            user = staff.register(current_tenant(), form.login_id.data, form.name.data, form.email.data,
                                  form.role.data, actor=current_user)
            db.session.commit()
            flash(f"{user.name} さんを登録し、仮パスワードを {user.email} にメールで送信しました（72時間有効）。",
                  "success")
            return redirect(url_for("jucho.staff_list"))
    return render_template("jucho/staff/form.html", form=form, user=None)


@bp.route("/staff/<int:user_id>/edit", methods=["GET", "POST"])
@admin_required
def staff_edit(user_id: int):
    """社員編集: name, e-mail (both addresses are told), role; status and password actions on the page."""
    user = db.get_or_404(User, user_id)
    form = StaffEditForm(obj=user)
    if form.validate_on_submit():
        if staff.email_taken(form.email.data, user):
            form.email.errors.append(staff.EMAIL_TAKEN)
        else:
            try:
                email_changed = staff.update(user, form.name.data, form.email.data, form.role.data,
                                             actor=current_user)
            except UserAdminError as refused:
                form.role.errors.append(refused.message)
            else:
                db.session.commit()
                flash("社員情報を保存しました。" + ("新旧のメールアドレスにお知らせを送信しました。" if email_changed else ""),
                      "success")
                if not current_user.is_admin:  # an admin who stepped down leaves the admin screens
                    return redirect(url_for("main.dashboard"))
                return redirect(url_for("jucho.staff_edit", user_id=user.id))
    return render_template("jucho/staff/form.html", form=form, user=user, actions=ConfirmForm())


def _set_status(user_id: int, status: str, done: str):
    require_confirm()
    user = db.get_or_404(User, user_id)
    try:
        staff.set_staff_status(user, status, actor=current_user)
    except UserAdminError as refused:
        flash(refused.message, "error")
    else:
        db.session.commit()
        flash(done.format(name=user.name), "success")
    return redirect(url_for("jucho.staff_edit", user_id=user.id))


@bp.route("/staff/<int:user_id>/suspend", methods=["POST"])
@admin_required
def staff_suspend(user_id: int):
    """停止: the employee can no longer log in and every session ends at once."""
    return _set_status(user_id, STATUS_SUSPENDED, "{name} さんを停止しました。ログイン中のセッションはすべて終了しました。")


@bp.route("/staff/<int:user_id>/resume", methods=["POST"])
@admin_required
def staff_resume(user_id: int):
    """再開: the employee may log in again."""
    return _set_status(user_id, STATUS_ACTIVE, "{name} さんを再開しました。")


@bp.route("/staff/<int:user_id>/reset-password", methods=["POST"])
@admin_required
def staff_reset_password(user_id: int):
    """パスワード再発行: a new temporary password is mailed to the employee; their sessions end."""
    require_confirm()
    user = db.get_or_404(User, user_id)
    try:
        staff.reissue_password(user, actor=current_user)
    except UserAdminError as refused:  # one's own password is changed on パスワード変更
        flash(refused.message, "error")
    else:
        db.session.commit()
        flash(f"新しい仮パスワードを {user.name} さんにメールで送信しました（72時間有効）。", "success")
    return redirect(url_for("jucho.staff_edit", user_id=user.id))
