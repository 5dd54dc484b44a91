"""修繕記録: list with search, sort and pages; add and edit; delete after a confirmation (管理者)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for

from app import audit
from app.auth.guards import product_required
from app.confirm import confirmation, confirmed
from app.extensions import db
from app.listing import listing

from ..forms import RecordForm
from ..models import RepairRecord
from . import bp

CODE = "repairs"
PER_PAGE = 20
SORTS = {"title": RepairRecord.title, "contractor": RepairRecord.contractor_kana, "cost": RepairRecord.cost,
         "updated": RepairRecord.updated_at}
FIELDS = ("title", "contractor", "contractor_kana", "contact_name", "contact_phone", "cost")
PERSONAL = ("contact_name", "contact_phone")  # encrypted: only the names of changed ones are audited


@bp.route("/records")
@product_required(CODE)
def records_index():
    """Search (工事名・施工業者・フリガナ), sort and page through the tenant's repair records."""
    result = listing(sa.select(RepairRecord), sorts=SORTS, default_sort="title", tiebreak=RepairRecord.id,
                     columns=[RepairRecord.title, RepairRecord.contractor], kana=[RepairRecord.contractor_kana],
                     per_page=PER_PAGE)
    return render_template("repairs/records/index.html", listing=result)


def _save(form: RecordForm, record: RepairRecord | None):
    action = "repairs.record.update" if record else "repairs.record.create"
    before = record.public_values() if record else None
    record = record or RepairRecord()
    personal = [name for name in PERSONAL if getattr(record, name) != (getattr(form, name).data or None)]
    for name in FIELDS:
        value = getattr(form, name).data
        setattr(record, name, (value or None) if name in PERSONAL else value)
    db.session.add(record)
    db.session.flush()
    audit.record(action, target=f"repair:{record.id}", before=before, after=record.public_values(),
                 changed_personal_fields=personal)
    db.session.commit()
    flash(f"修繕記録「{record.title}」を保存しました。", "success")
    return redirect(url_for("repairs.records_index"))


@bp.route("/records/new", methods=["GET", "POST"])
@product_required(CODE)
def records_new():
    """Add a repair record."""
    form = RecordForm()
    if form.validate_on_submit():
        return _save(form, None)
    return render_template("repairs/records/form.html", form=form, record=None), 422 if form.errors else 200


@bp.route("/records/<int:record_id>/edit", methods=["GET", "POST"])
@product_required(CODE)
def records_edit(record_id: int):
    """Change a repair record (another tenant's id is 404)."""
    record = db.get_or_404(RepairRecord, record_id)
    form = RecordForm(obj=record)
    if form.validate_on_submit():
        return _save(form, record)
    return render_template("repairs/records/form.html", form=form, record=record), 422 if form.errors else 200


@bp.route("/records/<int:record_id>/delete", methods=["GET", "POST"])
@product_required(CODE, admin=True)
def records_delete(record_id: int):
    """管理者 only: GET asks for confirmation, POST deletes."""
    record = db.get_or_404(RepairRecord, record_id)
    if not confirmed():
        return confirmation("修繕記録を削除しますか？", target=[("工事名", record.title), ("施工業者", record.contractor)],
                            consequences=["この修繕記録は元に戻せません。"], cancel_url=url_for("repairs.records_index"),
                            testid="confirm-delete")
    audit.record("repairs.record.delete", target=f"repair:{record.id}", before=record.public_values())
    db.session.delete(record)
    db.session.commit()
    flash(f"修繕記録「{record.title}」を削除しました。", "success")
    return redirect(url_for("repairs.records_index"))
