"""物件詳細: the 別表第5 sections of a building with 編集 per group, and its 大規模修繕 rows (add, delete)."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from wtforms import IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Optional

from app import audit
from app.auth.guards import product_required
from app.confirm import confirmation, confirmed
from app.extensions import db
from app.forms import REQUIRED, KanriForm, NumberRange, choices, max_length, strip_filter

from .. import PRODUCT
from .. import profile as spec
from ..models import JuchoBuilding
from ..models_profile import REPAIR_KINDS, JuchoBuildingProfile, JuchoRepairRecord, profile_of, repair_records
from ..models_units import JuchoUnit
from . import bp


class RepairForm(KanriForm):
    """One 大規模修繕 row: 実施履歴 or 予定, year, month, content."""

    kind = SelectField("区分", choices=choices(REPAIR_KINDS), default="done")
    year = IntegerField("年", validators=[InputRequired(REQUIRED),
                                         NumberRange(1950, 2200, "1,950〜2,200年の範囲で入力してください。")])
    month = IntegerField("月", validators=[Optional(), NumberRange(1, 12, "1〜12の月を入力してください。")])
    content = StringField("内容", filters=[strip_filter], validators=[DataRequired(REQUIRED), max_length(500)])
    submit = SubmitField("追加")


@bp.route("/buildings/<int:building_id>")
@product_required(PRODUCT.code)
def building_show(building_id: int):
    """物件詳細: 基本情報 and every 別表第5 group as a section with its own 編集 button."""
    building = db.get_or_404(JuchoBuilding, building_id)
    profile = profile_of(building)
    sections = [(group, spec.rows(group, profile)) for group in spec.GROUPS]
    unit_count = db.session.execute(sa.select(sa.func.count(JuchoUnit.id)).where(
        JuchoUnit.building_id == building.id)).scalar_one()
    return render_template("jucho/profile/show.html", building=building, profile=profile, sections=sections,
                           repairs=repair_records(building), unit_count=unit_count, repair_form=RepairForm())


@bp.route("/buildings/<int:building_id>/profile/<group_code>", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def profile_edit(building_id: int, group_code: str):
    """Edit one group of a building's 別表第5 items (validated, audited with before/after)."""
    building = db.get_or_404(JuchoBuilding, building_id)
    group = spec.group_or_none(group_code)
    if group is None:
        abort(404)
    profile = profile_of(building)
    form = spec.form_class(group.code)(obj=profile)
    if form.validate_on_submit():
        if profile is None:
            profile = JuchoBuildingProfile(building_id=building.id)
            db.session.add(profile)
        before, after = spec.apply(group, form, profile)
        if after:
            db.session.flush()
            audit.record("jucho.profile.update", target=f"building:{building.id}", group=group.title,
                         before=before, after=after)
            db.session.commit()
            flash(f"「{group.title}」を保存しました。", "success")
        else:
            db.session.rollback()
            flash(f"「{group.title}」に変更はありません。", "info")
        return redirect(url_for("jucho.building_show", building_id=building.id, _anchor=f"group-{group.code}"))
    repairs = repair_records(building) if group.code == "plan" else []
    return render_template("jucho/profile/edit.html", building=building, group=group, form=form,
                           repairs=repairs, repair_form=RepairForm()), 422 if form.errors else 200


@bp.route("/buildings/<int:building_id>/repairs", methods=["POST"])
@product_required(PRODUCT.code)
def repair_add(building_id: int):
    """Add a 大規模修繕 row (実施履歴 or 予定)."""
    building = db.get_or_404(JuchoBuilding, building_id)
    form = RepairForm()
    if form.validate_on_submit():
        record = JuchoRepairRecord(building_id=building.id, kind=form.kind.data, year=form.year.data,
                                   month=form.month.data, content=form.content.data)
        db.session.add(record)
        db.session.flush()
        audit.record("jucho.repair.create", target=f"building:{building.id}", after={
            "区分": record.kind_label, "時期": f"{record.year}年{record.month or ''}{'月' if record.month else ''}",
            "内容": record.content})
        db.session.commit()
        flash("大規模修繕を登録しました。", "success")
        return redirect(url_for("jucho.building_show", building_id=building.id, _anchor="repairs"))
    profile = profile_of(building)
    group = spec.GROUPS_BY_CODE["plan"]
    return render_template("jucho/profile/edit.html", building=building, group=group,
                           form=spec.form_class("plan")(obj=profile), repair_form=form,
                           repairs=repair_records(building)), 422


@bp.route("/buildings/<int:building_id>/repairs/<int:record_id>/delete", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def repair_delete(building_id: int, record_id: int):
    """Delete a 大規模修繕 row after the confirmation page."""
    building = db.get_or_404(JuchoBuilding, building_id)
    record = db.get_or_404(JuchoRepairRecord, record_id)
    if record.building_id != building.id:
        abort(404)
    when = f"{record.year}年{record.month}月" if record.month else f"{record.year}年"
    if not confirmed():
        return confirmation("大規模修繕の記録を削除しますか？", target=[
            ("物件名", building.name), ("区分", record.kind_label), ("時期", when), ("内容", record.content)],
            consequences=["この記録は物件詳細と重要事項調査報告書に表示されなくなります。元に戻せません。"],
            cancel_url=url_for("jucho.building_show", building_id=building.id, _anchor="repairs"),
            testid="confirm-delete")
    audit.record("jucho.repair.delete", target=f"building:{building.id}",
                 before={"区分": record.kind_label, "時期": when, "内容": record.content})
    db.session.delete(record)
    db.session.commit()
    flash("大規模修繕の記録を削除しました。", "success")
    return redirect(url_for("jucho.building_show", building_id=building.id, _anchor="repairs"))
