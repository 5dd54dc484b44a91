"""Prometheus metrics at ``/metrics`` (``KANRI_METRICS``): latency by route, login failures, outbox depth.

Off by default. When on, only the addresses in ``KANRI_METRICS_ALLOW`` get an answer; everyone else gets
404. Labels are route patterns, methods, statuses and fixed reasons — never a tenant, user, address or id.
"""
from __future__ import annotations

import ipaddress
import os
import time

import sqlalchemy as sa
from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from .config import ConfigError

ENDPOINT = "metrics"
DEFAULT_ALLOW = "127.0.0.1,::1"
UNMATCHED = "(no route)"  # 404s for unknown paths share one label: a scanner cannot grow the series

REGISTRY = CollectorRegistry(auto_describe=True)
REQUEST_SECONDS = Histogram("kanri_request_duration_seconds", "Request latency by route pattern",
                            ["method", "route", "status"], registry=REGISTRY,
                            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30))
LOGIN_FAILURES = Counter("kanri_login_failures", "Failed password steps by reason", ["reason"], registry=REGISTRY)


def login_failed(reason: str) -> None:
    """Count one failed password step (the reason is one of the login module's fixed words)."""
    LOGIN_FAILURES.labels(reason=reason).inc()


def allowed_networks(setting: str | None) -> list:
    """Parse KANRI_METRICS_ALLOW (addresses or networks, comma-separated); a bad entry stops start-up."""
    networks = []
    for item in (setting if setting is not None else DEFAULT_ALLOW).split(","):
        if item.strip():
            try:
                networks.append(ipaddress.ip_network(item.strip(), strict=False))
            except ValueError as exc:
                raise ConfigError(f"KANRI_METRICS_ALLOW の値が正しくありません: {item.strip()!r} "
                                  "(KANRI_METRICS_ALLOW must list addresses or networks)") from exc
    return networks


def _client_allowed() -> bool:
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in current_app.extensions["kanri_metrics_allow"])


class _OutboxDepth:
    """Outbox rows waiting or failed, read from the database when scraped (the same for every process)."""

    def collect(self):
        from .extensions import db
        from .mailer import STATUS_FAILED, STATUS_QUEUED, STATUS_SENDING, MailOutbox

        outbox = MailOutbox.__table__
        states = (STATUS_QUEUED, STATUS_SENDING, STATUS_FAILED)
        counts = dict(db.session.execute(sa.select(outbox.c.status, sa.func.count())
                                         .where(outbox.c.status.in_(states)).group_by(outbox.c.status)).all())
        oldest = db.session.execute(sa.select(sa.func.min(outbox.c.created_at))
                                    .where(outbox.c.status == STATUS_QUEUED)).scalar()
        depth = GaugeMetricFamily("kanri_mail_outbox", "Outbox rows per state", labels=["state"])
        for state in states:
            depth.add_metric([state], counts.get(state, 0))
        yield depth
        from .timeutil import utcnow

        age = (utcnow() - oldest).total_seconds() if oldest is not None else 0
        yield GaugeMetricFamily("kanri_mail_outbox_oldest_waiting_seconds", "Age of the oldest queued mail",
                                value=max(age, 0))


class _ThisProcess:
    def collect(self):
        yield from REGISTRY.collect()


def _scrape_registry() -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)  # every gunicorn worker's counts added up
    else:
        registry.register(_ThisProcess())
    registry.register(_OutboxDepth())
    return registry


def metrics_view():
    """The metrics in Prometheus' text format, for allowed addresses only (404 for anyone else)."""
    if not _client_allowed():
        abort(404)
    return Response(generate_latest(_scrape_registry()), mimetype=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"})


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response):
    started = g.pop("metrics_started", None)
    if started is not None and request.endpoint != ENDPOINT:
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        REQUEST_SECONDS.labels(method=request.method, route=route, status=str(response.status_code)) \
            .observe(time.perf_counter() - started)
    return response


def init_app(app: Flask) -> None:
    """Register /metrics and the latency hooks when KANRI_METRICS is on; nothing at all otherwise."""
    if not app.config.get("KANRI_METRICS"):
        return
    app.extensions["kanri_metrics_allow"] = allowed_networks(app.config.get("KANRI_METRICS_ALLOW"))
    app.add_url_rule("/metrics", endpoint=ENDPOINT, view_func=metrics_view)
    app.before_request(_start_timer)
    app.after_request(_observe)
