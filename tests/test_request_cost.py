"""What every authenticated page pays, counted in SQL statements (never in seconds): ホーム and the account pages
for a MAMA 管理者, a MAMA 一般 user and a 重調 user stay within a fixed number of queries, and the session, its
user, tenant and MAMA's device come from one query."""
from __future__ import annotations

import pytest

from app.extensions import db
from app.tenancy import TenantScoped
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import admin_client, login_with_code
from tests.query_helpers import queries_of, still_at, stopped_clock

ACCOUNT_PAGES = ("/account/password", "/account/sessions")
# maintenance windows (the tests read them every request), session + user + tenant (+ MAMA's settings and
# device), the panels' figures (one query), 最近の変更, お知らせ (+ for a user who sees no association: the
# admins who can grant some, and their settings in one query). 前回ログイン came with the session row.
MAMA_ADMIN_HOME, MAMA_GENERAL_HOME, JUCHO_HOME = 5, 6, 5
# maintenance windows, session + user + tenant (+ MAMA's settings and device), the page's own rows.
MAMA_ACCOUNT, JUCHO_ACCOUNT = 3, 3


def _counts(app, client) -> dict[str, int]:
    client.get("/")  # the session's last-seen time is written at most once a minute: not in the count
    with still_at(stopped_clock()):
        client.get("/")
        return {url: len(queries_of(app, client, url)) for url in ("/", *ACCOUNT_PAGES)}


def _session_query(app, client):
    with still_at(stopped_clock()):
        client.get("/")
        statements = queries_of(app, client, "/account/password")
    return [s.sql for s in statements if "FROM user_sessions" in s.sql]


@pytest.fixture
def mama(app, make_tenant, add_user):
    info, admin = admin_client(app, make_tenant)
    add_user(info.code, "staff")
    staff = app.test_client()
    login_with_code(staff, app, info.code, "staff")
    return admin, staff


def test_mama_admin_pages_stay_within_their_queries(app, mama):
    admin, _ = mama
    counts = _counts(app, admin)
    assert counts["/"] <= MAMA_ADMIN_HOME, counts
    assert all(counts[url] <= MAMA_ACCOUNT for url in ACCOUNT_PAGES), counts


def test_mama_general_user_pages_stay_within_their_queries(app, mama):
    _, staff = mama
    counts = _counts(app, staff)
    assert counts["/"] <= MAMA_GENERAL_HOME, counts
    assert all(counts[url] <= MAMA_ACCOUNT for url in ACCOUNT_PAGES), counts


def test_jucho_pages_stay_within_their_queries(app, make_tenant, outbox):
    info = make_tenant("juchoa", product="jucho")
    client = app.test_client()
    jucho_login(client, outbox, info.code, "admin")
    counts = _counts(app, client)
    assert counts["/"] <= JUCHO_HOME, counts
    assert all(counts[url] <= JUCHO_ACCOUNT for url in ACCOUNT_PAGES), counts


def test_one_query_loads_the_session_user_tenant_and_the_mama_device(app, mama):
    admin, _ = mama
    [session_query] = _session_query(app, admin)
    assert "JOIN users" in session_query and "JOIN tenants" in session_query
    assert "JOIN mama_devices" in session_query  # what MAMA's session_valid checks, loaded with the session


def test_the_device_check_still_ends_a_revoked_session_at_its_next_request(app, mama):
    from plugins.mama.models import MamaDevice
    from tests.mama_helpers import get_user, in_tenant

    admin, staff = mama
    assert staff.get("/").status_code == 200
    with in_tenant(app, "mama1"):
        device = db.session.query(MamaDevice).filter_by(user_id=get_user("staff").id).one()
        device.status = "revoked"
        db.session.commit()
    response = staff.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert "この端末の登録が無効になったため" in staff.get("/login").get_data(as_text=True)
    assert admin.get("/").status_code == 200


def test_no_unscoped_model_relates_to_a_tenant_scoped_one(app):
    """The tenant criteria are added to every SELECT of a request with a tenant (without looking for a scoped
    table first); that is the same as before only while no unscoped row lazy-loads a scoped one."""
    with app.app_context():
        for mapper in db.Model.registry.mappers:
            if issubclass(mapper.class_, TenantScoped):
                continue
            for relationship in mapper.relationships:
                assert not issubclass(relationship.mapper.class_, TenantScoped), (mapper.class_, relationship.key)
