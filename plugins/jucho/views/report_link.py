"""The broker's download page of an electronically delivered report (/jucho/<会社コード>/r/<token>): no account.

GET shows what the link delivers and never counts (mail scanners prefetch links); the 「PDFをダウンロード」 button
is a POST with CSRF that counts one download and streams the PDF. Every refusal is the same polite page: 404 for
an unknown or forged link (or one under another company code), 410 for an expired, stopped or used-up one.
"""
from __future__ import annotations

import os

from flask import current_app, render_template, request
from flask_login import current_user

from app.downloads import file_download
from app.extensions import db, limiter
from app.forms import ConfirmForm
from app.queryargs import token_shaped
from app.tenancy import current_tenant, set_current_tenant, tenant_scope

from ..deliveries import GONE, JuchoReportDelivery, find, has_correction, take_download
from ..reports import document
from ..reset import find_jucho_tenant
from . import bp
from .public_request import CODE_ALPHABET

DEFAULT_LINK_IP_LIMIT = "30 per minute;300 per hour"
PRIVATE_HEADERS = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow", "Cache-Control": "no-store"}


def link_ip_limit() -> str:
    """Opens and downloads of delivery links per client IP (``KANRI_JUCHO_LINK_IP_LIMIT``)."""
    return (current_app.config.get("KANRI_JUCHO_LINK_IP_LIMIT") or os.environ.get("KANRI_JUCHO_LINK_IP_LIMIT")
            or DEFAULT_LINK_IP_LIMIT)


def _private(body, status: int = 200):
    return body, status, PRIVATE_HEADERS


def _refused(status: int):
    """The one page of every refusal; it names neither the company nor the report."""
    # A signed-in visitor keeps their own tenant (the only one _lookup accepts): the page's menu reloads them.
    set_current_tenant(current_tenant() if current_user.is_authenticated else None)
    db.session.rollback()
    return _private(render_template("jucho/public/link_invalid.html", gone=status == 410), status)


def _lookup(company_code: str, token: str) -> tuple[JuchoReportDelivery | None, int]:
    """The delivery a link names, made current under its tenant, and 200 (usable) or 410 (gone); (None, 404)."""
    if token_shaped(company_code, max_length=32, alphabet=CODE_ALPHABET) is None:
        return None, 404
    tenant = find_jucho_tenant(company_code)
    if tenant is None or (current_user.is_authenticated and current_user.tenant_id != tenant.id):
        return None, 404
    with tenant_scope(tenant):
        found = find(token)
    if found.delivery is None:
        return None, 404
    set_current_tenant(tenant)
    return found.delivery, 410 if found.reason == GONE else 200


def _landing(delivery: JuchoReportDelivery):
    return _private(render_template("jucho/public/report_link.html", delivery=delivery,
                                    document=document(delivery.report), form=ConfirmForm(),
                                    corrected=has_correction(delivery)))


@bp.route("/<company_code>/r/<token>", methods=["GET"])
@limiter.limit(link_ip_limit)
def report_link(company_code: str, token: str):
    """重要事項調査報告書のダウンロード (public): what the link delivers, until when, how many downloads are left."""
    delivery, status = _lookup(company_code, token)
    if status != 200:
        return _refused(status)
    return _landing(delivery)


@bp.route("/<company_code>/r/<token>", methods=["POST"])
@limiter.limit(link_ip_limit)
def report_link_download(company_code: str, token: str):
    """Count one download (atomically) and stream the delivered PDF as an attachment (CSRF checked app-wide)."""
    delivery, status = _lookup(company_code, token)
    if delivery is None:
        return _refused(status)
    report = delivery.report
    data = report.pdf_bytes()
    # A gone link is refused here too (by the same conditional UPDATE), so the attempt is logged.
    if not take_download(delivery, request.remote_addr, request.user_agent.string):
        db.session.commit()  # the refused attempt stays in the log
        return _refused(410)
    db.session.commit()
    number = delivery.request.number
    response = file_download(data, "application/pdf", f"jucho-report-{number}-v{report.version}.pdf",
                             f"重要事項調査報告書_{number}_第{report.version}版.pdf")
    response.headers.update(PRIVATE_HEADERS)
    return response
