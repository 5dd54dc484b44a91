"""ユーザーマスタ: add, edit, delete, reset the password, unlock; the last admin is protected."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from app import audit
from app.accounts import initial_password_errors, login_id_taken
from app.accounts import unlock as unlock_account
from app.confirm import confirmation, confirmed
from app.extensions import db
from app.forms import ConfirmForm, choices, require_confirm
from app.listing import listing
from app.models import ROLE_ADMIN, ROLE_LABELS, User
from app.tenancy import current_tenant
from app.timeutil import utcnow
from app.user_admin import UserAdminError, add_user, delete_user, edit_user, reset_password

from .. import devices, reset_requests, scope_choice
from ..forms import PasswordResetForm, UserCreateForm, UserEditForm
from ..models import MamaPermissionSet, MamaUserAssociation, MamaUserSettings
from ..permissions import (
    LAST_ADMIN,
    LEVEL_DELETE,
    LEVEL_EDIT,
    MENU_USERS,
    can,
    ensure_settings,
    forget_cached_permissions,
    has_working_admin,
    menu_required,
    permission_sets,
)
from . import bp

# ユーザーマスタ's sortable columns (name and e-mail are encrypted, so neither sorted nor searched).
USER_SORTS = {"login_id": User.login_id, "role": User.role, "status": User.status, "last_login": User.last_login_at}


def _set_choices(form) -> bool:
    """Fill the form's choices; returns whether the current user may choose the scope here."""
    form.permission_set.choices = choices([(0, "既定（権限区分で使えるすべてのメニュー）")] + [
        (s.id, f"{s.name}（{ROLE_LABELS.get(s.role, s.role)}）") for s in permission_sets()])
    offered = scope_choice.association_choices()
    form.scope_associations.choices = offered or []
    form.too_many_associations = offered is None
    return scope_choice.can_choose(current_user)


def _apply_scope(form, user: User, may_scope: bool) -> None:
    """The scope chosen on the form (only for a user who may set scopes, and only when a mode was sent)."""
    mode = form.scope_mode.data
    if may_scope and mode in (scope_choice.SCOPE_ALL, scope_choice.SCOPE_SELECTED):
        ids = form.scope_associations.data or [] if mode == scope_choice.SCOPE_SELECTED else []
        scope_choice.apply_scope(user, mode, ids)


def _chosen_set(form) -> MamaPermissionSet | None:
    """The permission set picked on the form, checked against the role; adds a field error on mismatch."""
    if not form.permission_set.data:
        return None
    chosen = db.session.get(MamaPermissionSet, form.permission_set.data)
    if chosen is None or chosen.role != form.role.data:
        form.permission_set.errors.append("権限区分（一般/管理者）に合うメニュー権限を選んでください。")
        return None
    return chosen


def _delete_mama_rows(user: User) -> None:
    devices.delete_user_rows(user)
    db.session.execute(sa.delete(MamaUserAssociation).where(MamaUserAssociation.user_id == user.id))
    db.session.execute(sa.delete(MamaUserSettings).where(MamaUserSettings.user_id == user.id))
    forget_cached_permissions()  # the request's cached settings row of this user is gone


def _snapshot(user: User, settings: MamaUserSettings) -> dict:
    return {"role": user.role, "status": user.status,
            "permission_set": settings.permission_set.name if settings.permission_set else None}


@bp.route("/users")
@menu_required(MENU_USERS)
def users_index():
    """Every user of the tenant with role, permission set and state."""
    result = listing(sa.select(User), sorts=USER_SORTS, default_sort="login_id", tiebreak=User.id)
    shown = [user.id for user in result.page.items]  # the page's users' settings only, not the whole tenant's
    settings = {s.user_id: s for s in db.session.execute(
        sa.select(MamaUserSettings).where(MamaUserSettings.user_id.in_(shown))).unique().scalars()}
    return render_template("mama/users/index.html", listing=result, settings=settings, form=ConfirmForm(),
                           now=utcnow(), reset_requests=reset_requests.open_requests(),
                           may_edit=can(current_user, MENU_USERS, LEVEL_EDIT),
                           may_delete=can(current_user, MENU_USERS, LEVEL_DELETE))


@bp.route("/users/new", methods=["GET", "POST"])
@menu_required(MENU_USERS, LEVEL_EDIT)
def users_new():
    """Add a user; the initial password (typed or generated) is shown once and must be changed."""
    form = UserCreateForm()
    may_scope = _set_choices(form)
    tenant = current_tenant()
    if form.validate_on_submit():
        if login_id_taken(form.login_id.data):
            form.login_id.errors.append("このログインIDは既に使われています。")
        chosen = _chosen_set(form)
        typed = form.password.data if form.password_mode.data == "manual" else None
        if typed:
            form.password.errors.extend(initial_password_errors(tenant, typed, form.login_id.data))
        if not any(field.errors for field in form):
            user, temporary = add_user(tenant, form.login_id.data, form.name.data, form.email.data or None,
                                       role=form.role.data, password=typed, actor=current_user)
            settings = ensure_settings(user)
            settings.permission_set_id = chosen.id if chosen else None
            settings.scope_all = user.role == ROLE_ADMIN
            db.session.flush()
            audit.record("mama.user.settings", target=f"user:{user.login_id}",
                         after={"permission_set": chosen.name if chosen else None, "scope_all": settings.scope_all})
            _apply_scope(form, user, may_scope)  # in the same transaction as the new user
            db.session.commit()
            return render_template("mama/users/created.html", user=user, password=typed or temporary,
                                   generated=typed is None,
                                   hours=current_app.config["KANRI_TEMP_PASSWORD_HOURS"])
    if not may_scope:
        form.scope_associations.choices = []
    return _form_page(form, None, may_scope)


def _form_page(form, user, may_scope: bool):
    return render_template("mama/users/form.html", form=form, user=user, may_scope=may_scope,
                           too_many=form.too_many_associations,
                           scope_admins=scope_choice.scope_admins()), 422 if form.errors else 200


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@menu_required(MENU_USERS, LEVEL_EDIT)
def users_edit(user_id: int):
    """Edit name, e-mail, role, permission set and state; the last admin cannot demote or stop themselves."""
    user = db.get_or_404(User, user_id)
    settings = ensure_settings(user)
    form = UserEditForm(obj=user)
    may_scope = _set_choices(form)
    if not form.is_submitted():
        form.permission_set.data = settings.permission_set_id or 0
        form.scope_mode.data = scope_choice.SCOPE_ALL if settings.scope_all else scope_choice.SCOPE_SELECTED
        form.scope_associations.data = scope_choice.assigned_ids(user)
    if form.validate_on_submit():
        chosen = _chosen_set(form)
        if not any(field.errors for field in form):
            def choose_set():
                settings.permission_set_id = chosen.id if chosen else None
                db.session.expire(settings, ["permission_set"])  # the after-snapshot reads the new set
                _apply_scope(form, user, may_scope)

            try:
                edit_user(user, name=form.name.data, email=form.email.data, role=form.role.data,
                          status=form.status.data, actor=current_user, also=choose_set,
                          snapshot=lambda u: _snapshot(u, settings), admin_check=has_working_admin,
                          message=LAST_ADMIN)
            except UserAdminError as refused:
                form.role.errors.append(refused.message)
            else:
                db.session.commit()
                flash(f"{user.login_id} を更新しました。", "success")
                if user.id == current_user.id and user.role != ROLE_ADMIN:
                    return redirect(url_for("main.dashboard"))
                return redirect(url_for("mama.users_show", user_id=user.id))
    return _form_page(form, user, may_scope)


@bp.route("/users/<int:user_id>")
@menu_required(MENU_USERS)
def users_show(user_id: int):
    """One user (role, menu permission set, state, last login); where 編集 leads after saving."""
    user = db.get_or_404(User, user_id)
    settings = db.session.execute(sa.select(MamaUserSettings).where(MamaUserSettings.user_id == user.id)).scalar()
    return render_template("mama/users/show.html", user=user, settings=settings, form=ConfirmForm(), now=utcnow())


@bp.route("/users/<int:user_id>/delete", methods=["GET", "POST"])
@menu_required(MENU_USERS, LEVEL_DELETE)
def users_delete(user_id: int):
    """Delete a user after the confirmation page (audit rows keep the login id as text); never oneself or the
    last admin."""
    user = db.get_or_404(User, user_id)
    error = None
    if confirmed():
        try:
            login_id = delete_user(user, actor=current_user, cleanup=_delete_mama_rows,
                                   admin_check=has_working_admin, message=LAST_ADMIN)
        except UserAdminError as refused:
            error = refused.message
        else:
            db.session.commit()
            flash(f"{login_id} を削除しました。", "success")
            return redirect(url_for("mama.users_index"))
    return confirmation("ユーザーを削除しますか？", target=[
        ("ログインID", user.login_id), ("氏名", user.name), ("権限区分", user.role_label)],
        consequences=["このユーザーはログインできなくなり、ログイン中のセッションも終了します。",
                      "登録端末・物件参照権限も削除されます。元に戻すことはできません。",
                      "操作ログにはログインIDが残ります。"],
        cancel_url=url_for("mama.users_index"), error=error, testid="confirm-delete")


@bp.route("/users/<int:user_id>/reset-password", methods=["GET", "POST"])
@menu_required(MENU_USERS, LEVEL_EDIT)
def users_reset_password(user_id: int):
    """Give a user a new temporary password (shown once); their sessions end; optionally revoke devices."""
    user = db.get_or_404(User, user_id)
    form = PasswordResetForm()
    error = None
    if confirmed() and form.validate_on_submit():  # the page is its own confirmation step
        def revoke_devices(target: User) -> dict:
            if not form.revoke_devices.data:
                return {"devices_revoked": 0}
            return {"devices_revoked": devices.revoke_all(target, current_user, reason="password_reset")}

        try:
            temporary, details = reset_password(user, actor=current_user, also=revoke_devices)
        except UserAdminError as refused:
            error = refused.message
        else:
            reset_requests.close_for(user, current_user)
            db.session.commit()
            revoked = details["devices_revoked"]
            return render_template("mama/users/reset_done.html", user=user, password=temporary,
                                   revoked=revoked, hours=current_app.config["KANRI_TEMP_PASSWORD_HOURS"])
    return render_template("mama/users/reset.html", user=user, form=form, error=error), 422 if error else 200


@bp.route("/users/<int:user_id>/unlock", methods=["POST"])
@menu_required(MENU_USERS, LEVEL_EDIT)
def users_unlock(user_id: int):
    """Lift a user's lockout."""
    require_confirm()
    user = db.get_or_404(User, user_id)
    unlock_account(user, actor=current_user)
    db.session.commit()
    flash(f"{user.login_id} のロックを解除しました。", "success")
    return redirect(url_for("mama.users_index"))
