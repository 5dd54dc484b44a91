"""Prometheus metrics at /metrics: off by default, only for allowed addresses, no tenant data or secrets."""
from __future__ import annotations

import re

import pytest

from app import create_app
from app.config import ConfigError
from app.mailer import send_mail
from app.timeutil import utcnow
from tests.conftest import PASSWORD, login, password_step

OUTSIDER = {"REMOTE_ADDR": "203.0.113.9"}
ALLOWED_LABELS = {"method", "route", "status", "reason", "state", "le"}


def test_metrics_are_off_by_default(client):
    response = client.get("/metrics")
    assert response.status_code == 404
    assert "kanri_" not in response.get_data(as_text=True)


# No background sender: the queued mail must still be waiting when /metrics reads the outbox.
@pytest.mark.config(KANRI_METRICS=True, KANRI_MAIL_THREAD=False)
def test_loopback_reads_latency_by_route_login_failures_and_outbox_depth(app, client, make_tenant):
    tenant = make_tenant("acme")
    client.get("/login")
    before = _value(client.get("/metrics").get_data(as_text=True),
                    'kanri_login_failures_total{reason="bad_password"}')
    password_step(client, tenant.code, tenant.admin_login, "wrong password 0000")
    with app.test_request_context():
        send_mail("someone@acme.example.jp", "件名", "password_changed", user=_User(), tenant=_Tenant(),
                  changed_at=utcnow())
        from app.extensions import db

        db.session.commit()
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    body = response.get_data(as_text=True)
    assert re.search(r'kanri_request_duration_seconds_count\{method="GET",route="/login",status="200"\} [1-9]', body)
    assert _value(body, 'kanri_login_failures_total{reason="bad_password"}') == before + 1
    assert _value(body, 'kanri_mail_outbox{state="queued"}') >= 1
    assert "kanri_mail_outbox_oldest_waiting_seconds" in body


@pytest.mark.config(KANRI_METRICS=True)
def test_another_address_is_refused_with_a_404(client):
    response = client.get("/metrics", environ_overrides=OUTSIDER)
    assert response.status_code == 404
    assert "kanri_" not in response.get_data(as_text=True)


@pytest.mark.config(KANRI_METRICS=True, KANRI_METRICS_ALLOW="10.0.0.0/8, 192.0.2.7")
def test_the_allow_list_takes_networks_and_replaces_loopback(client):
    assert client.get("/metrics", environ_overrides={"REMOTE_ADDR": "10.20.30.40"}).status_code == 200
    assert client.get("/metrics", environ_overrides={"REMOTE_ADDR": "192.0.2.7"}).status_code == 200
    assert client.get("/metrics").status_code == 404  # 127.0.0.1 is no longer listed


def test_a_malformed_allow_list_stops_start_up(base_config):
    with pytest.raises(ConfigError, match="KANRI_METRICS_ALLOW"):
        create_app({**base_config, "KANRI_METRICS": True, "KANRI_METRICS_ALLOW": "127.0.0.1,not-an-address"})


@pytest.mark.config(KANRI_METRICS=True)
def test_the_output_holds_no_tenant_user_address_id_or_secret(client, make_tenant):
    tenant = make_tenant("secretco", admin_email="hanako@secretco.example.jp")
    password_step(client, tenant.code, "nobody-here", "a-guessed-password-xyz")
    password_step(client, tenant.code, tenant.admin_login, "another-wrong-password-abc")
    login(client, tenant.code, tenant.admin_login)
    client.get("/sample/notes/987654")
    body = client.get("/metrics").get_data(as_text=True)
    for secret in ("secretco", "nobody-here", "a-guessed-password-xyz", "another-wrong-password-abc", PASSWORD,
                   "hanako", "987654", "127.0.0.1"):
        assert secret not in body
    assert '/sample/notes/<int:note_id>' in body  # the pattern, not the id
    labels = set(re.findall(r'[{,]([a-z_]+)="', body))
    assert labels <= ALLOWED_LABELS


@pytest.mark.config(KANRI_METRICS=True)
def test_metrics_are_served_during_maintenance(app, client):
    from app.builtins.transparency import maintenance

    with app.app_context():
        maintenance.turn_on("作業中です。", None, "test")
    assert client.get("/login").status_code == 503
    assert client.get("/metrics").status_code == 200


def _value(body: str, series: str) -> float:
    for line in body.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


class _User:
    name, login_id = "山田 太郎", "yamada"


class _Tenant:
    name = "テスト管理株式会社"
