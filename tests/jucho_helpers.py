"""Helpers for 重調@CITY tests: log in through the password step and the e-mailed code."""
from __future__ import annotations

import re

import sqlalchemy as sa

from tests.conftest import PASSWORD, csrf_from, password_step, post_form

CODE_PAGE = "/jucho/login/code"
_CODE = re.compile(r"認証コード: (\d{6})")


def code_from(message) -> str:
    """The six-digit code in a login-code mail (text part)."""
    match = _CODE.search(message.body)
    assert match, message.body
    return match.group(1)


def start_login(client, company: str, login_id: str, password: str = PASSWORD):
    """Pass the password step and open the code page (which mails the code); returns that page."""
    response = password_step(client, company, login_id, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.headers["Location"].endswith(CODE_PAGE)
    return client.get(CODE_PAGE)


def submit_code(client, code: str):
    """POST a code on the code page (the CSRF token is the session's, read from the login form)."""
    token = csrf_from(client.get("/login").get_data(as_text=True))
    return client.post(CODE_PAGE, data={"csrf_token": token, "code": code})


def jucho_login(client, outbox, company: str, login_id: str, password: str = PASSWORD):
    """Log in completely: password, then the code from the newest mail; returns the final redirect."""
    before = len(outbox)
    start_login(client, company, login_id, password)
    assert len(outbox) == before + 1
    response = submit_code(client, code_from(outbox[-1]))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def resend(client):
    """Press 「コードを再送」."""
    return post_form(client, CODE_PAGE, {}, action="/jucho/login/code/resend")


def audit_rows(app, action_prefix: str = "jucho."):
    """Every audit row whose action starts with the prefix, oldest first (across tenants)."""
    from app.extensions import db
    from app.models import AuditEvent

    with app.app_context():
        rows = db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action.startswith(action_prefix)).order_by(AuditEvent.id)
            .execution_options(all_tenants=True)).scalars().all()
        return [(r.action, r.outcome, r.target, r.details) for r in rows]


