"""Built-in plugin: 「マニュアル」 — every version of each product's 操作マニュアル (PDF) kept in the database,
published with ``flask manual publish | build``, downloaded by the product's users from the マニュアル page.

Registered like any product (``app.plugins.BUILTIN_PLUGINS``); product-agnostic: a product gives its guide
(``Product.guide``) and ``flask manual build`` makes the first PDF from it with ``app.pdf``.
"""
from __future__ import annotations

from flask import Blueprint

from app.hookspecs import hookimpl
from app.products import MenuLink, all_products

from . import models  # noqa: F401  (the manuals table joins the metadata)

bp = Blueprint("manuals", __name__, template_folder="templates")


@hookimpl
def register_blueprints(app):
    """The マニュアル page and the download."""
    app.register_blueprint(bp)


@hookimpl
def register_commands(cli):
    """``flask manual publish | list | build``."""
    from .cli import manual_cli

    cli.add_command(manual_cli)


@hookimpl
def menu_links(tenant, user):
    """「マニュアル」 in the help links, for every user of a tenant."""
    if tenant is None or user is None:
        return []
    return [MenuLink("マニュアル", "manuals.index", menu_id="manuals", section="help",
                     description="操作マニュアル（PDF）のダウンロード", order=10)]


@hookimpl
def demo_seeded(tenants):
    """A first manual (version 1.0, built from the guide) for each demo product that has a guide and none yet."""
    from .service import build_and_publish, versions

    lines = []
    for code in sorted({tenant.product for tenant in tenants}):
        product = all_products().get(code)
        if product is None or not product.guide or versions(code):
            continue
        manual = build_and_publish(code, "1.0", operator="operator:demo")
        lines.append(f"マニュアル: {product.name} 第{manual.version}版を公開しました（メニュー「マニュアル」）。")
    return lines


@hookimpl
def audit_action_labels():
    """Japanese labels of the manuals' audit actions."""
    return {"manual.download": "マニュアルのダウンロード", "manual.publish": "マニュアルの公開"}


from . import views  # noqa: E402,F401  (routes register on bp)
