"""メニュー権限マスタ: named permission sets per role (一般 / 管理者), built from every plugin's menu registry."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app import audit
from app.confirm import confirmation, confirmed
from app.extensions import db
from app.forms import ConfirmForm, choices
from app.models import ROLE_ADMIN, ROLE_GENERAL, ROLE_LABELS
from app.queryargs import choice_arg
from app.tenancy import current_tenant
from app.user_admin import LastAdminError, require_an_admin

from ..forms import PermissionSetForm
from ..models import MamaPermissionSet
from ..permissions import (
    LAST_ADMIN,
    MENU_PERMISSIONS,
    eligible_menus,
    has_working_admin,
    menu_key,
    menu_required,
    permission_sets,
    users_of_set,
)
from . import bp


def _role_arg() -> str:
    return choice_arg("role", (ROLE_GENERAL, ROLE_ADMIN), ROLE_GENERAL)


def _name_taken(name: str, exclude_id: int | None) -> bool:
    return any(s.name == name and s.id != exclude_id for s in permission_sets())


@bp.route("/permissions")
@menu_required(MENU_PERMISSIONS)
def permissions_index():
    """The permission sets of one role as a menu × set matrix."""
    role = _role_arg()
    sets = permission_sets(role)
    return render_template("mama/permissions/index.html", role=role, role_labels=ROLE_LABELS,
                           menus=eligible_menus(current_tenant(), role), sets=sets, menu_key=menu_key,
                           counts={s.id: users_of_set(s) for s in sets}, form=ConfirmForm())


def _save(permission_set: MamaPermissionSet | None, role: str):
    form = PermissionSetForm(obj=permission_set)
    menus = eligible_menus(current_tenant(), role)
    form.menus.choices = choices((menu_key(link), link.label) for link in menus)
    if permission_set is not None and not form.is_submitted():
        form.menus.data = permission_set.menu_ids
    if form.validate_on_submit():
        if _name_taken(form.name.data, permission_set.id if permission_set else None):
            form.name.errors.append("この名前の権限セットは既にあります。")
        else:
            creating = permission_set is None
            before = None if creating else {"name": permission_set.name, "menus": permission_set.menu_ids}
            if creating:
                permission_set = MamaPermissionSet(role=role)
                db.session.add(permission_set)
            permission_set.name = form.name.data
            permission_set.menu_ids = form.menus.data or []
            db.session.flush()
            try:
                require_an_admin(has_working_admin, LAST_ADMIN)
            except LastAdminError as refused:
                form.menus.errors.append(refused.message)
            else:
                after = {"name": permission_set.name, "role": role, "menus": permission_set.menu_ids}
                audit.record("mama.permission_set." + ("create" if creating else "update"),
                             target=f"permission_set:{permission_set.id}", before=before, after=after)
                db.session.commit()
                flash(f"権限セット「{permission_set.name}」を保存しました。", "success")
                return redirect(url_for("mama.permissions_index", role=role))
    return render_template("mama/permissions/form.html", form=form, role=role, role_labels=ROLE_LABELS,
                           permission_set=permission_set), 422 if form.errors else 200


@bp.route("/permissions/new", methods=["GET", "POST"])
@menu_required(MENU_PERMISSIONS)
def permissions_new():
    """Create a permission set for the role in ?role=."""
    return _save(None, _role_arg())


@bp.route("/permissions/<int:set_id>/edit", methods=["GET", "POST"])
@menu_required(MENU_PERMISSIONS)
def permissions_edit(set_id: int):
    """Change a permission set's name and menus."""
    permission_set = db.get_or_404(MamaPermissionSet, set_id)
    return _save(permission_set, permission_set.role)


@bp.route("/permissions/<int:set_id>/delete", methods=["GET", "POST"])
@menu_required(MENU_PERMISSIONS)
def permissions_delete(set_id: int):
    """Delete a permission set that no user uses, after the confirmation page."""
    permission_set = db.get_or_404(MamaPermissionSet, set_id)
    role = permission_set.role
    in_use = users_of_set(permission_set)
    error = None
    if in_use:
        error = (f"権限セット「{permission_set.name}」は{in_use}人が使っているため削除できません。"
                 "先にユーザーの設定を変更してください。")
    if error or not confirmed():
        labels = {menu_key(link): link.label for link in eligible_menus(current_tenant(), role)}
        return confirmation("権限セットを削除しますか？", target=[
            ("権限セット名", permission_set.name), ("権限区分", ROLE_LABELS.get(role, role)),
            ("使えるメニュー", "、".join(labels.get(m, m) for m in permission_set.menu_ids) or "なし")],
            consequences=["この権限セットは元に戻せません。同じ内容が必要になったら、もう一度作成してください。",
                          "使っているユーザーはいません（使われている権限セットは削除できません）。"],
            cancel_url=url_for("mama.permissions_index", role=role), error=error, testid="confirm-delete")
    audit.record("mama.permission_set.delete", target=f"permission_set:{permission_set.id}",
                 before={"name": permission_set.name, "role": role, "menus": permission_set.menu_ids},
                 actor=current_user)
    db.session.delete(permission_set)
    db.session.commit()
    flash(f"権限セット「{permission_set.name}」を削除しました。", "success")
    return redirect(url_for("mama.permissions_index", role=role))
