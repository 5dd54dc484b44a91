"""Built-in plugin: 「よくある質問」 — each product's FAQ from the Markdown files in its plugin (``Product.faq``),
grouped and searchable on the page without JavaScript. Public: the people who need it most cannot log in.

Registered like any product (``app.plugins.BUILTIN_PLUGINS``); product-agnostic.
"""
from __future__ import annotations

from flask import Blueprint

from app.hookspecs import hookimpl
from app.products import MenuLink

bp = Blueprint("faq", __name__, template_folder="templates")
LINK = MenuLink("よくある質問", "faq.index", menu_id="faq", description="よくある質問と回答", section="help", order=20)


@hookimpl
def register_blueprints(app):
    """The FAQ pages under ``/faq``."""
    app.register_blueprint(bp)


@hookimpl
def menu_links(tenant, user):
    """「よくある質問」 in the help links, for the users of a product that has a FAQ."""
    if tenant is None or user is None:
        return []
    from app.products import all_products

    from .content import has_faq

    product = all_products().get(tenant.product)
    return [LINK] if product is not None and has_faq(product) else []


@hookimpl
def login_links():
    """「よくある質問」 under the login form (ログインできない、パスワードを忘れた …)."""
    return [MenuLink("よくある質問（ログインできない場合など）", "faq.index", section="login", order=90)]


from . import views  # noqa: E402,F401  (routes register on bp)
