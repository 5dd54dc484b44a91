"""社員 screens (管理者 only): list, 社員登録, 社員編集, 停止/再開 and パスワード再発行 (``..staff`` on the core's
``app.user_admin``)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app.accounts import login_id_taken
from app.auth.guards import product_required
from app.confirm import confirmation, confirmed
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
            return redirect(url_for("jucho.staff_show", user_id=user.id))
    return render_template("jucho/staff/form.html", form=form, user=None)


@bp.route("/staff/<int:user_id>")
@admin_required
def staff_show(user_id: int):
    """社員の詳細 with the account actions (停止/再開, パスワード再発行); where 登録 and 編集 lead after saving."""
    user = db.get_or_404(User, user_id)
    return render_template("jucho/staff/show.html", user=user, actions=ConfirmForm())


@bp.route("/staff/<int:user_id>/edit", methods=["GET", "POST"])
@admin_required
def staff_edit(user_id: int):
    """社員編集: name, e-mail (both addresses are told), role."""
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
                return redirect(url_for("jucho.staff_show", user_id=user.id))
    return render_template("jucho/staff/form.html", form=form, user=user)


def _set_status(user: User, status: str, done: str):
    try:
        staff.set_staff_status(user, status, actor=current_user)
    except UserAdminError as refused:
        flash(refused.message, "error")
    else:
        db.session.commit()
        flash(done.format(name=user.name), "success")
    return redirect(url_for("jucho.staff_show", user_id=user.id))


def _target(user: User) -> list[tuple[str, str]]:
    return [("ログインID", user.login_id), ("氏名", user.name), ("権限", user.role_label)]


@bp.route("/staff/<int:user_id>/suspend", methods=["GET", "POST"])
@admin_required
def staff_suspend(user_id: int):
    """停止, after the confirmation page: the employee can no longer log in and every session ends at once."""
    user = db.get_or_404(User, user_id)
    if not confirmed():
        return confirmation("社員を停止しますか？", target=_target(user), consequences=[
            f"{user.name} さんはログインできなくなります。",
            "ログイン中のセッションはすべてすぐに終了し、送信済みのログインコードも使えなくなります。",
            "あとで「再開する」でいつでも元に戻せます。登録内容は消えません。"],
            cancel_url=url_for("jucho.staff_show", user_id=user.id), button="停止する", testid="confirm-suspend")
    return _set_status(user, STATUS_SUSPENDED, "{name} さんを停止しました。ログイン中のセッションはすべて終了しました。")


@bp.route("/staff/<int:user_id>/resume", methods=["POST"])
@admin_required
def staff_resume(user_id: int):
    """再開: the employee may log in again."""
    require_confirm()
    return _set_status(db.get_or_404(User, user_id), STATUS_ACTIVE, "{name} さんを再開しました。")


@bp.route("/staff/<int:user_id>/reset-password", methods=["GET", "POST"])
@admin_required
def staff_reset_password(user_id: int):
    """パスワード再発行, after the confirmation page: a new temporary password is mailed; their sessions end."""
    user = db.get_or_404(User, user_id)
    if not confirmed():
        return confirmation("仮パスワードを再発行しますか？", target=_target(user), consequences=[
            f"新しい仮パスワードを {user.name} さんのメールアドレスに送ります（72時間有効）。",
            "いまのパスワードは使えなくなり、ログイン中のセッションはすべて終了します。",
            "次にログインしたとき、パスワードの変更が必要になります。"],
            cancel_url=url_for("jucho.staff_show", user_id=user.id), button="再発行してメール送信",
            class_="primary", testid="confirm-reset-password")
    try:
        staff.reissue_password(user, actor=current_user)
    except UserAdminError as refused:  # one's own password is changed on パスワード変更
        flash(refused.message, "error")
    else:
        db.session.commit()
        flash(f"新しい仮パスワードを {user.name} さんにメールで送信しました（72時間有効）。", "success")
    return redirect(url_for("jucho.staff_show", user_id=user.id))
