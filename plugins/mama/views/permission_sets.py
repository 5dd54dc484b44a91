"""メニュー権限マスタ: named permission sets per role (一般 / 管理者), built from every plugin's menu registry."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user

from app import audit
from app.confirm import confirmation, confirmed
from app.extensions import db
from app.forms import ConfirmForm
from app.models import ROLE_ADMIN, ROLE_GENERAL, ROLE_LABELS
from app.queryargs import choice_arg
from app.tenancy import current_tenant
from app.user_admin import LastAdminError, require_an_admin

from ..forms import PermissionSetForm
from ..models import MamaPermissionSet
from ..permissions import (
    ALL_LEVELS,
    LAST_ADMIN,
    LEVEL_DELETE,
    LEVEL_EDIT,
    LEVEL_LABELS,
    MENU_PERMISSIONS,
    eligible_menus,
    has_working_admin,
    implies,
    level_names,
    levels_of,
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
                           level_names=level_names,
                           counts={s.id: users_of_set(s) for s in sets}, form=ConfirmForm())


def _chosen_levels(menus) -> dict[str, str]:
    """menu id → the highest level ticked in the grid (ticking 削除 implies 編集 and 閲覧); unknown values ignored."""
    chosen = {}
    for link in menus:
        key = menu_key(link)
        ticked = [level for level in levels_of(key) if level in request.form.getlist(f"level-{key}")]
        if ticked:
            chosen[key] = ticked[-1]
    return chosen


def _save(permission_set: MamaPermissionSet | None, role: str):
    form = PermissionSetForm(obj=permission_set)
    menus = eligible_menus(current_tenant(), role)
    levels = permission_set.levels if permission_set is not None else {}
    if form.is_submitted():
        levels = _chosen_levels(menus)
    if form.validate_on_submit():
        if _name_taken(form.name.data, permission_set.id if permission_set else None):
            form.name.errors.append("この名前の権限セットは既にあります。")
        else:
            creating = permission_set is None
            before = None if creating else {"name": permission_set.name, "levels": permission_set.levels}
            if creating:
                permission_set = MamaPermissionSet(role=role)
                db.session.add(permission_set)
            permission_set.name = form.name.data
            permission_set.levels = levels
            db.session.flush()
            try:
                require_an_admin(has_working_admin, LAST_ADMIN)
            except LastAdminError as refused:
                form.name.errors.append(refused.message)
            else:
                after = {"name": permission_set.name, "role": role, "levels": permission_set.levels}
                audit.record("mama.permission_set." + ("create" if creating else "update"),
                             target=f"permission_set:{permission_set.id}", before=before, after=after)
                db.session.commit()
                flash(f"権限セット「{permission_set.name}」を保存しました。", "success")
                if not levels:
                    flash(f"権限セット「{permission_set.name}」ではどのメニューも使えません。このセットのユーザーは"
                          "ログインしてもダッシュボードと登録端末しか開けません。意図したものか確認してください。",
                          "warning")
                return redirect(url_for("mama.permissions_index", role=role))
    return render_template("mama/permissions/form.html", form=form, role=role, role_labels=ROLE_LABELS,
                           permission_set=permission_set, menus=menus, levels=levels, menu_key=menu_key,
                           levels_of=levels_of, level_labels=LEVEL_LABELS, implies=implies,
                           all_levels=ALL_LEVELS), 422 if form.errors else 200


@bp.route("/permissions/new", methods=["GET", "POST"])
@menu_required(MENU_PERMISSIONS, LEVEL_EDIT)
def permissions_new():
    """Create a permission set for the role in ?role=."""
    return _save(None, _role_arg())


@bp.route("/permissions/<int:set_id>/edit", methods=["GET", "POST"])
@menu_required(MENU_PERMISSIONS, LEVEL_EDIT)
def permissions_edit(set_id: int):
    """Change a permission set's name and menus."""
    permission_set = db.get_or_404(MamaPermissionSet, set_id)
    return _save(permission_set, permission_set.role)


@bp.route("/permissions/<int:set_id>/delete", methods=["GET", "POST"])
@menu_required(MENU_PERMISSIONS, LEVEL_DELETE)
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
            ("使えるメニュー", "、".join(f"{labels.get(m, m)}（{LEVEL_LABELS[level]}）"
                                         for m, level in permission_set.levels.items()) or "なし")],
            consequences=["この権限セットは元に戻せません。同じ内容が必要になったら、もう一度作成してください。",
                          "使っているユーザーはいません（使われている権限セットは削除できません）。"],
            cancel_url=url_for("mama.permissions_index", role=role), error=error, testid="confirm-delete")
    audit.record("mama.permission_set.delete", target=f"permission_set:{permission_set.id}",
                 before={"name": permission_set.name, "role": role, "levels": permission_set.levels},
                 actor=current_user)
    db.session.delete(permission_set)
    db.session.commit()
    flash(f"権限セット「{permission_set.name}」を削除しました。", "success")
    return redirect(url_for("mama.permissions_index", role=role))
