"""kanri: a multi-tenant SaaS platform whose products are pluggy plugins."""
from __future__ import annotations

import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as settings
from .hookspecs import hookimpl

__all__ = ["create_app", "hookimpl"]

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: config → extensions → plugin manager → blueprints."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("KANRI_INSTANCE_PATH") or os.path.join(ROOT, "instance"),
        instance_relative_config=True,
    )
    app.config.update(settings.BASE_SETTINGS)
    app.config.update(settings.from_environment(app.instance_path))
    if test_config:
        app.config.update(test_config)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config.get("SECRET_KEY") and app.config["KANRI_ENV"] != "production":
        app.config["SECRET_KEY"] = settings.ensure_development_secret(app.instance_path)
    settings.check_production(app.config)
    from .pg_prepared import tune_pool

    tune_pool(app.config)
    settings.apply_base_url(app.config)
    from .routing import RowIdConverter

    app.url_map.converters["int"] = RowIdConverter  # before any blueprint adds a rule

    _init_extensions(app)
    _init_plugins(app)
    _init_core(app)
    if app.config["KANRI_PROXY_FIX"]:
        hops = app.config["KANRI_PROXY_FIX"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    return app


def _init_extensions(app: Flask) -> None:
    from . import crypto, mail_sender, mailer, pg_prepared, security, sqlite_transactions, urls  # noqa: F401
    from .extensions import csrf, db, limiter, login_manager, mail, migrate
    from .searchtext import managed_by_hand

    app.extensions["kanri_keyset"] = crypto.load_keyset(app.config)
    security.init_app(app)  # first: every later hook and error page has the request id
    urls.init_app(app)  # before anything else reads the request: a foreign Host is a 400
    db.init_app(app)
    pg_prepared.init_app(app)  # after db: its teardown runs before Flask-SQLAlchemy closes the session
    migrate.init_app(app, db, directory=os.path.join(ROOT, "migrations"), compare_type=True,
                     include_object=managed_by_hand)
    csrf.init_app(app)
    mail.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "ログインしてください。"
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session record is the protection
    security.configure_logging()
    mailer.init_console_mail()
    mail_sender.init_app(app)


def _init_plugins(app: Flask) -> None:
    from . import cli, crypto, models  # noqa: F401  (core tables join the metadata first)
    from .extensions import db
    from .plugins import build_plugin_manager
    from .products import register_product_views

    manager = build_plugin_manager(app.config["KANRI_PLUGINS"])
    app.extensions["kanri_plugins"] = manager
    crypto.label_encrypted_columns(db.metadata)
    register_product_views(app)
    manager.hook.register_blueprints(app=app)
    cli.init_app(app)  # core groups first, so plugins can add to `flask user`, `flask tenant` …
    manager.hook.register_commands(cli=app.cli)
    cli.japanese_help(app.cli)
    cli.localize_flask_command_list(app)


def _init_core(app: Flask) -> None:
    from . import devmail, display, errors, metrics, postcode, views
    from .auth import bp as auth_bp
    from .auth import guards

    app.register_blueprint(auth_bp)
    app.register_blueprint(views.bp)
    app.register_blueprint(postcode.bp)
    guards.init_app(app)
    errors.init_app(app)
    views.init_template_helpers(app)
    display.init_app(app)
    devmail.init_app(app)
    metrics.init_app(app)
