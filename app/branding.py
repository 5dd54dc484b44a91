"""Whose name a page or a mail carries: the product the customer bought and the company, never the platform's.

Before a tenant is known (the login page, mail to the service team) the neutral service name
``KANRI_SERVICE_NAME`` stands in; "kanri" itself appears only in the page footer.
"""
from __future__ import annotations

from flask import current_app

from .products import all_products
from .tenancy import current_tenant


def service_name() -> str:
    """The neutral service name shown where no tenant is known (KANRI_SERVICE_NAME)."""
    return current_app.config["KANRI_SERVICE_NAME"]


def product_label(tenant=None) -> str:
    """The display name of ``tenant``'s product (the current tenant's by default); the service name without one."""
    tenant = tenant if tenant is not None else current_tenant()
    product = all_products().get(getattr(tenant, "product", None)) if tenant is not None else None
    return product.name if product else service_name()


def mail_subject(topic: str, tenant=None) -> str:
    """「【製品名】topic（会社名）」 for a tenant's mail; 「【サービス名】topic」 when no tenant is known."""
    tenant = tenant if tenant is not None else current_tenant()
    company = f"（{tenant.name}）" if getattr(tenant, "name", None) else ""
    return f"【{product_label(tenant)}】{topic}{company}"
