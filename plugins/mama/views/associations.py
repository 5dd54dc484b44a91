"""管理組合登録: list with search, sort and pagination, detail, add, edit, delete and CSV — all within the user's scope."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app import audit, trash
from app.address import PREFECTURES
from app.auth.guards import deny
from app.confirm import confirmation, confirmed
from app.crypto import defer_encrypted
from app.extensions import db
from app.listing import capped_count, listing
from app.queryargs import choice_arg, text_arg
from app.softdelete import soft_delete, trash_days

from .. import associations as assoc
from ..csv_export import associations_csv
from ..forms import AssociationForm
from ..models import MamaAssociation, MamaUserAssociation
from ..permissions import LEVEL_DELETE, LEVEL_EDIT, MENU_ASSOCIATIONS, can, menu_required
from . import bp

FORM_FIELDS = ("code", "name", "name_kana", "postal_code", "prefecture", "city", "address_line", "building_name",
               "units", "building_year", "fiscal_start_month", "contact_name", "contact_phone", "contact_email",
               "notes")


def _prefecture() -> str:
    return choice_arg("prefecture", PREFECTURES, "")


@bp.route("/associations")
@menu_required(MENU_ASSOCIATIONS)
def associations_index():
    """Search, sort and page through the associations in the user's scope."""
    prefecture = _prefecture()
    # The contact person's encrypted fields are not on the list: left out, they are not decrypted 50 times.
    query = assoc.in_prefecture(current_user, prefecture).options(*defer_encrypted(MamaAssociation))
    result = listing(query, sorts=assoc.SORTS,
                     default_sort=assoc.DEFAULT_SORT, filters={"prefecture": prefecture}, per_page=assoc.PER_PAGE,
                     searchable=MamaAssociation)
    # Without a search or filter the page's own (capped) count is the scope's: no second count.
    page = result.page
    total, capped = capped_count(assoc.in_prefecture(current_user)) if result.q or prefecture else \
        (page.total, page.total_capped)
    return render_template("mama/associations/index.html", listing=result, prefectures=PREFECTURES,
                           total_in_scope=total, scope_capped=capped, may_edit=can(current_user, MENU_ASSOCIATIONS, LEVEL_EDIT),
                           may_delete=can(current_user, MENU_ASSOCIATIONS, LEVEL_DELETE),
                           why_none=assoc.scope_explanation(current_user) if total == 0 else None)


@bp.route("/associations/export.csv")
@menu_required(MENU_ASSOCIATIONS)
def associations_export():
    """Stream the current search result as CSV (UTF-8 with BOM, opens in Excel)."""
    q, prefecture = text_arg("q"), _prefecture()
    query = assoc.search_query(current_user, q, prefecture)
    audit.record("mama.association.export", target="associations", search=q, prefecture=prefecture)
    db.session.commit()
    return associations_csv(query)


def _apply(form: AssociationForm, association: MamaAssociation) -> None:
    for name in FORM_FIELDS:
        value = getattr(form, name).data
        setattr(association, name, value if value not in ("",) else None)
    association.code = form.code.data.upper()


def _form_data(form: AssociationForm) -> dict:
    return {name: getattr(form, name).data for name in FORM_FIELDS}


@bp.route("/associations/new", methods=["GET", "POST"])
@menu_required(MENU_ASSOCIATIONS, LEVEL_EDIT)
def associations_new():
    """Register an association; a user with a limited scope gets it added to their scope."""
    form = AssociationForm()
    if form.validate_on_submit():
        if assoc.code_taken(form.code.data):
            form.code.errors.append("この組合コードは既に登録されています。")
        else:
            association = MamaAssociation()
            _apply(form, association)
            db.session.add(association)
            db.session.flush()
            if not assoc.scope_all(current_user):
                db.session.add(MamaUserAssociation(user_id=current_user.id, association_id=association.id))
            audit.record("mama.association.create", target=f"association:{association.code}",
                         after=assoc.public_values(association),
                         changed_personal_fields=assoc.changed_personal_fields(MamaAssociation(), _form_data(form)))
            db.session.commit()
            flash(f"管理組合「{association.name}」を登録しました。", "success")
            return redirect(url_for("mama.associations_show", association_id=association.id))
    return render_template("mama/associations/form.html", form=form, association=None), \
        422 if form.errors else 200


@bp.route("/associations/<int:association_id>")
@menu_required(MENU_ASSOCIATIONS)
def associations_show(association_id: int):
    """One association (404 outside the user's scope)."""
    association = assoc.get_in_scope(association_id, current_user)
    return render_template("mama/associations/show.html", association=association)


@bp.route("/associations/<int:association_id>/edit", methods=["GET", "POST"])
@menu_required(MENU_ASSOCIATIONS, LEVEL_EDIT)
def associations_edit(association_id: int):
    """Change an association (404 outside the user's scope)."""
    association = assoc.get_in_scope(association_id, current_user)
    form = AssociationForm(obj=association)
    if form.validate_on_submit():
        if assoc.code_taken(form.code.data, exclude_id=association.id):
            form.code.errors.append("この組合コードは既に登録されています。")
        else:
            before = assoc.public_values(association)
            personal = assoc.changed_personal_fields(association, _form_data(form))
            _apply(form, association)
            audit.record("mama.association.update", target=f"association:{association.code}", before=before,
                         after=assoc.public_values(association), changed_personal_fields=personal)
            db.session.commit()
            flash(f"管理組合「{association.name}」を更新しました。", "success")
            return redirect(url_for("mama.associations_show", association_id=association.id))
    return render_template("mama/associations/form.html", form=form, association=association), \
        422 if form.errors else 200


@bp.route("/associations/<int:association_id>/delete", methods=["GET", "POST"])
@menu_required(MENU_ASSOCIATIONS, LEVEL_DELETE)
def associations_delete(association_id: int):
    """Move an association to 削除済み after the confirmation page (404 outside the user's scope)."""
    association = assoc.get_in_scope(association_id, current_user)
    if not confirmed():
        users = assoc.users_in_scope(association)
        return confirmation("管理組合を削除しますか？", target=[
            ("組合コード", association.code), ("管理組合名", association.name), ("所在地", association.address)],
            consequences=[
                "この管理組合は一覧・検索・CSV出力・物件参照権限の画面に表示されなくなります。",
                f"この管理組合を参照できるユーザー（{users}人）の物件参照権限からも外れます（元に戻すと参照権限も戻ります）。",
                f"削除後{trash_days()}日間は管理者が「削除済みの管理組合」から元に戻せます。"
                f"{trash_days()}日を過ぎると完全に削除され、元に戻せません。",
            ], cancel_url=url_for("mama.associations_show", association_id=association.id),
            testid="confirm-delete")
    before = assoc.public_values(association)
    soft_delete(association, current_user.login_id)
    audit.record("mama.association.delete", target=f"association:{before['code']}", before=before)
    db.session.commit()
    flash(f"管理組合「{before['name']}」を削除しました（{trash_days()}日間は削除済みの一覧から元に戻せます）。", "success")
    return redirect(url_for("mama.associations_index"))


def _admin_only(target: str) -> None:
    if not current_user.is_admin:
        deny(target, reason="admin_only")


@bp.route("/associations/trash")
@menu_required(MENU_ASSOCIATIONS, LEVEL_DELETE)
def associations_trash():
    """削除済みの管理組合 (管理者): restorable for 30 days."""
    _admin_only("associations:trash")
    return trash.trash_page(MamaAssociation, title="削除済みの管理組合", columns=[
        ("組合コード", "code"), ("管理組合名", "name"), ("所在地", "address")],
        restore_endpoint="mama.associations_restore", id_arg="association_id",
        back_url=url_for("mama.associations_index"), back_label="管理組合登録")


@bp.route("/associations/trash/<int:association_id>/restore", methods=["POST"])
@menu_required(MENU_ASSOCIATIONS, LEVEL_DELETE)
def associations_restore(association_id: int):
    """Bring a deleted association back (管理者); refused while a live association holds its code."""
    _admin_only(f"association:{association_id}")
    association = trash.deleted_or_404(MamaAssociation, association_id)
    refusal = None
    if assoc.code_taken(association.code):
        refusal = (f"組合コード「{association.code}」は登録中の別の管理組合が使っているため、元に戻せません。"
                   "先にそちらの組合コードを変更してください。")
    trash.restore_from_trash(association, refusal=refusal, action="mama.association.restore",
                             target=f"association:{association.code}", after=assoc.public_values(association),
                             done=f"管理組合「{association.name}」を元に戻しました。")
    return redirect(url_for("mama.associations_trash"))
