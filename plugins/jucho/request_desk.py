"""The parts of a request form both the public page and the staff entry use: building choices, settings of the
public form's rate limits, and turning a validated form into a ``RequestInput``."""
from __future__ import annotations

import os

import sqlalchemy as sa
from flask import current_app, request

from app.extensions import db
from app.forms import choices

from .fees import KIND_DOCUMENT, KIND_EXPRESS, KIND_REPORT, active_items
from .models import JuchoBuilding
from .request_forms import UNLISTED, RequestForm
from .requests import RequestInput

# Per client (IP) and per tenant, on submissions only; storage is Flask-Limiter's (Redis when configured).
DEFAULT_IP_LIMIT = "5 per minute;20 per hour"
DEFAULT_TENANT_LIMIT = "60 per hour;300 per day"
MAX_BODY_BYTES = 32 * 1024


def _setting(name: str, default: str) -> str:
    return current_app.config.get(name) or os.environ.get(name) or default


def ip_limit() -> str:
    """Submissions of the public form per client IP (``KANRI_JUCHO_REQUEST_IP_LIMIT``)."""
    return _setting("KANRI_JUCHO_REQUEST_IP_LIMIT", DEFAULT_IP_LIMIT)


def tenant_limit() -> str:
    """Submissions of one tenant's public form from all clients together (``KANRI_JUCHO_REQUEST_TENANT_LIMIT``)."""
    return _setting("KANRI_JUCHO_REQUEST_TENANT_LIMIT", DEFAULT_TENANT_LIMIT)


def tenant_key() -> str:
    """The rate-limit key of the tenant a public form belongs to (the company code in the URL)."""
    code = str((request.view_args or {}).get("company_code", ""))[:32].strip().lower()
    return f"jucho-request-tenant:{code}"


def fill_choices(form: RequestForm) -> dict:
    """Set the building and document choices from the current tenant; return the fee items to show."""
    # Only the name and the 市区町村 are public; the street and number are never shown.
    rows = db.session.execute(sa.select(JuchoBuilding.id, JuchoBuilding.name, JuchoBuilding.city)
                              .order_by(JuchoBuilding.kana, JuchoBuilding.id))
    form.building.choices = choices([("", "選択してください"),
                                     *[(str(row.id), f"{row.name}（{row.city}）" if row.city else row.name)
                                       for row in rows],
                                     (UNLISTED, "一覧にない（下に物件名と所在地を入力）")])
    documents = active_items(KIND_DOCUMENT)
    form.documents.choices = [(item.id, f"{item.name}（{item.amount:,}円）") for item in documents]
    return {"report": active_items(KIND_REPORT), "documents": documents, "express": active_items(KIND_EXPRESS)}


def request_input(form: RequestForm) -> RequestInput:
    """The validated form as the service's input (the building re-read in the current tenant)."""
    building_id, building_name = None, form.building_other.data
    if form.building.data != UNLISTED:
        building = db.session.get(JuchoBuilding, int(form.building.data))
        building_id, building_name = building.id, building.name
    return RequestInput(
        building_id=building_id, building_name=building_name, unit_number=form.unit_number.data,
        broker_company=form.broker_company.data, license_number=form.license_number.data,
        contact_name=form.contact_name.data, phone=form.phone.data, email=form.email.data or None,
        postal_address=form.postal(), purpose=form.purpose.data, delivery=form.delivery.data,
        express=bool(form.express.data), seller_consent=bool(form.seller_consent.data),
        document_ids=list(form.documents.data or []))
