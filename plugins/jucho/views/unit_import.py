"""住戸CSV取込: upload → preview of every row (新規 / 更新 / エラー) → 取り込む (all or nothing, once)."""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import SubmitField

from app import audit
from app.auth.guards import product_required
from app.extensions import db
from app.forms import ConfirmForm, KanriForm

from .. import PRODUCT
from .. import unit_import as importer
from ..units import columns_for
from . import bp
from .units import building_or_404

ACTION_LABELS = {"new": "新規", "update": "更新", "error": "エラー"}


class UploadForm(KanriForm):
    """The CSV file to check."""

    file = FileField("CSVファイル")
    submit = SubmitField("確認する")


@bp.route("/buildings/<int:building_id>/units/import", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def unit_import(building_id: int):
    """Upload a 住戸 CSV; it is checked and kept as a pending import (nothing is saved to the units)."""
    building = building_or_404(building_id)
    form = UploadForm()
    error, status = None, 200
    if form.validate_on_submit():
        upload = form.file.data
        if upload is None or not getattr(upload, "filename", ""):
            error = "CSVファイルを選択してください。"
        else:
            data = upload.stream.read(importer.MAX_BYTES + 1)
            try:
                result = importer.plan(data, building.id, include_personal=current_user.is_admin)
            except importer.ImportRefused as exc:
                error = str(exc)
            else:
                pending = importer.save_pending(result, building.id, current_user.id, upload.filename or "")
                audit.record("jucho.unit.import_check", target=f"building:{building.id}", rows=len(result.rows),
                             new=result.count("new"), updated=result.count("update"), errors=result.error_count)
                db.session.commit()
                return redirect(url_for("jucho.unit_import_preview", building_id=building.id, import_id=pending.id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("jucho/units/import.html", building=building, form=form, error=error,
                           columns=columns_for(current_user.is_admin), max_rows=importer.MAX_ROWS,
                           max_kb=importer.MAX_BYTES // 1000), status


def _pending_or_404(building_id: int, import_id: int):
    pending = importer.pending_of(import_id, building_id, current_user.id)
    if pending is None:
        abort(404)
    return pending


@bp.route("/buildings/<int:building_id>/units/import/<int:import_id>")
@product_required(PRODUCT.code)
def unit_import_preview(building_id: int, import_id: int):
    """The preview: every row with what will happen and its errors (row number, column, message)."""
    building = building_or_404(building_id)
    pending = _pending_or_404(building.id, import_id)
    state = importer.state_of(pending)
    result = importer.plan_of(pending) if state == "open" else None
    return render_template("jucho/units/preview.html", building=building, pending=pending, state=state,
                           result=result, labels=ACTION_LABELS, form=ConfirmForm()), 200 if state == "open" else 410


@bp.route("/buildings/<int:building_id>/units/import/<int:import_id>/apply", methods=["POST"])
@product_required(PRODUCT.code)
def unit_import_apply(building_id: int, import_id: int):
    """取り込む: write every row of the pending import in one transaction; refused once applied or expired."""
    building = building_or_404(building_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    pending = _pending_or_404(building.id, import_id)
    try:
        created, updated = importer.apply(pending)
    except importer.ImportRefused as exc:
        db.session.rollback()
        audit.record("jucho.unit.import", outcome="failure", target=f"building:{building.id}", reason=str(exc))
        db.session.commit()
        flash(str(exc), "error")
        return redirect(url_for("jucho.unit_import_preview", building_id=building.id, import_id=import_id))
    audit.record("jucho.unit.import", target=f"building:{building.id}", created=created, updated=updated)
    db.session.commit()
    flash(f"住戸を取り込みました（新規 {created}件・更新 {updated}件）。", "success")
    return redirect(url_for("jucho.unit_list", building_id=building.id))
