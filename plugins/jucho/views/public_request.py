"""The broker's public request form (/jucho/<会社コード>/request): no account, CSRF, honeypot, rate limits per IP
and per tenant, size limits; a receipt mail with the request number."""
from __future__ import annotations

import secrets

from flask import abort, redirect, render_template, request, session, url_for
from flask_login import current_user

from app import audit
from app.extensions import db, limiter
from app.queryargs import token_shaped
from app.tenancy import set_current_tenant
from app.timeutil import jst_today

from ..request_desk import MAX_BODY_BYTES, fill_choices, ip_limit, request_input, tenant_key, tenant_limit
from ..request_forms import CONSENT_HINT, RequestForm
from ..request_mail import mail_receipt, mail_staff
from ..requests import create_request
from ..reset import find_jucho_tenant
from . import bp

DONE_KEY = "jucho_request_done"
CODE_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _tenant_or_404(company_code: str):
    """The active 重調@CITY tenant of the code, made current; any other code is the same plain 404."""
    if token_shaped(company_code, max_length=32, alphabet=CODE_ALPHABET) is None:
        abort(404)
    tenant = find_jucho_tenant(company_code)
    if tenant is None:
        abort(404)
    if current_user.is_authenticated and current_user.tenant_id != tenant.id:
        abort(404)  # a user of another tenant: the same answer as for an unknown code
    set_current_tenant(tenant)
    return tenant


def _too_large():
    return render_template("jucho/public/too_large.html"), 413


@bp.route("/<company_code>/request", methods=["GET", "POST"])
@limiter.limit(ip_limit, methods=["POST"])
@limiter.limit(tenant_limit, key_func=tenant_key, methods=["POST"])
def public_request(company_code: str):
    """重要事項調査報告書の依頼 (public)."""
    tenant = _tenant_or_404(company_code)
    if request.method == "POST" and (request.content_length or 0) > MAX_BODY_BYTES:
        return _too_large()
    form = RequestForm()
    fees = fill_choices(form)
    if request.method == "POST" and request.form.get("website", ""):
        # A bot filled the hidden field: answer as if it worked, store nothing, leave a trace.
        audit.record("jucho.request.honeypot", outcome="failure", tenant=tenant, actor_login="public",
                     target="request:(none)", reason="honeypot")
        db.session.commit()
        session[DONE_KEY] = {"code": tenant.code, "number": f"R{jst_today().year}-{secrets.randbelow(10**6):06d}"}
        return redirect(url_for("jucho.public_request_done", company_code=tenant.code))
    if form.validate_on_submit():
        new = create_request(request_input(form), channel="web")
        mail_receipt(new, tenant)
        mail_staff(new, tenant)
        db.session.commit()
        session[DONE_KEY] = {"code": tenant.code, "number": new.number}
        return redirect(url_for("jucho.public_request_done", company_code=tenant.code))
    status = 422 if request.method == "POST" else 200
    return render_template("jucho/public/request.html", form=form, tenant=tenant, fees=fees,
                           consent_hint=CONSENT_HINT), status


@bp.route("/<company_code>/request/done")
def public_request_done(company_code: str):
    """ご依頼ありがとうございました: the request number, once."""
    tenant = _tenant_or_404(company_code)
    done = session.pop(DONE_KEY, None)
    if not isinstance(done, dict) or done.get("code") != tenant.code:
        return redirect(url_for("jucho.public_request", company_code=tenant.code))
    return render_template("jucho/public/done.html", tenant=tenant, number=str(done.get("number", "")))
