"""社員 screens (管理者 only): list, 社員登録, 社員編集, 停止/再開 and パスワード再発行."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app import audit
from app.accounts import (
    create_user,
    find_user_by_email,
    issue_temporary_password,
    login_id_taken,
    set_email,
    set_status,
)
from app.auth.sessions import end_user_sessions
from app.extensions import db
from app.models import STATUS_ACTIVE, STATUS_SUSPENDED, User
from app.queryargs import int_arg, text_arg
from app.tenancy import current_tenant

from .. import staff
from ..forms import ActionForm, StaffCreateForm, StaffEditForm
from . import bp
from .helpers import admin_only, get_or_404

PER_PAGE = 50


def _staff_or_404(user_id: int) -> User:
    return get_or_404(User, user_id)


def _email_taken(email: str, user: User | None = None) -> bool:
    other = find_user_by_email(email)
    return other is not None and (user is None or other.id != user.id)


@bp.route("/staff")
@admin_only
def staff_list():
    """All employees of the company, by login id."""
    query = sa.select(User).order_by(User.login_id)
    q = text_arg("q")[:64]
    if q:
        query = query.where(User.login_id.contains(q, autoescape=True))
    page = db.paginate(query, page=int_arg("page"), per_page=PER_PAGE, error_out=False)
    return render_template("jucho/staff/index.html", page=page, q=q)


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_only
def staff_new():
    """社員登録: the new employee receives a temporary password by e-mail; the admin never sees it."""
    form = StaffCreateForm()
    if form.validate_on_submit():
        if login_id_taken(form.login_id.data):
            form.login_id.errors.append("このログインIDは既に使われています。")
        if _email_taken(form.email.data):
            form.email.errors.append("このメールアドレスは他の社員が使用しています。")
        if not (form.login_id.errors or form.email.errors):
            tenant = current_tenant()
            user, temporary = create_user(tenant, form.login_id.data, form.name.data, form.email.data,
                                          role=form.role.data, actor=current_user)
            staff.mail_temporary_password(user, temporary, first=True)  # commits with the new employee
            db.session.commit()
            flash(f"{user.name} さんを登録し、仮パスワードを {user.email} にメールで送信しました（72時間有効）。",
                  "success")
            return redirect(url_for("jucho.staff_list"))
    return render_template("jucho/staff/form.html", form=form, user=None)


@bp.route("/staff/<int:user_id>/edit", methods=["GET", "POST"])
@admin_only
def staff_edit(user_id: int):
    """社員編集: name, e-mail (both addresses are told), role; status and password actions on the page."""
    user = _staff_or_404(user_id)
    form = StaffEditForm(obj=user)
    if form.validate_on_submit():
        if _email_taken(form.email.data, user):
            form.email.errors.append("このメールアドレスは他の社員が使用しています。")
        elif staff.leaves_no_admin(user, form.role.data, user.status):
            form.role.errors.append("有効な管理者が1人もいなくなるため、一般に変更できません。")
        else:
            before = {"role": user.role}
            old_email = user.email
            email_changed = old_email != form.email.data
            user.name = form.name.data
            user.role = form.role.data
            if email_changed:
                set_email(user, form.email.data)
            audit.record("jucho.staff.update", target=f"user:{user.login_id}", before=before,
                         after={"role": user.role}, email_changed=email_changed)
            if email_changed:
                staff.mail_email_changed(user, old_email, form.email.data)  # commits with the change
            db.session.commit()
            flash("社員情報を保存しました。" + ("新旧のメールアドレスにお知らせを送信しました。" if email_changed else ""),
                  "success")
            if not current_user.is_admin:  # an admin who stepped down leaves the admin screens
                return redirect(url_for("main.dashboard"))
            return redirect(url_for("jucho.staff_edit", user_id=user.id))
    return render_template("jucho/staff/form.html", form=form, user=user, actions=ActionForm())


def _action_guard(user_id: int) -> User:
    if not ActionForm().validate_on_submit():
        abort(400)
    return _staff_or_404(user_id)


@bp.route("/staff/<int:user_id>/suspend", methods=["POST"])
@admin_only
def staff_suspend(user_id: int):
    """停止: the employee can no longer log in and every session ends at once."""
    user = _action_guard(user_id)
    if staff.leaves_no_admin(user, user.role, STATUS_SUSPENDED):
        flash("有効な管理者が1人もいなくなるため、停止できません。", "error")
        return redirect(url_for("jucho.staff_edit", user_id=user.id))
    set_status(user, STATUS_SUSPENDED, actor=current_user)
    db.session.commit()
    flash(f"{user.name} さんを停止しました。ログイン中のセッションはすべて終了しました。", "success")
    return redirect(url_for("jucho.staff_edit", user_id=user.id))


@bp.route("/staff/<int:user_id>/resume", methods=["POST"])
@admin_only
def staff_resume(user_id: int):
    """再開: the employee may log in again."""
    user = _action_guard(user_id)
    set_status(user, STATUS_ACTIVE, actor=current_user)
    db.session.commit()
    flash(f"{user.name} さんを再開しました。", "success")
    return redirect(url_for("jucho.staff_edit", user_id=user.id))


@bp.route("/staff/<int:user_id>/reset-password", methods=["POST"])
@admin_only
def staff_reset_password(user_id: int):
    """パスワード再発行: a new temporary password is mailed to the employee; their sessions end."""
    user = _action_guard(user_id)
    if user.id == current_user.id:
        flash("ご自分のパスワードは「パスワード変更」から変更してください。", "error")
        return redirect(url_for("jucho.staff_edit", user_id=user.id))
    temporary = issue_temporary_password(user)
    ended = end_user_sessions(user, "password_reset_by_admin", actor=current_user)
    audit.record("jucho.staff.password_reset", target=f"user:{user.login_id}", sessions_ended=ended)
    staff.mail_temporary_password(user, temporary, first=False)  # commits with the new password
    db.session.commit()
    flash(f"新しい仮パスワードを {user.name} さんにメールで送信しました（72時間有効）。", "success")
    return redirect(url_for("jucho.staff_edit", user_id=user.id))
