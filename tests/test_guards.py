"""The core's access toolkit: product_required(code, admin=...) and Product.owns(tenant)."""
from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Blueprint

from app.auth.guards import product_required
from app.extensions import db
from app.models import AuditEvent, Tenant
from app.products import Product
from app.tenancy import all_tenants
from tests.conftest import login


@pytest.fixture
def guarded(app):
    """A blueprint with pages for 'sample' users, 'sample' admins and another product's users."""
    bp = Blueprint("guarded", __name__, url_prefix="/guarded")

    @bp.route("/member")
    @product_required("sample")
    def member():
        return "member page"

    @bp.route("/admin")
    @product_required("sample", admin=True)
    def admin():
        return "admin page"

    @bp.route("/other")
    @product_required("other-product")
    def other():
        return "other page"

    app.register_blueprint(bp)
    return app


def _denials(app) -> list[str]:
    with app.app_context():
        query = sa.select(AuditEvent.target).where(AuditEvent.action == "access.denied")
        return list(db.session.execute(query.execution_options(all_tenants=True)).scalars())


def test_anonymous_is_sent_to_login(guarded):
    client = guarded.test_client()
    for path in ("/guarded/member", "/guarded/admin", "/guarded/other"):
        response = client.get(path)
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


def test_user_of_the_product_passes(guarded, make_tenant, add_user):
    tenant = make_tenant("acme")
    add_user("acme", "ippan")
    admin = guarded.test_client()
    login(admin, tenant.code, tenant.admin_login)
    assert admin.get("/guarded/member").get_data(as_text=True) == "member page"
    assert admin.get("/guarded/admin").get_data(as_text=True) == "admin page"
    general = guarded.test_client()
    login(general, "acme", "ippan")
    assert general.get("/guarded/member").status_code == 200


def test_non_admin_is_denied_and_audited(guarded, make_tenant, add_user):
    make_tenant("acme")
    add_user("acme", "ippan")
    client = guarded.test_client()
    login(client, "acme", "ippan")
    assert client.get("/guarded/admin").status_code == 403
    assert _denials(guarded) == ["endpoint:guarded.admin"]


def test_another_products_page_answers_404_without_audit(guarded, make_tenant):
    tenant = make_tenant("acme")
    client = guarded.test_client()
    login(client, tenant.code, tenant.admin_login)
    assert client.get("/guarded/other").status_code == 404
    assert _denials(guarded) == []


def test_product_owns_only_its_tenants(app, make_tenant):
    make_tenant("acme")
    sample = Product("sample", "サンプル製品")
    other = Product("other-product", "別製品")
    with app.app_context(), all_tenants():
        tenant = Tenant.by_code("acme")
        assert sample.owns(tenant)
        assert not other.owns(tenant)
    assert not sample.owns(None)
