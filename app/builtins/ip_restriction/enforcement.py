"""Where the restriction bites: the password step, every authenticated request, and the 403 refusal page."""
from __future__ import annotations

from flask import render_template, request, session
from flask_login import current_user

from app import audit
from app.extensions import db
from app.products import SessionRefusal
from app.tenancy import current_tenant

from . import service

# Reachable from a refused address all the same: the signed undo link (that is its point) and logging out.
_ALWAYS_REACHABLE = {"ip_restriction.undo_link", "auth.logout"}
_NOTED = "ip_refused_noted"  # the address whose refusal this browser's session already put in the audit log


def refusal_message(address: str | None) -> str:
    """The Japanese reason shown to a refused visitor, with the address the service saw."""
    return (f"このIPアドレス（{address or '不明'}）からはご利用いただけません。"
            "社内の管理者に、このアドレスを許可リストに追加するよう依頼してください。")


def refusal_for(tenant, user) -> SessionRefusal | None:
    """A refusal when the tenant's restriction refuses this user at the request's client address, else None."""
    if tenant is None or user is None or not (tenant.ip_rules_version or 0):
        return None  # never configured: no work at all on this request
    address = request.remote_addr  # what ProxyFix yields when KANRI_PROXY_FIX is set, the socket's peer otherwise
    if not service.refuses(service.policy(tenant), tenant, user, address):
        return None
    return SessionRefusal(service.REASON, refusal_message(address))


def refused_page(tenant=None):
    """The 403 page: the visitor's address, why, and whom to ask."""
    html = render_template("ip_restriction/refused.html", address=request.remote_addr, tenant=tenant)
    return html, 403


def refuse_request():
    """before_request: an authenticated request from a refused address gets the 403 page (audited once per session
    and address). The session itself goes on: back on an allowed network the user simply continues."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static") or endpoint in _ALWAYS_REACHABLE:
        return None
    if not current_user.is_authenticated:  # loads the session (and sets the current tenant)
        return None
    tenant = current_tenant()
    refusal = refusal_for(tenant, current_user._get_current_object())
    if refusal is None:
        return None
    if session.get(_NOTED) != request.remote_addr:
        audit.record("ip_restriction.refused", outcome="failure", target=f"user:{current_user.login_id}",
                     reason=service.REASON, endpoint=endpoint[:100])
        db.session.commit()
        session[_NOTED] = request.remote_addr
    return refused_page(tenant)
