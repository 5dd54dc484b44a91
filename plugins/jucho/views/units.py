"""住戸 screens of a building: list (search, sort, pages), add, edit, delete, CSV export and template.

The arrears (滞納額・遅延損害金) are personal data: only 管理者 see or change them, on screen and in CSV."""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import DecimalField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import InputRequired, Optional, ValidationError

from app import audit
from app.auth.guards import product_required
from app.confirm import confirmation, confirmed
from app.csv_export import csv_response, in_batches
from app.extensions import db
from app.forms import REQUIRED, KanriForm, NumberRange, choices, max_length, strip_filter
from app.listing import listing

from .. import PRODUCT
from .. import formatting as fmt
from ..models import JuchoBuilding
from ..models_units import PAYMENT_METHODS, PERSONAL_FIELDS, JuchoUnit
from ..profile import YenField
from ..units import (
    LABELS,
    columns_for,
    normalize_layout,
    normalize_number,
    number_error,
    number_taken,
    store_personal,
)
from . import bp

SORTS = {"number": JuchoUnit.number, "floor": (JuchoUnit.floor, JuchoUnit.number), "area": JuchoUnit.area,
         "updated": JuchoUnit.updated_at}
VALUE_FIELDS = ("number", "floor", "area", "layout", "management_fee", "repair_reserve", "repair_lump_sum",
                "usage_fee", "usage_fee_detail", "community_fee", "payment_method")


def _yen(label: str, maximum: int = 10_000_000) -> YenField:
    return YenField(label, validators=[Optional(), NumberRange(0, maximum, f"0〜{maximum:,}円の範囲で入力してください。")])


def _number(form, field) -> None:
    field.data = normalize_number(field.data)
    problem = number_error(field.data)
    if problem:
        raise ValidationError(problem)


def _area(form, field) -> None:
    if field.data is not None and (not field.data.is_finite() or field.data.as_tuple().exponent < -2):
        raise ValidationError("専有面積は小数2桁までの数字で入力してください。")


class UnitForm(KanriForm):
    """住戸 as every user edits it (no arrears)."""

    number = StringField("住戸番号", validators=[InputRequired(REQUIRED), _number])
    floor = IntegerField("階", validators=[Optional(), NumberRange(-10, 200, "-10〜200の範囲で入力してください。")])
    area = DecimalField("専有面積（㎡）", places=2, validators=[
        Optional(), _area, NumberRange(0.01, 10000, "0より大きく10,000㎡以下で入力してください。")])
    layout = StringField("間取り", filters=[normalize_layout], validators=[max_length(20)])
    management_fee = _yen("管理費（月額・円）")
    repair_reserve = _yen("修繕積立金（月額・円）")
    repair_lump_sum = _yen("修繕一時金（円）", 1_000_000_000)
    usage_fee = _yen("使用料（月額・円）")
    usage_fee_detail = StringField("使用料の内訳", filters=[strip_filter], validators=[max_length(200)])
    community_fee = _yen("組合費・町内会費（月額・円）")
    payment_method = SelectField("支払方法", choices=choices({"": "（未入力）", **PAYMENT_METHODS}), default="")
    submit = SubmitField("保存")


class UnitAdminForm(UnitForm):
    """住戸 as 管理者 edit it: with the arrears (encrypted at rest)."""

    arrears_management = _yen("滞納額 管理費（円）", 1_000_000_000)
    arrears_reserve = _yen("滞納額 修繕積立金（円）", 1_000_000_000)
    arrears_usage = _yen("滞納額 使用料（円）", 1_000_000_000)
    late_charge = _yen("遅延損害金（円）", 1_000_000_000)


def building_or_404(building_id: int) -> JuchoBuilding:
    """The building of this tenant (404 for another tenant's, a deleted or an unknown one)."""
    return db.get_or_404(JuchoBuilding, building_id)


def unit_or_404(building: JuchoBuilding, unit_id: int) -> JuchoUnit:
    """A unit of this building (404 otherwise)."""
    unit = db.get_or_404(JuchoUnit, unit_id)
    if unit.building_id != building.id:
        abort(404)
    return unit


def _form(unit: JuchoUnit | None):
    form_class = UnitAdminForm if current_user.is_admin else UnitForm
    form = form_class(obj=unit)
    if unit is not None and current_user.is_admin and not form.is_submitted():
        for name in PERSONAL_FIELDS:
            getattr(form, name).data = unit.arrears(name)
    return form


def _save(form, unit: JuchoUnit) -> tuple[dict, dict, list[str]]:
    """Copy the form onto the unit; (before, after) of changed plain fields and the labels of changed personal ones."""
    before, after, personal = {}, {}, []
    for name in VALUE_FIELDS:
        value = getattr(form, name).data
        if name in ("layout", "usage_fee_detail"):
            value = value or ""
        if name == "payment_method":
            value = value or None
        old = getattr(unit, name)
        if old != value:
            before[LABELS[name]], after[LABELS[name]] = (None if old is None else str(old)), \
                (None if value is None else str(value))
            setattr(unit, name, value)
    if isinstance(form, UnitAdminForm):
        for name in PERSONAL_FIELDS:
            value = store_personal(getattr(form, name).data)
            if getattr(unit, name) != value:
                personal.append(LABELS[name])  # which item changed, never the amount
                setattr(unit, name, value)
    return before, after, personal


@bp.route("/buildings/<int:building_id>/units")
@product_required(PRODUCT.code)
def unit_list(building_id: int):
    """住戸一覧 of one building."""
    building = building_or_404(building_id)
    query = sa.select(JuchoUnit).where(JuchoUnit.building_id == building.id)
    result = listing(query, sorts=SORTS, default_sort="floor", tiebreak=JuchoUnit.id, searchable=JuchoUnit,
                     filters={"building_id": building.id})
    return render_template("jucho/units/index.html", building=building, listing=result, fmt=fmt,
                           show_personal=current_user.is_admin)


@bp.route("/buildings/<int:building_id>/units/new", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def unit_new(building_id: int):
    """住戸登録."""
    building = building_or_404(building_id)
    form = _form(None)
    if form.validate_on_submit():
        if number_taken(building.id, form.number.data):
            form.number.errors.append("この住戸番号は既に登録されています。")
        else:
            unit = JuchoUnit(building_id=building.id)
            _, after, personal = _save(form, unit)
            db.session.add(unit)
            db.session.flush()
            audit.record("jucho.unit.create", target=f"unit:{unit.id}", building=building.id, after=after,
                         personal_fields=personal)
            db.session.commit()
            flash(f"住戸「{unit.number}」を登録しました。", "success")
            return redirect(url_for("jucho.unit_list", building_id=building.id))
    return render_template("jucho/units/form.html", building=building, form=form, unit=None), \
        422 if form.errors else 200


@bp.route("/buildings/<int:building_id>/units/<int:unit_id>/edit", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def unit_edit(building_id: int, unit_id: int):
    """住戸編集."""
    building = building_or_404(building_id)
    unit = unit_or_404(building, unit_id)
    form = _form(unit)
    if form.validate_on_submit():
        if number_taken(building.id, form.number.data, exclude_id=unit.id):
            form.number.errors.append("この住戸番号は既に登録されています。")
        else:
            before, after, personal = _save(form, unit)
            if after or personal:
                audit.record("jucho.unit.update", target=f"unit:{unit.id}", building=building.id, before=before,
                             after=after, personal_fields=personal)
            db.session.commit()
            flash(f"住戸「{unit.number}」を保存しました。", "success")
            return redirect(url_for("jucho.unit_list", building_id=building.id))
    return render_template("jucho/units/form.html", building=building, form=form, unit=unit), \
        422 if form.errors else 200


@bp.route("/buildings/<int:building_id>/units/<int:unit_id>/delete", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def unit_delete(building_id: int, unit_id: int):
    """住戸削除 after the confirmation page (the row is removed for good)."""
    building = building_or_404(building_id)
    unit = unit_or_404(building, unit_id)
    if not confirmed():
        return confirmation("住戸を削除しますか？", target=[("物件名", building.name), ("住戸番号", unit.number),
                                                          ("専有面積", fmt.area(unit.area))],
                            consequences=["この住戸の管理費等の情報は削除され、元に戻せません。",
                                          "CSVで取り込み直すと、新しい住戸として登録されます。"],
                            cancel_url=url_for("jucho.unit_edit", building_id=building.id, unit_id=unit.id),
                            testid="confirm-delete")
    audit.record("jucho.unit.delete", target=f"unit:{unit.id}", building=building.id, before={"住戸番号": unit.number})
    db.session.delete(unit)
    db.session.commit()
    flash(f"住戸「{unit.number}」を削除しました。", "success")
    return redirect(url_for("jucho.unit_list", building_id=building.id))


@bp.route("/buildings/<int:building_id>/units.csv")
@product_required(PRODUCT.code)
def unit_csv(building_id: int):
    """住戸 CSV of one building (UTF-8 with BOM); the arrears columns only for 管理者."""
    building = building_or_404(building_id)
    columns = columns_for(current_user.is_admin)
    audit.record("jucho.export", target=f"units:building:{building.id}",
                 personal=current_user.is_admin)
    db.session.commit()
    rows = in_batches(JuchoUnit, sa.select(JuchoUnit).where(JuchoUnit.building_id == building.id))
    return csv_response(f"units_{building.id}", f"住戸_{building.name}", [c.header for c in columns], rows,
                        lambda unit: [column.cell(unit) for column in columns])


@bp.route("/buildings/<int:building_id>/units/template.csv")
@product_required(PRODUCT.code)
def unit_template(building_id: int):
    """The import template: the Japanese header row only (the arrears columns only for 管理者)."""
    building_or_404(building_id)
    columns = columns_for(current_user.is_admin)
    return csv_response("units_template", "住戸取込テンプレート", [c.header for c in columns], iter(()), list)
