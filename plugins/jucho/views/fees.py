"""手数料・受付設定 (管理者): the fee table, the request desk's settings and the monthly fee CSV for accounting."""
from __future__ import annotations

import calendar
import re
import secrets

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, url_for
from sqlalchemy.orm import selectinload

from app import audit
from app.auth.guards import product_required
from app.csv_export import csv_response, in_batches
from app.extensions import db
from app.queryargs import text_arg
from app.timeutil import jst_today

from .. import PRODUCT
from ..fees import JuchoFeeItem, all_items
from ..request_forms import FeeItemForm, RequestSettingsForm, month_of
from ..requests import CANCELLED, JuchoRequest, settings
from . import bp

FEE_FIELDS = ("name", "kind", "amount", "tax_rate", "active")


def _fee_page(settings_form: RequestSettingsForm | None = None, status: int = 200):
    row = settings()
    form = settings_form or RequestSettingsForm(due_business_days=row.due_business_days,
                                                notify_email=row.notify_email or "",
                                                staff_may_issue=row.staff_may_issue,
                                                delivery_valid_days=row.delivery_valid_days,
                                                delivery_max_downloads=row.delivery_max_downloads)
    return render_template("jucho/fees/index.html", items=all_items(), settings_form=form,
                           this_month=f"{jst_today():%Y-%m}"), status


def _settings_snapshot(row) -> dict:
    return {"due_business_days": row.due_business_days, "notify": "設定あり" if row.notify_email else "管理者全員",
            "issue": "一般も発行できる" if row.staff_may_issue else "管理者のみ発行",
            "link_days": row.delivery_valid_days, "link_downloads": row.delivery_max_downloads}


@bp.route("/fees", methods=["GET", "POST"])
@product_required(PRODUCT.code, admin=True)
def fee_list():
    """The fee table and the request desk's settings (POST saves the settings)."""
    if request.method == "GET":
        response = _fee_page()
        db.session.commit()  # the settings row made on first use
        return response
    form = RequestSettingsForm()
    if not form.validate_on_submit():
        return _fee_page(form, 422)
    row = settings()
    before = _settings_snapshot(row)
    row.due_business_days = form.due_business_days.data
    row.notify_email = form.notify_email.data or None
    row.staff_may_issue = bool(form.staff_may_issue.data)
    row.delivery_valid_days = form.delivery_valid_days.data
    row.delivery_max_downloads = form.delivery_max_downloads.data
    audit.record("jucho.settings.update", target="request_settings", before=before, after=_settings_snapshot(row))
    db.session.commit()
    flash("受付設定を保存しました。", "success")
    return redirect(url_for("jucho.fee_list"))


def _save(form: FeeItemForm, item: JuchoFeeItem) -> None:
    for name in FEE_FIELDS:
        setattr(item, name, getattr(form, name).data)
    item.sort_order = form.sort_order.data if form.sort_order.data is not None else 100


def _snapshot(item: JuchoFeeItem) -> dict:
    return {"name": item.name, "amount": item.amount, "tax_rate": item.tax_rate, "active": item.active}


@bp.route("/fees/new", methods=["GET", "POST"])
@product_required(PRODUCT.code, admin=True)
def fee_new():
    """Add a fee item."""
    form = FeeItemForm()
    if form.validate_on_submit():
        item = JuchoFeeItem(code=f"custom-{secrets.token_hex(6)}")  # an internal key; the name is what people see
        _save(form, item)
        db.session.add(item)
        db.session.flush()
        audit.record("jucho.fee.create", target=f"fee:{item.id}", after=_snapshot(item))
        db.session.commit()
        flash(f"手数料「{item.name}」を登録しました。", "success")
        return redirect(url_for("jucho.fee_list"))
    return render_template("jucho/fees/form.html", form=form, item=None), 422 if request.method == "POST" else 200


@bp.route("/fees/<int:fee_id>/edit", methods=["GET", "POST"])
@product_required(PRODUCT.code, admin=True)
def fee_edit(fee_id: int):
    """Change a fee item; requests already made keep the amounts they were made with."""
    item = db.get_or_404(JuchoFeeItem, fee_id)
    form = FeeItemForm(obj=item)
    if form.validate_on_submit():
        before = _snapshot(item)
        _save(form, item)
        audit.record("jucho.fee.update", target=f"fee:{item.id}", before=before, after=_snapshot(item))
        db.session.commit()
        flash(f"手数料「{item.name}」を保存しました。これからの依頼に適用されます。", "success")
        return redirect(url_for("jucho.fee_list"))
    return render_template("jucho/fees/form.html", form=form, item=item), 422 if request.method == "POST" else 200


def _cells(item: JuchoRequest) -> list:
    return [item.number, item.received_on.isoformat(), item.broker_company, item.building_name, item.unit_number,
            " / ".join(f"{line.name} {line.amount}円" for line in item.lines), item.total_amount,
            item.total_amount - item.total_tax, item.total_tax,
            " / ".join(sorted({f"{line.tax_rate}%" for line in item.lines})), item.payment_label, item.status_label]


@bp.route("/fees/monthly.csv")
@product_required(PRODUCT.code, admin=True)
def fee_csv():
    """手数料の月次CSV (JST month of the 受付日; 取消 left out), one row per request."""
    month_text = text_arg("month", limit=7)
    first = month_of(month_text)
    if first is None:
        flash("月を「2026-11」の形で指定してください。", "error")
        return redirect(url_for("jucho.fee_list"))
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    audit.record("jucho.fee.export", target=f"fees:{first:%Y-%m}")
    db.session.commit()
    query = (sa.select(JuchoRequest).options(selectinload(JuchoRequest.lines))
             .where(JuchoRequest.received_on >= first, JuchoRequest.received_on <= last,
                    JuchoRequest.status != CANCELLED))
    header = ["受付番号", "受付日", "仲介業者", "物件", "住戸番号", "明細", "金額（税込・円）", "税抜金額（円）", "消費税（円）",
              "税率", "入金状況", "依頼状況"]
    name = re.sub(r"[^0-9-]", "", f"{first:%Y-%m}")
    return csv_response(f"fees_{name}", f"手数料_{name}", header, in_batches(JuchoRequest, query), _cells)
