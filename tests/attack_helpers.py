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
OTHER_PRODUCT_OF = {"mama1": "jucho1", "mama2": "jucho2", "jucho1": "mama1", "jucho2": "mama2"}

# Where the values of an id argument come from: "table.column" per blueprint ("*": any blueprint). An argument
# <thing>_id not listed is looked up as the table <blueprint>_<thing>s, else <thing>s (see id_source); an integer
# argument found nowhere fails test_every_route_argument_has_a_source, so a new route cannot slip through unattacked.
ID_SOURCES = {
    "request_id": {"mama": "mama_reset_requests.id", "jucho": "jucho_requests.id",
                   "lifecycle": "export_requests.id"},
    "set_id": {"*": "mama_permission_sets.id"},
    "fee_id": {"*": "jucho_fee_items.id"},
    "record_id": {"*": "jucho_repair_records.id"},
    "import_id": {"*": "jucho_unit_imports.id"},
    "delivery_id": {"*": "jucho_report_deliveries.id"},
    "session_id": {"*": "user_sessions.id"},
    "passkey_id": {"*": "strong_factor_passkeys.id"},
    "version": {"jucho": "jucho_reports.version"},  # 重調 report versions: /jucho/requests/<id>/report/<version>.pdf
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
    tenant, admin, _, _ = create_tenant(
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

        employee, _ = create_user(tenant, "emp", f"一般 {MARKERS[key]}", f"emp@{key}.example.jp", role="general",
                                  password=PASSWORD)
        for row in db.session.execute(sa.select(Association)).scalars():
            row.name = f"{MARKERS[key]}{row.name}"
        _seed_core_rows(tenant, admin, key)
        if product == "mama":
            _seed_mama_rows(employee, key)
        else:
            _seed_jucho_rows(admin, key)
        db.session.commit()


def _seed_core_rows(tenant, admin, key: str) -> None:
    """A データ書き出し request and a notice addressed to this tenant only, both carrying its marker."""
    from app.builtins.lifecycle.export import request_export
    from app.builtins.transparency.notices import create_notice

    request_export(tenant, admin, note=f"書き出し {MARKERS[key]}")
    create_notice(title=f"お知らせ {MARKERS[key]}", body=f"本文 {MARKERS[key]}", product=tenant.product,
                  tenants=[tenant], operator="operator:attack")


def _seed_mama_rows(employee, key: str) -> None:
    """A permission set and an open password reset request (devices and sessions come from the logins)."""
    from plugins.mama.models import MamaPermissionSet, MamaResetRequest

    db.session.add(MamaPermissionSet(name=f"権限 {MARKERS[key]}", role="general"))
    db.session.add(MamaResetRequest(user_id=employee.id))


def _seed_jucho_rows(admin, key: str) -> None:
    """The demo request's report issued (version 1) and sent by link, and a pending 住戸 CSV import."""
    from datetime import timedelta

    from app.timeutil import utcnow
    from plugins.jucho import reports, unit_import
    from plugins.jucho.deliveries import JuchoReportDelivery
    from plugins.jucho.models import JuchoBuilding
    from plugins.jucho.requests import DRAFTING, REVIEW, JuchoRequest, set_status

    for row in db.session.execute(sa.select(JuchoBuilding)).scalars():
        row.name = f"{MARKERS[key]}{row.name}"
    request = db.session.execute(sa.select(JuchoRequest).order_by(JuchoRequest.id).limit(1)).scalar_one()
    request.broker_company = f"{MARKERS[key]}不動産"
    report = reports.start_draft(request, admin)
    if request.status == DRAFTING:
        set_status(request, REVIEW, admin)
    reports.issue(report, admin)
    db.session.add(JuchoReportDelivery(report_id=report.id, request_id=request.id, recipient=f"broker@{key}.example.jp",
                                       token_hash=f"{key:0<64}"[:64], expires_at=utcnow() + timedelta(days=7),
                                       max_downloads=5))
    building = db.session.execute(sa.select(JuchoBuilding).order_by(JuchoBuilding.id).limit(1)).scalar_one()
    checked = unit_import.plan("住戸番号,階\r\n901,9\r\n".encode(), building.id, include_personal=False)
    unit_import.save_pending(checked, building.id, admin.id, f"{MARKERS[key]}.csv")


_MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\nstartxref\n0\n%%EOF\n"


def seed_world(app) -> None:
    """Create the four tenants with their demo rows, markers and one row of every attacked table; one manual a
    product."""
    from app.builtins.manuals.service import publish

    with app.app_context():
        for key in MARKERS:
            _seed_tenant(key)
        for product in sorted(set(PRODUCT_OF.values())):
            publish(product, "1.0", _MINIMAL_PDF, operator="operator:attack")


def add_passkeys(app) -> None:
    """A passkey with the tenant's marker for each 一般 user, added after the logins (a user with a passkey is asked
    for it at login)."""
    from app.builtins.strong_factors.models import Passkey

    with app.app_context():
        for key in MARKERS:
            tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == key)).scalar_one()
            with tenant_scope(tenant):
                employee = db.session.execute(sa.select(User).where(User.login_id == "emp")).scalar_one()
                db.session.add(Passkey(user_id=employee.id, name=f"パスキー {MARKERS[key]}",
                                       credential_id=f"attack-{key}", public_key=b"\x01", sign_count=0))
                db.session.commit()


def mark_devices(app) -> None:
    """Put each tenant's marker on the devices its logins registered."""
    from plugins.mama.models import MamaDevice

    with app.app_context():
        for key in ("mama1", "mama2"):
            tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == key)).scalar_one()
            with tenant_scope(tenant):
                for device in db.session.execute(sa.select(MamaDevice)).scalars():
                    device.name = f"端末 {MARKERS[key]}"
                db.session.commit()


def id_source(endpoint: str, name: str) -> str | None:
    """The "table.column" an integer route argument is filled from, or None when nothing is known for it."""
    blueprint = endpoint.split(".")[0]
    listed = ID_SOURCES.get(name, {})
    if blueprint in listed or "*" in listed:
        return listed.get(blueprint) or listed["*"]
    if name.endswith("_id"):
        thing = name[:-3]
        for table in (f"{blueprint}_{thing}s", f"{thing}s"):
            if table in db.metadata.tables:
                return f"{table}.id"
    return None


def world_ids(app, sources) -> dict[str, dict[str, int]]:
    """Each tenant's own value (the first row) of every source; users: its 一般 user."""
    with app.app_context():
        ids = {key: tenant_values(key, sources) for key in MARKERS}
        db.session.remove()
        return ids


def tenant_values(key: str, sources) -> dict[str, int]:
    """The first value of each "table.column" among the rows a tenant owns."""
    tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == key)).scalar_one()
    values = {}
    for source in sources:
        table_name, column = source.split(".")
        table = db.metadata.tables[table_name]
        query = sa.select(sa.func.min(table.c[column]))
        if table_name == "users":
            query = sa.select(User.id).where(User.tenant_id == tenant.id, User.login_id == "emp")
        elif table_name == "notices":
            targets = db.metadata.tables["notice_targets"]
            query = query.join(targets, targets.c.notice_id == table.c.id).where(targets.c.tenant_id == tenant.id)
        elif table_name == "manuals":
            query = query.where(table.c.product == tenant.product)
        else:
            query = query.where(table.c.tenant_id == tenant.id)
        found = db.session.execute(query.execution_options(all_tenants=True)).scalar()
        if found is not None:
            values[source] = found
    return values


def log_in_everyone(app) -> list[Actor]:
    """Anonymous, 一般 and 管理者 of mama1 and jucho1, and mama2's 管理者 (second factors done); jucho2's 管理者
    logs in too (not an actor) so that every tenant has a session to be attacked."""
    from tests.jucho_helpers import jucho_login
    from tests.mama_helpers import login_with_code

    outbox = RecordedMail(app)
    email_dispatched.connect(outbox.record)
    try:
        actors = [Actor("anonymous", None, app.test_client())]
        for key, login_id in (("mama1", "emp"), ("mama1", "admin"), ("mama2", "admin"),
                              ("jucho1", "emp"), ("jucho1", "admin"), ("jucho2", "admin")):
            client = app.test_client()
            if PRODUCT_OF[key] == "mama":
                login_with_code(client, app, key, login_id)
            else:
                jucho_login(client, outbox, key, login_id)
            if key != "jucho2":
                actors.append(Actor(f"{key}:{login_id}", key, client, {MARKERS[key]}))
        return actors
    finally:
        email_dispatched.disconnect(outbox.record)


_PARAM = re.compile(r"<(?:(\w+)(?:\([^)]*\))?:)?(\w+)>")


def route_params(rule) -> list[tuple[str, str]]:
    """(converter, name) of every variable of a rule (a Rule or its text), in order."""
    return [(conv or "default", name) for conv, name in _PARAM.findall(getattr(rule, "rule", rule))]


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
