"""Where the restriction bites: the password step, every authenticated request, and the 403 refusal page."""
from __future__ import annotations

from flask import g, render_template, request, session
from flask_login import current_user, logout_user

from app.products import SessionRefusal

from . import service

# Reachable by a browser whose session was just refused: the signed undo link must work from the refused address.
_UNDO_LINK = "ip_restriction.undo_link"


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


def answer_refused_session():
    """before_request: a session the restriction just ended gets the 403 page instead of the login redirect."""
    endpoint = request.endpoint or ""
    if endpoint == "static" or endpoint.endswith(".static"):
        return None
    if not current_user.is_authenticated:  # loads the session: the core's loader asks session_valid
        refusal = g.get("session_refusal")
        if refusal is not None and refusal.reason == service.REASON:
            tenant = g.get("ip_refused_tenant")
            g.pop("session_refusal")
            logout_user()
            session.clear()
            if endpoint != _UNDO_LINK:
                return refused_page(tenant)
    return None
