"""The plugin contract: documented hooks, start-up checks, and what the sample product adds."""
from __future__ import annotations

import inspect
import re
import sys
import textwrap
from pathlib import Path

import pluggy
import pytest
import sqlalchemy as sa

from app import create_app, hookspecs
from app.extensions import db
from app.models import Tenant, User, UserSession
from app.plugins import PluginError
from app.products import all_products, menu_links
from app.tenancy import all_tenants, tenant_models, tenant_scope
from tests.conftest import PASSWORD, TEST_PLUGINS, login, password_step
from tests.mama_helpers import login_with_code
from tests.plugins import sample_product

DOCS = Path(__file__).resolve().parent.parent / "docs" / "plugins.md"


def _hookspecs() -> dict[str, list[str]]:
    """Every hook specification in app/hookspecs.py with its argument names."""
    specs = {}
    for name, function in vars(hookspecs).items():
        if inspect.isfunction(function) and hasattr(function, "kanri_spec"):
            specs[name] = list(inspect.signature(function).parameters)
    return specs


def test_hookspecs_are_found():
    specs = _hookspecs()
    assert "second_factor" in specs and specs["second_factor"] == ["tenant", "user"]
    assert len(specs) >= 10


@pytest.mark.parametrize("name", sorted(_hookspecs()))
def test_every_hook_is_documented(name):
    """docs/plugins.md documents each hook as `name(arg, …)` (a heading or a line)."""
    text = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert text, "docs/plugins.md is missing"
    args = _hookspecs()[name]
    pattern = re.compile(rf"(?<![\w.]){name}\(\s*" + r",\s*".join(map(re.escape, args)) + r"\s*\)")
    lines = [line for line in text.splitlines() if pattern.search(line)]
    assert lines, f"docs/plugins.md does not document {name}({', '.join(args)})"


def _dispose(application) -> None:
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def test_misspelt_hookimpl_fails_start_up(base_config, tmp_path, monkeypatch):
    package = tmp_path / "kanri_misspelt_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    module = "kanri_misspelt_pkg.plugin"  # dotted: KANRI_PLUGINS imports dotted names directly
    (package / "plugin.py").write_text(textwrap.dedent("""
        from app import hookimpl

        @hookimpl
        def menu_linkz(tenant, user):
            return []
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(pluggy.PluginValidationError, match="menu_linkz"):
            create_app({**base_config, "KANRI_PLUGINS": f"{TEST_PLUGINS},{module}"})
    finally:
        sys.modules.pop(module, None)
        sys.modules.pop("kanri_misspelt_pkg", None)


@pytest.mark.parametrize("plugins", ["mama,jucho,no_such_plugin", "mama,tests.plugins.no_such_module"])
def test_unknown_plugin_fails_start_up(base_config, plugins):
    with pytest.raises(PluginError):
        create_app({**base_config, "KANRI_PLUGINS": plugins})


def test_plugin_manager_is_per_app(app, base_config):
    production = create_app({**base_config, "KANRI_PLUGINS": "mama,jucho"})
    try:
        assert production.extensions["kanri_plugins"] is not app.extensions["kanri_plugins"]
        with production.app_context():
            assert {"mama", "jucho"} <= set(all_products()) and "sample" not in all_products()
        assert "sample" not in production.blueprints
        with app.app_context():
            assert "sample" in all_products()
        assert "sample" in app.blueprints
        # the built-in account plugin is always there
        assert production.extensions["kanri_plugins"].get_plugin("app.builtins.account") is not None
    finally:
        _dispose(production)


def test_sample_plugin_blueprint_menu_panel_and_login_link(app, client, make_tenant):
    make_tenant("sample-co")
    assert "sample" in app.blueprints
    login_page = client.get("/login").get_data(as_text=True)
    assert 'href="/sample/confirm">サンプルのリンク</a>' in login_page

    response = login(client, "sample-co", "admin")
    assert response.headers["Location"].endswith("/")
    page = client.get("/").get_data(as_text=True)
    nav = page[page.index('<nav class="site-nav"'):page.index("</nav>")]
    assert 'href="/sample/notes">サンプルノート</a>' in nav
    assert "サンプルのお知らせ" in page and "サンプルパネル" in page
    assert client.get("/sample/notes").status_code == 200


def test_sample_menu_and_panel_not_shown_to_other_products(app, make_tenant):
    make_tenant("mama-co", product="mama")
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "mama-co")).scalar_one()
        with tenant_scope(tenant):
            user = db.session.execute(sa.select(User)).scalar_one()
            assert "サンプルノート" not in [link.label for link in menu_links(tenant, user)]
    client = app.test_client()
    login_with_code(client, app, "mama-co", "admin")  # MAMA ends a session not opened by its device factor
    page = client.get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "mama-co 株式会社" in html  # really logged in as the mama tenant's admin
    assert "サンプルノート" not in html and "/sample/notes" not in html and "サンプルパネル" not in html


def test_sample_second_factor_and_purge_hooks(app, make_tenant):
    make_tenant("hook-co")
    manager = app.extensions["kanri_plugins"]
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "hook-co")).scalar_one()
        with tenant_scope(tenant):
            user = db.session.execute(sa.select(User)).scalar_one()
            assert manager.hook.second_factor(tenant=tenant, user=user) is sample_product.FACTOR
        sample_product.PURGED.clear()
        manager.hook.purge_tenant(tenant=tenant)
        assert sample_product.PURGED == ["hook-co"]
        tables = tenant_models()  # the core lists tenant-owned tables itself (no tenant_tables hook)
        assert sample_product.SampleNote in tables


@pytest.mark.config(KANRI_PLUGINS=f"{TEST_PLUGINS},tests.plugins.nofactor_product")
def test_product_without_second_factor_cannot_log_in(app, client, make_tenant):
    tenant = make_tenant("plain-co", product="plain")
    response = password_step(client, "plain-co", "admin", PASSWORD)
    assert response.status_code == 200
    assert "二要素認証が利用できない" in response.get_data(as_text=True)

    with app.app_context():
        rows = db.session.execute(sa.text(
            "SELECT action, outcome, details FROM audit_events WHERE tenant_id = :t AND action LIKE 'login.%'"),
            {"t": tenant.id}).all()
        assert [(r.action, r.outcome) for r in rows] == [("login.refused", "failure")]
        assert '"reason": "no_second_factor"' in rows[0].details
        with all_tenants():
            assert db.session.execute(sa.select(sa.func.count()).select_from(UserSession)).scalar() == 0
    # no session and no pending login to finish through any factor page
    assert client.get("/").status_code == 302
    assert client.get("/sample/confirm").status_code == 302
    with client.session_transaction() as session:
        assert "_user_id" not in session and "kanri_pending_login" not in session


def test_without_an_allowlist_every_installed_plugin_is_loaded(base_config):
    """The core names no product: the default plugin list is whatever the 'kanri' entry points install."""
    from importlib.metadata import entry_points

    installed = {ep.name for ep in entry_points(group="kanri")}
    assert installed, "the package declares its products as entry points"
    application = create_app({**base_config, "KANRI_PLUGINS": None})
    manager = application.extensions["kanri_plugins"]
    assert installed <= {name for name, _ in manager.list_name_plugin()}
