"""依頼一覧 (the work queue): filters, counts per status, sort and pages; 依頼登録 (FAX等); the detail page with
status, assignee, due date, 取消 (confirmed, with a reason), 入金状況 (管理者), 「物件を選び直す」, the 報告書 panel
(``views.reports``) and the history from the audit log."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload

from app.audit import details_of
from app.auth.guards import deny, product_required
from app.confirm import confirmed
from app.extensions import db
from app.forms import choices
from app.listing import listing
from app.models import User
from app.products import audit_action_labels
from app.queryargs import choice_arg, parse_int, text_arg
from app.routing import MAX_ROW_ID
from app.timeutil import jst_today

from .. import PRODUCT
from ..models import JuchoBuilding
from ..report_forms import BuildingForm
from ..reports import current_draft, markers
from ..request_desk import fill_choices, request_input
from ..request_forms import (
    CONSENT_HINT,
    AssignForm,
    CancelForm,
    DueForm,
    PaymentForm,
    StaffRequestForm,
    StatusForm,
)
from ..request_mail import mail_receipt
from ..requests import (
    OPEN_STATUSES,
    QUEUE_TARGETS,
    REVIEW,
    STATUSES,
    TRANSITIONS,
    JuchoRequest,
    TransitionError,
    assign,
    cancel,
    create_request,
    history,
    overdue_condition,
    set_building,
    set_due_date,
    set_payment_status,
    set_status,
    staff_members,
    status_counts,
)
from . import bp
from .reports import report_panel

SORTS = {"received": (JuchoRequest.received_on, JuchoRequest.number), "due": JuchoRequest.due_date,
         "number": JuchoRequest.number, "status": JuchoRequest.status}
STATUS_FILTERS = ("", "open", *STATUSES)


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(text_arg(name, limit=10))
    except ValueError:
        return None


def _filters() -> dict:
    """The list's filters from the query string (anything unknown is ignored)."""
    filters = {"status": choice_arg("status", STATUS_FILTERS, "")}
    assignee = text_arg("assignee", limit=12)
    if assignee in ("me", "none") or parse_int(assignee, 1, MAX_ROW_ID) is not None:
        filters["assignee"] = assignee
    if request.args.get("overdue") == "1":
        filters["overdue"] = "1"
    for name in ("from", "to"):
        if (day := _date_arg(name)) is not None:
            filters[name] = day.isoformat()
    return {key: value for key, value in filters.items() if value}


def _apply(query, filters: dict):
    status = filters.get("status")
    if status == "open":
        query = query.where(JuchoRequest.status.in_(OPEN_STATUSES))
    elif status:
        query = query.where(JuchoRequest.status == status)
    assignee = filters.get("assignee")
    if assignee == "me":
        query = query.where(JuchoRequest.assignee_id == current_user.id)
    elif assignee == "none":
        query = query.where(JuchoRequest.assignee_id.is_(None))
    elif assignee:
        query = query.where(JuchoRequest.assignee_id == int(assignee))
    if filters.get("overdue"):
        query = query.where(overdue_condition())
    if "from" in filters:
        query = query.where(JuchoRequest.received_on >= date.fromisoformat(filters["from"]))
    if "to" in filters:
        query = query.where(JuchoRequest.received_on <= date.fromisoformat(filters["to"]))
    return query


@bp.route("/requests")
@product_required(PRODUCT.code)
def request_list():
    """依頼一覧."""
    filters = _filters()
    query = _apply(sa.select(JuchoRequest).options(selectinload(JuchoRequest.assignee)), filters)
    # The nearest due date first until another column is chosen.
    result = listing(query, sorts=SORTS, default_sort="due", tiebreak=JuchoRequest.id, searchable=JuchoRequest,
                     filters=filters)
    staff = [(str(user.id), user.name) for user in staff_members()]
    return render_template("jucho/requests/index.html", listing=result, filters=filters, counts=status_counts(),
                           statuses=STATUSES, staff=staff, today=jst_today(),
                           report_markers=markers([item.id for item in result.page.items]))


@bp.route("/requests/new", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def request_new():
    """依頼登録: a request received by FAX or post, typed in by staff."""
    form = StaffRequestForm()
    fees = fill_choices(form)
    if form.validate_on_submit():
        new = create_request(request_input(form), channel="fax", received_on=form.received_on.data,
                             actor=current_user)
        mail_receipt(new, current_user.tenant)
        db.session.commit()
        flash(f"依頼 {new.number} を登録しました。", "success")
        return redirect(url_for("jucho.request_detail", request_id=new.id))
    return render_template("jucho/requests/form.html", form=form, fees=fees, consent_hint=CONSENT_HINT)


def _request_or_404(request_id: int) -> JuchoRequest:
    return db.get_or_404(JuchoRequest, request_id)


def _actor_label(event) -> str:
    """Who acted: the login id, or for the broker (no account) where they acted from."""
    if event.actor_login != "public":
        return event.actor_login or ""
    if event.action.startswith("jucho.report.delivery"):
        return "仲介業者（受領リンク）"
    return "仲介業者（Webフォーム）"


def _history_rows(item: JuchoRequest) -> list[dict]:
    labels = audit_action_labels()
    rows = []
    for event in history(item):
        details = details_of(event)
        before, after = details.get("before") or {}, details.get("after") or {}
        change = "、".join(f"{before.get(key, '')} → {after.get(key, '')}" for key in after) if after else ""
        rows.append({"at": event.occurred_at, "action": labels.get(event.action, event.action),
                     "actor": _actor_label(event), "change": change})
    return rows


def _detail(item: JuchoRequest, status: int = 200, **forms):
    status_form = forms.get("status_form") or StatusForm()
    status_form.status.choices = choices(
        [(value, STATUSES[value]) for value in QUEUE_TARGETS if value in TRANSITIONS[item.status]])
    assign_form = forms.get("assign_form") or AssignForm(assignee=str(item.assignee_id or ""))
    assign_form.assignee.choices = choices([("", "（未割当）"), *[(str(u.id), f"{u.name}（{u.login_id}）")
                                                             for u in staff_members()]])
    due_form = forms.get("due_form") or DueForm(due_date=item.due_date)
    payment_form = forms.get("payment_form") or PaymentForm(payment_status=item.payment_status)
    report = report_panel(item)
    building_form = None
    if item.building_id is None and item.is_open and not report["has_report"]:
        building_form = forms.get("building_form") or BuildingForm()
        _building_choices(building_form)
    return render_template("jucho/requests/detail.html", item=item, history=_history_rows(item),
                           status_form=status_form, assign_form=assign_form, due_form=due_form,
                           payment_form=payment_form, report=report, building_form=building_form), status


def _building_choices(form: BuildingForm) -> None:
    rows = db.session.execute(sa.select(JuchoBuilding.id, JuchoBuilding.name, JuchoBuilding.city)
                              .order_by(JuchoBuilding.kana, JuchoBuilding.id))
    form.building.choices = choices([("", "選択してください"), *[
        (str(row.id), f"{row.name}（{row.city}）" if row.city else row.name) for row in rows]])


@bp.route("/requests/<int:request_id>")
@product_required(PRODUCT.code)
def request_detail(request_id: int):
    """依頼の詳細 and its history."""
    return _detail(_request_or_404(request_id))


def _refused(item: JuchoRequest, error: TransitionError):
    db.session.rollback()
    flash(str(error), "error")
    return redirect(url_for("jucho.request_detail", request_id=item.id))


@bp.route("/requests/<int:request_id>/status", methods=["POST"])
@product_required(PRODUCT.code)
def request_status(request_id: int):
    """Move to 作成中 or 確認待ち (発行済み is never set here: the issue step does it)."""
    item = _request_or_404(request_id)
    form = StatusForm()
    form.status.choices = choices([(value, STATUSES[value]) for value in STATUSES])
    if not form.validate_on_submit():
        abort(400)
    if form.status.data not in QUEUE_TARGETS:
        flash("依頼一覧からはこの状態に変更できません（発行済みは報告書の発行で、取消は「取消」から）。", "error")
        return redirect(url_for("jucho.request_detail", request_id=item.id))
    if form.status.data == REVIEW and current_draft(item) is None:
        flash("確認待ちにする前に、報告書の下書きを作成してください。", "error")
        return redirect(url_for("jucho.request_detail", request_id=item.id))
    try:
        set_status(item, form.status.data, current_user)
    except TransitionError as error:
        return _refused(item, error)
    db.session.commit()
    flash(f"状態を「{item.status_label}」にしました。", "success")
    return redirect(url_for("jucho.request_detail", request_id=item.id))


@bp.route("/requests/<int:request_id>/assign", methods=["POST"])
@product_required(PRODUCT.code)
def request_assign(request_id: int):
    """Set the assignee (「自分が担当」 sends the user's own id)."""
    item = _request_or_404(request_id)
    form = AssignForm()
    form.assignee.choices = choices([("", ""), *[(str(u.id), u.login_id) for u in staff_members()]])
    if not form.validate_on_submit():
        flash("担当者を一覧から選択してください。", "error")
        return redirect(url_for("jucho.request_detail", request_id=item.id))
    user = db.session.get(User, int(form.assignee.data)) if form.assignee.data else None
    try:
        assign(item, user, current_user)
    except TransitionError as error:
        return _refused(item, error)
    db.session.commit()
    flash(f"担当者を「{user.name if user else '未割当'}」にしました。", "success")
    return redirect(url_for("jucho.request_detail", request_id=item.id))


@bp.route("/requests/<int:request_id>/due", methods=["POST"])
@product_required(PRODUCT.code)
def request_due(request_id: int):
    """Change the due date."""
    item = _request_or_404(request_id)
    form = DueForm()
    if not form.validate_on_submit():
        return _detail(item, 422, due_form=form)
    try:
        set_due_date(item, form.due_date.data, current_user)
    except TransitionError as error:
        form.due_date.errors = [str(error)]
        db.session.rollback()
        return _detail(item, 422, due_form=form)
    db.session.commit()
    flash("期限を変更しました。", "success")
    return redirect(url_for("jucho.request_detail", request_id=item.id))


@bp.route("/requests/<int:request_id>/payment", methods=["POST"])
@product_required(PRODUCT.code)
def request_payment(request_id: int):
    """未請求 / 請求済み / 入金済み (管理者)."""
    item = _request_or_404(request_id)
    if not current_user.is_admin:
        deny(f"request:{item.id}", reason="admin_only")
    form = PaymentForm()
    if not form.validate_on_submit():
        return _detail(item, 422, payment_form=form)
    set_payment_status(item, form.payment_status.data, current_user)
    db.session.commit()
    flash(f"入金状況を「{item.payment_label}」にしました。", "success")
    return redirect(url_for("jucho.request_detail", request_id=item.id))


@bp.route("/requests/<int:request_id>/cancel", methods=["GET", "POST"])
@product_required(PRODUCT.code)
def request_cancel(request_id: int):
    """取消 after the confirmation page, with a reason."""
    item = _request_or_404(request_id)
    form = CancelForm()
    error = None if item.is_open else f"「{item.status_label}」の依頼は取消できません。"
    if confirmed() and error is None:
        if form.validate():
            try:
                cancel(item, form.reason.data, current_user)
            except TransitionError as refusal:
                return _refused(item, refusal)
            db.session.commit()
            flash(f"依頼 {item.number} を取り消しました。", "success")
            return redirect(url_for("jucho.request_detail", request_id=item.id))
    status = 422 if error or form.errors else 200
    return render_template("jucho/requests/cancel.html", item=item, form=form, error=error), status


@bp.route("/requests/<int:request_id>/building", methods=["POST"])
@product_required(PRODUCT.code)
def request_building(request_id: int):
    """物件を選び直す: a request for a building 「一覧にない」 now names a 物件 of the master (until a report exists)."""
    item = _request_or_404(request_id)
    form = BuildingForm()
    _building_choices(form)
    if not form.validate_on_submit():
        return _detail(item, 422, building_form=form)
    try:
        set_building(item, db.session.get(JuchoBuilding, int(form.building.data)), current_user)
    except TransitionError as error:
        return _refused(item, error)
    db.session.commit()
    flash(f"物件を「{item.building_name}」にしました。報告書を作成できます。", "success")
    return redirect(url_for("jucho.request_detail", request_id=item.id, _anchor="report"))
