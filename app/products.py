"""Value types plugins hand to the core: products, menu links and dashboard panels."""
from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, g, has_request_context
from markupsafe import Markup

USER_WORD = "ユーザー"  # what the core calls a tenant's users; a product may say 社員 (Product.user_word)


@dataclass(frozen=True)
class Product:
    """A product a tenant can subscribe to, provided by one plugin.

    ``views`` is the dotted path of the module whose ``bp`` is the product's blueprint (made with
    ``blueprint``); the core imports and registers it once the plugins are loaded. ``stylesheet``
    names a file in that blueprint's static folder; every page a tenant of the product sees links it
    after the core stylesheet.

    Help for the product's users (all optional): ``guide`` is a Markdown file (``flask manual build`` makes the
    first 操作マニュアル from it), ``faq`` a folder of Markdown files (the よくある質問 page), both relative to
    the plugin package that registers the product; ``support_hours`` is shown on the お問い合わせ page;
    ``login_help`` is added to the login form's failure message when the company code belongs to a
    tenant of this product (the same for a wrong password, an unknown login id and a locked account).
    """

    code: str
    name: str
    description: str = ""
    user_word: str = "ユーザー"
    stylesheet: str = ""
    views: str = ""
    guide: str = ""
    faq: str = ""
    support_hours: str = ""
    login_help: str = ""

    def owns(self, tenant) -> bool:
        """True when ``tenant`` is a tenant of this product (False for no tenant)."""
        return tenant is not None and tenant.product == self.code

    def blueprint(self, import_name: str) -> Blueprint:
        """The product's blueprint for ``views/__init__.py``: named like the product, under /<code>,
        with the package's ``templates/`` and ``static/`` folders (the product shape)."""
        return Blueprint(self.code, import_name, url_prefix=f"/{self.code}", template_folder="../templates",
                         static_folder="../static")


def register_product_views(app) -> None:
    """Import and register the blueprint of every product that names its ``views`` module."""
    for batch in app.extensions["kanri_plugins"].hook.register_products():
        for product in batch or ():
            if product.views:
                app.register_blueprint(importlib.import_module(product.views).bp)


@dataclass(frozen=True)
class MenuLink:
    """A link in the navigation: ``section`` is 'main' (menus) or 'account' (the user's own pages)."""

    label: str
    endpoint: str
    menu_id: str = ""
    description: str = ""
    section: str = "main"
    order: int = 100


def admin_links(tenant, user, *links: MenuLink) -> list[MenuLink]:
    """``links`` for a signed-in 管理者 of a tenant; nothing for anyone else (a ``menu_links`` answer)."""
    if tenant is None or user is None or not getattr(user, "is_admin", False):
        return []
    return list(links)


@dataclass(frozen=True)
class Panel:
    """A block on the dashboard."""

    title: str
    body: Markup
    order: int = 100


@dataclass(frozen=True)
class DemoTenant:
    """A product's demo tenant for ``flask demo``: its code, company name and product.

    ``seed(tenant)`` runs inside the tenant's scope after the core made the tenant, its admin
    and a general user; it adds sample records and returns lines to print (or None).
    """

    code: str
    name: str
    product: str
    seed: Callable | None = None


@dataclass(frozen=True)
class SessionCompanion:
    """A row a product's ``session_valid`` reads, loaded with the session: ``entity`` outer-joined ``on``.

    Build ``on`` once per process and bind the request's values through ``params`` (``sa.bindparam`` names):
    the core then reuses one prepared session statement instead of building it on every request."""

    entity: Any
    on: Any
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class SessionRefusal:
    """A product's answer to ``session_valid`` that ends a session: audit reason and message for the user."""

    reason: str
    message: str


def plugin_manager():
    """Return the running application's pluggy plugin manager."""
    return current_app.extensions["kanri_plugins"]


def all_products() -> dict[str, Product]:
    """Return every registered product by code (collected once per app: plugins register at start-up)."""
    products = current_app.extensions.get("kanri_products")
    if products is None:
        products = {}
        for batch in plugin_manager().hook.register_products():
            for product in batch or ():
                products[product.code] = product
        current_app.extensions["kanri_products"] = products
    return dict(products)


def plugin_folder(code: str) -> Path | None:
    """The folder of the plugin package that registers product ``code`` (None when no plugin does)."""
    folders = current_app.extensions.setdefault("kanri_plugin_folders", {})
    if code not in folders:
        folders[code] = None
        for impl in plugin_manager().hook.register_products.get_hookimpls():
            if any(product.code == code for product in impl.function() or ()):
                folders[code] = Path(impl.plugin.__file__).resolve().parent
                break
    return folders[code]


def product_file(product: Product, relative: str) -> Path | None:
    """``relative`` (a Product's ``guide`` or ``faq``) inside the product's plugin package; None when unset,
    missing, or pointing outside the package."""
    root = plugin_folder(product.code) if relative else None
    if root is None:
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to(root) and path.exists() else None


def product_name(code: str) -> str:
    """Return a product's display name (its code when unknown)."""
    product = all_products().get(code)
    return product.name if product else code


def _flatten(results) -> list:
    return [item for batch in results for item in (batch or ())]


def _all_menu_links(tenant, user) -> list[MenuLink]:
    if not has_request_context():
        return _flatten(plugin_manager().hook.menu_links(tenant=tenant, user=user))
    # Asked for each section and by the dashboard: the plugins answer once per request and user.
    asked = g.setdefault("kanri_menu_links", {})
    key = (getattr(tenant, "id", None), getattr(user, "id", None))
    if key not in asked:
        asked[key] = _flatten(plugin_manager().hook.menu_links(tenant=tenant, user=user))
    return asked[key]


def menu_links(tenant, user, section: str = "main") -> list[MenuLink]:
    """Return the user's menu links in one section, in display order."""
    links = _all_menu_links(tenant, user)
    return sorted((link for link in links if link.section == section), key=lambda link: (link.order, link.label))


def menu_registry(tenant) -> list[MenuLink]:
    """Every main-menu link any plugin offers ``tenant`` whoever the user, once each, in display order
    (for permission screens)."""
    links = _flatten(plugin_manager().hook.menu_registry(tenant=tenant))
    unique = {link.menu_id or link.endpoint: link for link in links if link.section == "main"}
    return sorted(unique.values(), key=lambda link: (link.order, link.label))


def dashboard_panels(tenant, user) -> list[Panel]:
    """Return the dashboard panels the plugins give for this user."""
    panels = _flatten(plugin_manager().hook.dashboard_panels(tenant=tenant, user=user))
    return sorted(panels, key=lambda panel: panel.order)


def demo_tenants() -> list[DemoTenant]:
    """Return the demo tenant of every plugin that offers one, in the order of KANRI_PLUGINS."""
    # pluggy calls the newest registration first; reversed, that is the allowlist's order.
    return [demo for demo in reversed(plugin_manager().hook.demo_tenant()) if demo is not None]


def audit_action_labels(tenant=None) -> dict[str, str]:
    """Every audit action's Japanese label (the core's and every plugin's), collected once per app; for a
    ``tenant`` whose product calls its users otherwise (``Product.user_word``, e.g. 社員) in that word."""
    labels = current_app.extensions.get("kanri_audit_labels")
    if labels is None:
        labels = {}
        for batch in reversed(plugin_manager().hook.audit_action_labels()):
            labels.update(batch or {})
        current_app.extensions["kanri_audit_labels"] = labels
    product = all_products().get(getattr(tenant, "product", None)) if tenant is not None else None
    word = product.user_word if product else USER_WORD
    if word == USER_WORD:
        return labels
    worded = current_app.extensions.setdefault("kanri_audit_labels_by_word", {})
    if word not in worded:
        worded[word] = {action: label.replace(USER_WORD, word) for action, label in labels.items()}
    return worded[word]


def login_links() -> list[MenuLink]:
    """Return the links shown under the login form."""
    return sorted(_flatten(plugin_manager().hook.login_links()), key=lambda link: link.order)
