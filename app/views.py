"""The dashboard, a health check and the helpers every template uses."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, Flask, current_app, g, has_request_context, render_template
from flask_login import current_user, login_required

from . import dashboard as home
from .branding import service_name
from .extensions import db
from .listing import row_url, table_cells
from .models import STATUS_LABELS
from .operator import is_operator_event, operator_display_name
from .products import all_products, audit_action_labels, dashboard_panels, menu_links
from .tenancy import current_tenant, current_tenant_id
from .timeutil import format_jst

bp = Blueprint("main", __name__)
OPERATOR_LABEL = "運用担当者"


@bp.route("/")
@login_required
def dashboard():
    """ホーム: 前回ログイン, お知らせ, the products' panels (pending work, counts), 最近の変更 for admins, the menus."""
    from .builtins.transparency.notice_views import notice_panel

    tenant = current_tenant()
    user = current_user._get_current_object()
    changes = home.recent_changes(tenant) if user.is_admin else None
    return render_template("dashboard.html", links=menu_links(tenant, user), panels=dashboard_panels(tenant, user),
                           last_login=home.previous_login(user, user.current_session),
                           notices=notice_panel(user), changes=changes,
                           labels=audit_action_labels(tenant) if changes else {}, operator_name=_operator_name)


def _operator_name(event) -> str:
    if not is_operator_event(event.actor_login, event.actor_id):
        return ""
    name = operator_display_name(event.actor_login)
    return name if name == OPERATOR_LABEL else f"{OPERATOR_LABEL} {name}"


@bp.route("/contact")
def contact():
    """お問い合わせ: the service desk (KANRI_SUPPORT_CONTACT) and support hours — the user's product's, or every product's."""
    products = all_products()
    tenant = current_tenant() if current_user.is_authenticated else None
    shown = [products[tenant.product]] if tenant is not None and tenant.product in products else list(products.values())
    return render_template("contact.html", contact_lines=support_contact_lines(),
                           hours=[(product.name, product.support_hours) for product in shown if product.support_hours])


def support_contact_lines() -> list[str]:
    """KANRI_SUPPORT_CONTACT as lines (a real line break or a written \\n separates them)."""
    text = (current_app.config.get("KANRI_SUPPORT_CONTACT") or "").replace("\\n", "\n")
    return [line.strip() for line in text.splitlines() if line.strip()]


@bp.route("/healthz")
def healthz():
    """Liveness and database reachability for load balancers."""
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}


def _navigation():
    # No request (mail rendered by an operator command): no user, no navigation.
    if not has_request_context() or not current_user.is_authenticated:
        return {"brand_name": service_name()} if has_request_context() else {}
    # Every render_template asks (the dashboard's panels render partials): built once per request and user.
    key = (current_user.id, current_tenant_id())
    built = g.get("kanri_navigation")
    if built is None or built[0] != key:
        built = g.kanri_navigation = (key, _build_navigation())
    return built[1]


def _build_navigation() -> dict:
    tenant = current_tenant()
    product = all_products().get(tenant.product) if tenant else None
    return {
        "brand_name": product.name if product else service_name(),
        "nav_links": menu_links(tenant, current_user),
        "help_links": menu_links(tenant, current_user, section="help"),
        "account_links": menu_links(tenant, current_user, section="account"),
        "nav_tenant": tenant,
        "nav_product": product.name if product else (tenant.product if tenant else ""),
        # (endpoint, filename): built in base.html, since an error page for a refused Host has no URL adapter
        "nav_stylesheet": (f"{product.code}.static", product.stylesheet) if product and product.stylesheet else None,
    }


EMPTY_CELL = "—"


def blank(value, empty: str = EMPTY_CELL):
    """A value for display, or 「—」 when there is none (None, empty or white space; 0 stays 0)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return empty
    return value


def init_template_helpers(app: Flask) -> None:
    """Add the navigation context, the JST filters and ``blank`` (empty cells as 「—」) to Jinja."""
    app.context_processor(_navigation)
    app.add_template_filter(blank, "blank")
    app.add_template_filter(home.count_text, "count_text")
    app.add_template_filter(format_jst, "jst")
    app.add_template_filter(lambda value: format_jst(value, seconds=True), "jst_seconds")
    app.add_template_global(STATUS_LABELS, "status_labels")
    app.add_template_global(table_cells, "table_cells")
    app.add_template_global(row_url, "row_url")
