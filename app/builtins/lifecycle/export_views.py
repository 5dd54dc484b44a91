"""「データ書き出し」: a tenant's admins request an export of their data and follow its status.

Product-agnostic (any tenant's 管理者); an operator fulfils a request with
``flask tenant export CODE --out FILE.zip --request ID`` or rejects it with ``flask tenant export-reject``.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SubmitField, TextAreaField
from wtforms.validators import Optional

from app.auth.guards import admin_required
from app.extensions import db
from app.forms import KanriForm, max_length, strip_filter
from app.tenancy import current_tenant

from . import bp, export


class ExportRequestForm(KanriForm):
    """The request: an optional note to the operator."""

    note = TextAreaField("連絡事項（任意）", filters=[strip_filter], validators=[Optional(), max_length(export.NOTE_MAX)])
    submit = SubmitField("書き出しを申請する")


def _page(form, status: int = 200):
    requests = db.session.execute(sa.select(export.ExportRequest)
                                  .order_by(export.ExportRequest.created_at.desc(), export.ExportRequest.id.desc())
                                  ).scalars().all()
    return render_template("lifecycle/export/index.html", form=form, requests=requests,
                           open_request=export.open_request()), status


@bp.route("/account/export", methods=["GET"])
@admin_required
def export_requests():
    """The tenant's requests and the form for a new one."""
    return _page(ExportRequestForm())


@bp.route("/account/export", methods=["POST"])
@admin_required
def export_request_create():
    """File a request; refused while another one is open."""
    form = ExportRequestForm()
    if not form.validate_on_submit():
        return _page(form, 400)
    try:
        item = export.request_export(current_tenant(), current_user, form.note.data)
    except export.ExportError as refused:
        db.session.rollback()
        form.note.errors = [*form.note.errors, str(refused)]
        return _page(form, 409)
    db.session.commit()
    flash(f"データ書き出しを申請しました（申請番号 {item.id}）。運営担当者が対応します。", "success")
    return redirect(url_for("lifecycle.export_request_detail", request_id=item.id))


@bp.route("/account/export/<int:request_id>")
@admin_required
def export_request_detail(request_id: int):
    """One request of this tenant (another tenant's id answers 404)."""
    item = db.session.get(export.ExportRequest, request_id)
    if item is None:
        abort(404)
    return render_template("lifecycle/export/detail.html", item=item)
