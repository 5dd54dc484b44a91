"""セキュリティ設定 — session policy: a tenant admin shortens the idle and absolute timeouts (never beyond the
baseline's 30 minutes / 12 hours); the session loader enforces them, for open sessions too, in both products."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy import event

from app.extensions import db
from app.models import UserSession
from app.tenancy import all_tenants
from app.timeutil import utcnow
from tests.conftest import login, post_form
from tests.jucho_helpers import jucho_login
from tests.mama_helpers import admin_client
from tests.security_helpers import *  # noqa: F403  (the shared fixture: acme)
from tests.security_helpers import SESSION_PAGE, audit_details, set_session_policy, stored_policy


def _sessions(app, login_id=None):
    from app.models import User

    with app.app_context(), all_tenants():
        query = sa.select(UserSession).order_by(UserSession.id)
        if login_id:
            query = query.join(User, User.id == UserSession.user_id).where(User.login_id == login_id)
        return db.session.execute(query).scalars().all()



def test_admin_shortens_the_timeouts_and_the_change_is_audited(app, acme):
    page = acme.get(SESSION_PAGE).get_data(as_text=True)
    assert 'value="30"' in page and 'value="12"' in page
    response = set_session_policy(acme, 10, 2)
    assert response.status_code == 302
    assert stored_policy(app, "acme")[2:] == (10, 2)
    html = acme.get("/admin/security").get_data(as_text=True)
    assert "10分（基準の上限30分）" in html and "2時間（基準の上限12時間）" in html
    details = audit_details(app, "acme", "security.session_policy.update")[-1]
    assert details["before"] == {"idle_minutes": 30, "absolute_hours": 12}
    assert details["after"] == {"idle_minutes": 10, "absolute_hours": 2}


@pytest.mark.parametrize("idle,absolute,message", [
    ("31", "12", "セキュリティ基準の上限（30分）より長くはできません。"),
    ("30", "13", "セキュリティ基準の上限（12時間）より長くはできません。"),
    ("9" * 300, "12", "セキュリティ基準の上限（30分）より長くはできません。"),
    ("4", "12", "5分以上にしてください。"),
    ("30", "0", "1時間以上にしてください。"),
    ("-30", "12", "5分以上にしてください。"),
    ("abc", "12", "半角数字（整数）で入力してください。"),
    ("10", "2.5", "半角数字（整数）で入力してください。"),
    ("", "12", "入力してください。"),
    ("10\x00", "12", "半角数字（整数）で入力してください。"),
    ("<b>10</b>", "12", "半角数字（整数）で入力してください。"),
])
def test_longer_than_the_baseline_or_odd_input_is_refused_on_the_form(app, acme, idle, absolute, message):
    response = post_form(acme, SESSION_PAGE, {"idle_minutes": idle, "absolute_hours": absolute})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and message in html and "<b>10</b>" not in html
    assert stored_policy(app, "acme") is None
    assert audit_details(app, "acme", "security.session_policy.update") == []


def test_the_shorter_idle_timeout_ends_a_session(app, acme):
    set_session_policy(acme, 10, 12)
    staff = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        login(staff, "acme", "staff")
        traveller.shift(timedelta(minutes=9))
        assert staff.get("/").status_code == 200
        traveller.shift(timedelta(minutes=9))  # activity kept it alive
        assert staff.get("/").status_code == 200
        traveller.shift(timedelta(minutes=11))
        response = staff.get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert _sessions(app, "staff")[-1].end_reason == "idle_timeout"


def test_new_sessions_get_the_shorter_absolute_limit(app, acme):
    set_session_policy(acme, 30, 2)
    staff = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        login(staff, "acme", "staff")
        row = _sessions(app, "staff")[-1]
        assert row.expires_at - row.created_at == timedelta(hours=2)
        for _ in range(10):  # busy, never idle
            traveller.shift(timedelta(minutes=25))
            if staff.get("/").status_code != 200:
                break
        response = staff.get("/")
    assert response.status_code == 302
    row = _sessions(app, "staff")[-1]
    assert row.end_reason == "absolute_timeout" and row.ended_at - row.created_at <= timedelta(hours=2, minutes=25)


def test_a_shortened_limit_applies_to_sessions_already_open(app, acme):
    staff = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        login(staff, "acme", "staff")
        traveller.shift(timedelta(minutes=20))
        assert staff.get("/").status_code == 200
        set_session_policy(acme, 15, 12)  # the admin's session was idle 20 minutes: still under 30 when it posts
        traveller.shift(timedelta(minutes=16))
        response = staff.get("/")
    assert response.status_code == 302
    assert _sessions(app, "staff")[-1].end_reason == "idle_timeout"


def test_the_policy_costs_no_query_per_request(app, acme):
    """The tenant's limits come with the tenant row the session loader reads anyway."""
    staff = app.test_client()
    login(staff, "acme", "staff")

    def count_queries():
        statements = []
        with app.app_context():
            engine = db.engine

        def _count(*_args):
            statements.append(1)

        event.listen(engine, "before_cursor_execute", _count)
        try:
            assert staff.get("/account/sessions").status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", _count)
        return len(statements)

    staff.get("/account/sessions")
    without = count_queries()
    set_session_policy(acme, 20, 6)
    staff.get("/account/sessions")
    assert count_queries() == without


def test_other_tenants_keep_their_limits_and_general_users_are_refused(app, acme, make_tenant, add_user):
    make_tenant("other")
    add_user("other", "staff")
    set_session_policy(acme, 5, 1)
    other = app.test_client()
    with time_machine.travel(utcnow(), tick=False) as traveller:
        login(other, "other", "staff")
        traveller.shift(timedelta(minutes=25))
        assert other.get("/").status_code == 200  # other keeps the baseline's 30 minutes
        assert other.get(SESSION_PAGE).status_code == 403
    assert stored_policy(app, "other") is None
    assert audit_details(app, "other", "access.denied")[-1]["_actor"] == "staff"


def test_mama_and_jucho_admins_set_their_own_session_policy(app, make_tenant, client, outbox):
    _, mama_admin = admin_client(app, make_tenant)
    assert set_session_policy(mama_admin, 20, 8).status_code == 302
    make_tenant("juchoco", product="jucho")
    jucho_login(client, outbox, "juchoco", "admin")
    assert "セキュリティ設定" in client.get("/").get_data(as_text=True)
    assert set_session_policy(client, 15, 4).status_code == 302
    assert stored_policy(app, "mama1")[2:] == (20, 8) and stored_policy(app, "juchoco")[2:] == (15, 4)
    row = _sessions(app)[-1]  # the 重調 admin's session, opened before the change, now ends within 4 hours
    with time_machine.travel(row.created_at + timedelta(hours=4, minutes=1), tick=False):
        assert client.get("/").status_code == 302
    assert _sessions(app)[-1].end_reason == "absolute_timeout"
