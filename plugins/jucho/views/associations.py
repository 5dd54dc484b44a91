"""管理組合 screens: list (search, sort, pages), 登録, 編集, 削除 and CSV."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask_login import current_user

from app import audit, trash
from app.auth.guards import deny, product_required
from app.confirm import confirmation, confirmed
from app.csv_export import csv_response, in_batches
from app.extensions import db
from app.listing import listing
from app.softdelete import soft_delete, trash_days

from .. import PRODUCT
from ..forms import AssociationForm
from ..models import JuchoAssociation, JuchoBuilding
from . import bp

SORTS = {"kana": JuchoAssociation.kana, "name": JuchoAssociation.name, "updated": JuchoAssociation.updated_at}
PERSONAL_FIELDS = ("contact_person", "contact_phone", "contact_email")


def _building_counts(ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(JuchoBuilding.association_id, sa.func.count(JuchoBuilding.id))
        .where(JuchoBuilding.association_id.in_(ids)).group_by(JuchoBuilding.association_id))
    return dict(rows.all())


@bp.route("/associations")
@product_required(PRODUCT.code)
def association_list():
    """管理組合一覧."""
    query = sa.select(JuchoAssociation).options(sa.orm.load_only(
        JuchoAssociation.id, JuchoAssociation.name, JuchoAssociation.kana, JuchoAssociation.management_form,
        JuchoAssociation.updated_at))
    result = listing(query, sorts=SORTS, default_sort="kana", tiebreak=JuchoAssociation.id,
                     searchable=JuchoAssociation)
    counts = _building_counts([a.id for a in result.page.items])
    return render_template("jucho/associations/index.html", listing=result, counts=counts)


def _save(form: AssociationForm, association: JuchoAssociation) -> None:
    association.name = form.name.data
    association.kana = form.kana.data or ""
    association.management_form = form.management_form.data
    for name in PERSONAL_FIELDS:  # empty personal fields are stored as NULL, never as ciphertext of ""
        setattr(association, name, getattr(form, name).data or None)
    association.notes = form.notes.data or ""


@bp.route("/associations/new", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def association_new():
    """管理組合登録."""
    form = AssociationForm()
    if form.validate_on_submit():
        association = JuchoAssociation()
        _save(form, association)
        db.session.add(association)
        db.session.flush()
        audit.record("jucho.association.create", target=f"association:{association.id}")
        db.session.commit()
        flash(f"管理組合「{association.name}」を登録しました。", "success")
        return redirect(url_for("jucho.association_show", association_id=association.id))
    return render_template("jucho/associations/form.html", form=form, association=None)


@bp.route("/associations/<int:association_id>/edit", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def association_edit(association_id: int):
    """管理組合編集."""
    association = db.get_or_404(JuchoAssociation, association_id)
    form = AssociationForm(obj=association)
    if form.validate_on_submit():
        _save(form, association)
        audit.record("jucho.association.update", target=f"association:{association.id}")
        db.session.commit()
        flash("管理組合を保存しました。", "success")
        return redirect(url_for("jucho.association_show", association_id=association.id))
    return render_template("jucho/associations/form.html", form=form, association=association)


@bp.route("/associations/<int:association_id>")
@product_required(PRODUCT.code)
def association_show(association_id: int):
    """管理組合の詳細 and its 物件 (where 登録 and 編集 lead after saving)."""
    association = db.get_or_404(JuchoAssociation, association_id)
    buildings = db.session.execute(
        sa.select(JuchoBuilding).where(JuchoBuilding.association_id == association.id).order_by(JuchoBuilding.kana, JuchoBuilding.id)
        .limit(100)).scalars().all()
    return render_template("jucho/associations/show.html", association=association, buildings=buildings)


def admin_only(target: str) -> None:
    """403 and an audit event for a user who is not 管理者."""
    if not current_user.is_admin:
        deny(target, reason="admin_only")


@bp.route("/associations/<int:association_id>/delete", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def association_delete(association_id: int):
    """管理組合削除 (管理者; only when no 物件 belongs to it), after the confirmation page: to 削除済み for 30 days."""
    association = db.get_or_404(JuchoAssociation, association_id)
    admin_only(f"association:{association.id}")
    count = _building_counts([association.id]).get(association.id, 0)
    error = f"物件が{count}件登録されているため削除できません。先に物件を削除してください。" if count else None
    if error or not confirmed():
        return confirmation("管理組合を削除しますか？", target=[
            ("管理組合名", association.name), ("フリガナ", association.kana), ("管理形態", association.management_form_label)],
            consequences=["この管理組合は一覧・検索・CSV出力・物件の登録画面に表示されなくなります。",
                          f"削除後{trash_days()}日間は管理者が「削除済みの管理組合」から元に戻せます。"
                          f"{trash_days()}日を過ぎると完全に削除され、元に戻せません。"],
            cancel_url=url_for("jucho.association_show", association_id=association.id), error=error,
            testid="confirm-delete")
    soft_delete(association, current_user.login_id)
    audit.record("jucho.association.delete", target=f"association:{association.id}")
    db.session.commit()
    flash(f"管理組合「{association.name}」を削除しました（{trash_days()}日間は削除済みの一覧から元に戻せます）。", "success")
    return redirect(url_for("jucho.association_list"))


@bp.route("/associations/trash")
@product_required(PRODUCT.code)
def association_trash():
    """削除済みの管理組合 (管理者)."""
    admin_only("associations:trash")
    return trash.trash_page(JuchoAssociation, title="削除済みの管理組合", columns=[
        ("管理組合名", "name"), ("フリガナ", "kana"), ("管理形態", "management_form_label")],
        restore_endpoint="jucho.association_restore", id_arg="association_id",
        back_url=url_for("jucho.association_list"), back_label="管理組合一覧")


@bp.route("/associations/trash/<int:association_id>/restore", methods=["POST"])
@product_required(PRODUCT.code)
def association_restore(association_id: int):
    """Bring a deleted 管理組合 back (管理者)."""
    admin_only(f"association:{association_id}")
    association = trash.deleted_or_404(JuchoAssociation, association_id)
    trash.restore_from_trash(association, refusal=None, action="jucho.association.restore",
                             target=f"association:{association.id}",
                             done=f"管理組合「{association.name}」を元に戻しました。")
    return redirect(url_for("jucho.association_trash"))


@bp.route("/associations.csv")
@product_required(PRODUCT.code)
def association_csv():
    """管理組合 CSV (UTF-8 with BOM), streamed in batches."""
    audit.record("jucho.export", target="associations")
    db.session.commit()
    rows = in_batches(JuchoAssociation, sa.select(JuchoAssociation))
    header = ["ID", "管理組合名", "フリガナ", "管理形態", "管理会社担当者", "担当者電話番号", "担当者メールアドレス", "備考"]
    return csv_response("associations", "管理組合", header, rows, lambda a: [
        a.id, a.name, a.kana, a.management_form_label, a.contact_person, a.contact_phone, a.contact_email, a.notes])
