"""Helpers for the generated attack suite: the seeded world (tenants, actors, ids), URL filling and checks."""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_mail import email_dispatched

from app.extensions import db
from app.models import Tenant, User
from app.tenancy import tenant_scope
from tests.conftest import PASSWORD, RecordedMail

# Each tenant's names carry its own marker: any other actor seeing it is a leak.
MARKERS = {"mama1": "ZQmamaoneZQ", "mama2": "ZQmamatwoZQ", "jucho1": "ZQjuchooneZQ", "jucho2": "ZQjuchotwoZQ"}
PRODUCT_OF = {"mama1": "mama", "mama2": "mama", "jucho1": "jucho", "jucho2": "jucho"}
FOREIGN_OF = {"mama1": "mama2", "mama2": "mama1", "jucho1": "jucho2", "jucho2": "jucho1"}

# URL parameter -> the table whose first row of the tenant fills it (per product where the name is shared).
ID_TABLES = {
    "association_id": {"mama": "mama_associations", "jucho": "jucho_associations"},
    "building_id": {"*": "jucho_buildings"},
    "unit_id": {"*": "jucho_units"},
    "request_id": {"mama": "mama_reset_requests", "jucho": "jucho_requests"},
    "user_id": {"*": "users"},
    "device_id": {"*": "mama_devices"},
    "set_id": {"*": "mama_permission_sets"},
    "fee_id": {"*": "jucho_fee_items"},
    "record_id": {"*": "jucho_repair_records"},
    "import_id": {"*": "jucho_unit_imports"},
    "delivery_id": {"*": "jucho_report_deliveries"},
    "session_id": {"*": "user_sessions"},
}
# Tables a refused request may legitimately touch (the log of the refusal, the session's last-seen time).
UNCOUNTED = {"audit_events", "user_sessions", "mail_outbox", "mail_attempts"}
SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "X-Request-ID")
STATE_CHANGING = ("POST", "PUT", "PATCH", "DELETE")
IMPOSSIBLE = (0, 2**53, -1)


@dataclass
class Actor:
    """A browser: who it is, its tenant (None when anonymous) and its test client."""

    name: str
    tenant: str | None
    client: object
    markers_allowed: set = field(default_factory=set)


def _seed_tenant(key: str) -> None:
    from app.tenants import create_tenant

    product = PRODUCT_OF[key]
    tenant, _, _, _ = create_tenant(
        code=key, name=f"{MARKERS[key]} 株式会社", product=product, contract_end="2099-12-31", admin_login="admin",
        admin_email=f"admin@{key}.example.jp", admin_name=f"管理 {MARKERS[key]}", admin_password=PASSWORD)
    with tenant_scope(tenant):
        if product == "mama":
            from plugins.mama import _seed_demo
            from plugins.mama.models import MamaAssociation as Association
        else:
            from plugins.jucho.demo import seed_demo as _seed_demo
            from plugins.jucho.models import JuchoAssociation as Association
        _seed_demo(tenant)
        from app.accounts import create_user

        create_user(tenant, "emp", f"一般 {MARKERS[key]}", f"emp@{key}.example.jp", role="general", password=PASSWORD)
        for row in db.session.execute(sa.select(Association)).scalars():
            row.name = f"{MARKERS[key]}{row.name}"
        if product == "jucho":
            from plugins.jucho.models import JuchoBuilding

            for row in db.session.execute(sa.select(JuchoBuilding)).scalars():
                row.name = f"{MARKERS[key]}{row.name}"
        db.session.commit()


def seed_world(app) -> dict[str, dict[str, int]]:
    """Create the four tenants with their demo rows; return each tenant's ids by URL parameter name."""
    with app.app_context():
        for key in MARKERS:
            _seed_tenant(key)
        return {key: tenant_ids(key) for key in MARKERS}


def tenant_ids(key: str) -> dict[str, int]:
    """The first row id of every ID_TABLES table in a tenant (users: its 一般 user)."""
    tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == key)).scalar_one()
    ids = {}
    for param, tables in ID_TABLES.items():
        table = tables.get(PRODUCT_OF[key]) or tables.get("*")
        if not table:
            continue
        meta = db.metadata.tables[table]
        query = sa.select(sa.func.min(meta.c.id)).where(meta.c.tenant_id == tenant.id)
        if table == "users":
            query = sa.select(User.id).where(User.tenant_id == tenant.id, User.login_id == "emp")
        found = db.session.execute(query.execution_options(all_tenants=True)).scalar()
        if found:
            ids[param] = found
    return ids


def log_in_everyone(app) -> list[Actor]:
    """Anonymous, 一般 and 管理者 of mama1 and jucho1, and mama2's 管理者 (second factors done)."""
    from tests.jucho_helpers import jucho_login
    from tests.mama_helpers import login_with_code

    outbox = RecordedMail(app)
    email_dispatched.connect(outbox.record)
    try:
        actors = [Actor("anonymous", None, app.test_client())]
        for key, login_id in (("mama1", "emp"), ("mama1", "admin"), ("mama2", "admin"),
                              ("jucho1", "emp"), ("jucho1", "admin")):
            client = app.test_client()
            if PRODUCT_OF[key] == "mama":
                login_with_code(client, app, key, login_id)
            else:
                jucho_login(client, outbox, key, login_id)
            actors.append(Actor(f"{key}:{login_id}", key, client, {MARKERS[key]}))
        return actors
    finally:
        email_dispatched.disconnect(outbox.record)


_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def route_params(rule) -> list[tuple[str, str]]:
    """(converter, name) of every variable of a rule, in order."""
    return [(conv or "default", name) for conv, name in _PARAM.findall(rule.rule)]


def fill(rule, value_for) -> str:
    """The rule's URL with each variable replaced by value_for(converter, name)."""
    return _PARAM.sub(lambda m: str(value_for(m.group(1) or "default", m.group(2))), rule.rule)


def row_counts(app) -> dict[str, int]:
    """The number of rows of every counted table, in one query."""
    with app.app_context():
        tables = [t for t in db.metadata.sorted_tables if t.name not in UNCOUNTED]
        query = sa.union_all(*(sa.select(sa.literal(t.name).label("t"), sa.func.count().label("n")).select_from(t)
                               for t in tables))
        counts = {name: n for name, n in db.session.execute(query)}
        db.session.remove()
        return counts


def missing_headers(response) -> list[str]:
    """The security headers a response lacks."""
    return [name for name in SECURITY_HEADERS if not response.headers.get(name)]


def leaked_markers(body: str, allowed: set) -> list[str]:
    """Markers of other tenants found in a body."""
    return [marker for marker in MARKERS.values() if marker not in allowed and marker in body]


@dataclass
class Form:
    """A POST form found on a page: where it posts and its fields (name -> type, or the options of a select)."""

    page: str
    action: str
    fields: dict = field(default_factory=dict)


class _FormParser:
    """Collects the POST forms of a page with html.parser."""

    def __init__(self, page: str):
        from html.parser import HTMLParser

        self.page, self.forms, self._current, self._select = page, [], None, None
        parser = HTMLParser(convert_charrefs=True)
        parser.handle_starttag = self._start
        parser.handle_endtag = self._end
        self._parser = parser

    def feed(self, html: str) -> list[Form]:
        self._parser.feed(html)
        return self.forms

    def _start(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "").lower() == "post":
            self._current = Form(self.page, attrs.get("action") or self.page)
            self.forms.append(self._current)
        elif self._current is None or not attrs.get("name"):
            if tag == "option" and self._select is not None:
                self._current.fields[self._select].append(attrs.get("value", ""))
        elif tag == "input":
            self._current.fields[attrs["name"]] = (attrs.get("type") or "text").lower()
        elif tag == "textarea":
            self._current.fields[attrs["name"]] = "textarea"
        elif tag == "select":
            self._select = attrs["name"]
            self._current.fields[self._select] = []

    def _end(self, tag):
        if tag == "form":
            self._current = None
        elif tag == "select":
            self._select = None


def post_forms(page: str, html: str) -> list[Form]:
    """The POST forms of a page."""
    return _FormParser(page).feed(html)
