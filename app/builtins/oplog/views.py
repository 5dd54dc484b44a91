"""「操作ログ」 pages: the filtered list (keyset pages), the on-demand chain check and the CSV download."""
from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for

from app import audit
from app.auth.guards import admin_required
from app.csv_export import csv_response
from app.extensions import db
from app.forms import ConfirmForm, choices, require_confirm
from app.products import audit_action_labels
from app.queryargs import int_arg
from app.tenancy import current_tenant

from . import bp, service
from .forms import FilterForm

MAX_SEQ = 2_000_000_000
CSV_HEADER = ["日時", "操作者", "操作", "操作コード", "対象", "結果", "IPアドレス", "詳細", "運用担当者", "理由"]


def _form(labels: dict) -> FilterForm:
    form = FilterForm(request.args)
    form.action.choices = choices([("", "すべて"), *sorted(labels.items(), key=lambda item: item[1])])
    return form


def _filters(form: FilterForm) -> service.Filters:
    return service.Filters(user=form.user.data or "", operators=bool(form.operators.data), action=form.action.data or "", result=form.result.data or "",
                           target=form.target.data or "", date_from=form.date_from.data, date_to=form.date_to.data,
                           q=form.q.data or "")


def outcome_ja(outcome: str) -> str:
    """成功 / 失敗 for an event's outcome."""
    return "成功" if outcome == "success" else "失敗"


@bp.route("/admin/oplog")
@admin_required
def index():
    """The tenant's audit events, newest first, 50 a page, filtered by the GET form."""
    labels = audit_action_labels(current_tenant())
    form = _form(labels)
    tenant = current_tenant()
    if request.args and not form.validate():
        return render_template("oplog/index.html", form=form, page=service.Page(), labels=labels, filters={},
                               service=service, outcome_ja=outcome_ja, confirm=ConfirmForm()), 400
    filters = _filters(form)
    before = int_arg("before", None, 1, MAX_SEQ)
    after = int_arg("after", None, 0, MAX_SEQ) if before is None else None
    result = service.page(tenant.id, filters, before, after)
    return render_template("oplog/index.html", form=form, page=result, labels=labels, filters=filters.args(),
                           service=service, outcome_ja=outcome_ja, confirm=ConfirmForm())


@bp.route("/admin/oplog/verify", methods=["POST"])
@admin_required
def verify():
    """Recompute the tenant's hash chain now (on demand: a long chain takes a while) and show the result."""
    require_confirm()
    tenant = current_tenant()
    checked, broken = audit.verify(tenant.id)
    if broken is None:
        flash(f"改ざん検知: 正常（{checked}件の記録を確認しました）", "success")
        audit.record("oplog.verify", target=f"tenant:{tenant.code}", checked=checked)
    else:
        flash(f"改ざん検知: 異常 — 連番 {broken.seq} の記録（{service.reason_ja(broken.reason)}）。"
              f"それより前の {checked} 件は正常です。", "error")
        audit.record("oplog.verify", target=f"tenant:{tenant.code}", outcome="failure", checked=checked,
                     broken_seq=broken.seq)
    db.session.commit()
    return redirect(url_for("oplog.index"))


@bp.route("/admin/oplog.csv")
@admin_required
def export_csv():
    """The filtered events as a streamed CSV (UTF-8 with BOM, JST, formula-safe); recorded as oplog.export."""
    labels = audit_action_labels(current_tenant())
    form = _form(labels)
    if request.args and not form.validate():
        return render_template("oplog/index.html", form=form, page=service.Page(), labels=labels, filters={},
                               service=service, outcome_ja=outcome_ja, confirm=ConfirmForm()), 400
    filters = _filters(form)
    tenant = current_tenant()
    audit.record("oplog.export", target=f"tenant:{tenant.code}", **{f"filter_{k}": v for k, v in filters.args().items()})
    db.session.commit()
    tenant_id = tenant.id

    def cells(event):
        operator = service.operator_info(event)
        return [event.occurred_at, event.actor_login or "", labels.get(event.action, event.action), event.action,
                event.target or "", outcome_ja(event.outcome), event.ip or "", service.details_text(event),
                operator.name if operator else "", operator.reason if operator else ""]

    return csv_response(f"oplog_{tenant.code}", f"操作ログ_{tenant.code}", CSV_HEADER,
                        service.all_rows(tenant_id, filters), cells)
