"""管理組合登録: list with search, sort and pagination, detail, add, edit, delete and CSV — all within the user's scope."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app import audit
from app.extensions import db
from app.forms import ConfirmForm, require_confirm
from app.listing import listing
from app.queryargs import choice_arg, text_arg

from .. import associations as assoc
from ..csv_export import associations_csv
from ..forms import PREFECTURES, AssociationForm
from ..models import MamaAssociation, MamaUserAssociation
from ..permissions import MENU_ASSOCIATIONS, menu_required
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
    result = listing(assoc.in_prefecture(current_user, prefecture), sorts=assoc.SORTS,
                     default_sort=assoc.DEFAULT_SORT, filters={"prefecture": prefecture}, per_page=assoc.PER_PAGE,
                     **assoc.SEARCH)
    return render_template("mama/associations/index.html", listing=result, prefectures=PREFECTURES,
                           total_in_scope=assoc.count_in_scope(current_user))


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
@menu_required(MENU_ASSOCIATIONS)
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
    return render_template("mama/associations/show.html", association=association, form=ConfirmForm())


@bp.route("/associations/<int:association_id>/edit", methods=["GET", "POST"])
@menu_required(MENU_ASSOCIATIONS)
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


@bp.route("/associations/<int:association_id>/delete", methods=["POST"])
@menu_required(MENU_ASSOCIATIONS)
def associations_delete(association_id: int):
    """Delete an association (404 outside the user's scope)."""
    require_confirm()
    association = assoc.get_in_scope(association_id, current_user)
    before = assoc.public_values(association)
    assoc.delete_association(association)
    audit.record("mama.association.delete", target=f"association:{before['code']}", before=before)
    db.session.commit()
    flash(f"管理組合「{before['name']}」を削除しました。", "success")
    return redirect(url_for("mama.associations_index"))
