"""物件 screens: list (search, sort, pages), 物件マスタ登録, 編集, 削除 and CSV."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app import audit, trash
from app.auth.guards import product_required
from app.confirm import confirmation, confirmed
from app.csv_export import csv_response, in_batches
from app.extensions import db
from app.forms import choices
from app.listing import listing
from app.queryargs import int_arg
from app.routing import MAX_ROW_ID
from app.softdelete import soft_delete, trash_days

from .. import PRODUCT
from ..forms import BuildingForm
from ..models import FEE_BASES, MANAGEMENT_FORMS, JuchoAssociation, JuchoBuilding
from . import bp
from .associations import admin_only

SORTS = {
    "kana": JuchoBuilding.kana, "name": JuchoBuilding.name, "completed": JuchoBuilding.completion_date,
    "units": JuchoBuilding.total_units, "updated": JuchoBuilding.updated_at,
}
TEXT_FIELDS = ("kana", "building_name", "other_fees", "planned_repair", "notes")
VALUE_FIELDS = ("association_id", "name", "postal_code", "prefecture", "city", "address_line", "structure", "floors_above", "total_units", "completion_date",
                "management_fee_basis", "management_fee", "repair_reserve_basis", "repair_reserve", "parking_fee",
                "planned_repair_year")


def _association_filter() -> int | None:
    return int_arg("association", default=None, minimum=1, maximum=MAX_ROW_ID)


def _association_choices(form: BuildingForm) -> None:
    rows = db.session.execute(sa.select(JuchoAssociation.id, JuchoAssociation.name).order_by(JuchoAssociation.kana, JuchoAssociation.id))
    form.association_id.choices = choices((row.id, row.name) for row in rows)


def _save(form: BuildingForm, building: JuchoBuilding) -> None:
    for name in VALUE_FIELDS:
        setattr(building, name, getattr(form, name).data)
    building.floors_below = form.floors_below.data or 0
    for name in TEXT_FIELDS:
        setattr(building, name, getattr(form, name).data or "")


@bp.route("/buildings")
@product_required(PRODUCT.code)
def building_list():
    """物件一覧 (optionally of one 管理組合)."""
    association_id = _association_filter()
    # No join: the count and the page touch jucho_buildings only; names come in one IN query per page.
    query = sa.select(JuchoBuilding).options(
        selectinload(JuchoBuilding.association).load_only(JuchoAssociation.id, JuchoAssociation.name))
    if association_id is not None:
        query = query.where(JuchoBuilding.association_id == association_id)
    association = db.session.get(JuchoAssociation, association_id) if association_id is not None else None
    result = listing(query, sorts=SORTS, default_sort="kana", tiebreak=JuchoBuilding.id,
                     searchable=JuchoBuilding,
                     filters={"association": association.id} if association is not None else None)
    return render_template("jucho/buildings/index.html", listing=result, association=association)


@bp.route("/buildings/new", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def building_new():
    """物件マスタ登録 (a 管理組合 must exist first)."""
    form = BuildingForm()
    _association_choices(form)
    if request.method == "GET":
        form.association_id.data = _association_filter()
    if form.validate_on_submit():
        building = JuchoBuilding()
        _save(form, building)
        db.session.add(building)
        db.session.flush()
        audit.record("jucho.building.create", target=f"building:{building.id}")
        db.session.commit()
        flash(f"物件「{building.name}」を登録しました。", "success")
        return redirect(url_for("jucho.building_show", building_id=building.id))
    return render_template("jucho/buildings/form.html", form=form, building=None)


@bp.route("/buildings/<int:building_id>/edit", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def building_edit(building_id: int):
    """物件編集."""
    building = db.get_or_404(JuchoBuilding, building_id)
    form = BuildingForm(obj=building)
    _association_choices(form)
    if form.validate_on_submit():
        _save(form, building)
        audit.record("jucho.building.update", target=f"building:{building.id}")
        db.session.commit()
        flash("物件を保存しました。", "success")
        return redirect(url_for("jucho.building_show", building_id=building.id))
    return render_template("jucho/buildings/form.html", form=form, building=building)


@bp.route("/buildings/<int:building_id>/delete", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def building_delete(building_id: int):
    """物件削除 (管理者), after the confirmation page: to 削除済み for 30 days."""
    building = db.get_or_404(JuchoBuilding, building_id)
    admin_only(f"building:{building.id}")
    if not confirmed():
        return confirmation("物件を削除しますか？", target=[
            ("物件名", building.name), ("所在地", building.address), ("管理組合", building.association.name)],
            consequences=["この物件は一覧・検索・CSV出力に表示されなくなります。",
                          f"削除後{trash_days()}日間は管理者が「削除済みの物件」から元に戻せます。"
                          f"{trash_days()}日を過ぎると完全に削除され、元に戻せません。"],
            cancel_url=url_for("jucho.building_show", building_id=building.id), testid="confirm-delete")
    soft_delete(building, current_user.login_id)
    audit.record("jucho.building.delete", target=f"building:{building.id}")
    db.session.commit()
    flash(f"物件「{building.name}」を削除しました（{trash_days()}日間は削除済みの一覧から元に戻せます）。", "success")
    return redirect(url_for("jucho.building_list"))


@bp.route("/buildings/trash")
@product_required(PRODUCT.code)
def building_trash():
    """削除済みの物件 (管理者)."""
    admin_only("buildings:trash")
    return trash.trash_page(JuchoBuilding, title="削除済みの物件", columns=[
        ("物件名", "name"), ("所在地", "address"), ("管理組合", lambda b: b.association.name)],
        restore_endpoint="jucho.building_restore", id_arg="building_id", back_url=url_for("jucho.building_list"),
        back_label="物件一覧")


@bp.route("/buildings/trash/<int:building_id>/restore", methods=["POST"])
@product_required(PRODUCT.code)
def building_restore(building_id: int):
    """Bring a deleted 物件 back (管理者); refused while its 管理組合 is itself deleted."""
    admin_only(f"building:{building_id}")
    building = trash.deleted_or_404(JuchoBuilding, building_id)
    refusal = None
    if db.session.get(JuchoAssociation, building.association_id) is None:
        refusal = (f"物件「{building.name}」の管理組合は削除済みのため、元に戻せません。"
                   "先に「削除済みの管理組合」から管理組合を元に戻してください。")
    trash.restore_from_trash(building, refusal=refusal, action="jucho.building.restore",
                             target=f"building:{building.id}", done=f"物件「{building.name}」を元に戻しました。")
    return redirect(url_for("jucho.building_trash"))


def _cells(building: JuchoBuilding) -> list:
    association = building.association
    return [
        building.id, association.name, MANAGEMENT_FORMS.get(association.management_form, ""), building.name,
        building.kana, building.postal_code, building.address, building.structure_label, building.floors_above, building.floors_below,
        building.total_units, building.completion_date.isoformat() if building.completion_date else "",
        FEE_BASES.get(building.management_fee_basis, ""), building.management_fee,
        FEE_BASES.get(building.repair_reserve_basis, ""), building.repair_reserve, building.parking_fee,
        building.other_fees, building.planned_repair_year, building.planned_repair, building.notes,
    ]


@bp.route("/buildings.csv")
@product_required(PRODUCT.code)
def building_csv():
    """物件 CSV (UTF-8 with BOM), streamed in batches."""
    audit.record("jucho.export", target="buildings")
    db.session.commit()
    rows = in_batches(JuchoBuilding, sa.select(JuchoBuilding).options(
        selectinload(JuchoBuilding.association).load_only(
            JuchoAssociation.id, JuchoAssociation.name, JuchoAssociation.management_form)))
    header = ["ID", "管理組合", "管理形態", "物件名", "フリガナ", "郵便番号", "所在地", "構造", "地上階数", "地下階数", "総戸数",
              "竣工年月日", "管理費の単位", "管理費（月額・円）", "修繕積立金の単位", "修繕積立金（月額・円）",
              "駐車場使用料（月額・円）", "その他の使用料", "大規模修繕の予定年", "大規模修繕の予定内容", "備考"]
    return csv_response("buildings", "物件", header, rows, _cells)
