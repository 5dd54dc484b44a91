"""``/faq`` (the user's product's FAQ, or the list of products) and ``/faq/<product>`` with ``?q=`` search."""
from __future__ import annotations

from flask import abort, redirect, render_template, url_for
from flask_login import current_user

from app.products import all_products
from app.queryargs import text_arg
from app.tenancy import current_tenant

from . import bp, content

QUERY_MAX = 100


def _products_with_faq() -> list:
    return [product for product in all_products().values() if content.groups_of(product)]


@bp.route("/faq")
def index():
    """A logged-in user goes to their product's FAQ; anyone else (or a product without one) chooses a product."""
    tenant = current_tenant() if current_user.is_authenticated else None
    products = _products_with_faq()
    if tenant is not None and any(product.code == tenant.product for product in products):
        return redirect(url_for("faq.product", code=tenant.product))
    return render_template("faq/choose.html", products=products)


@bp.route("/faq/<code>")
def product(code: str):
    """The product's questions, grouped; ``q`` narrows them to those containing every word."""
    found = all_products().get(code)
    groups = content.groups_of(found) if found is not None else []
    if not groups:
        abort(404)
    query = text_arg("q", limit=QUERY_MAX)
    shown = content.search(groups, query)
    return render_template("faq/product.html", product=found, groups=shown, query=query,
                           count=sum(len(group.questions) for group in shown))
