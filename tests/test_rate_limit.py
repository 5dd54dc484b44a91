"""Per-client rate limits on login: in memory by default, shared through Redis across instances."""
import os
import uuid

import pytest

from app import create_app
from app.extensions import limiter
from tests.conftest import post_form

REDIS_URL = os.environ.get("KANRI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _attempt(client):
    return post_form(client, "/login", {"company_code": "acme", "login_id": "admin", "password": "wrong pw"})


@pytest.mark.config(RATELIMIT_ENABLED=True, KANRI_LOGIN_RATE_LIMIT="5 per minute")
def test_login_is_rate_limited_per_client(client, make_tenant):
    make_tenant("acme")
    statuses = [_attempt(client).status_code for _ in range(6)]
    assert statuses[:5] == [200] * 5 and statuses[5] == 429
    # GET stays available (only attempts count).
    assert client.get("/login").status_code == 200


# Port 1 on loopback: nothing listens, as when the shared Redis is down or unreachable.
@pytest.mark.config(RATELIMIT_ENABLED=True, KANRI_LOGIN_RATE_LIMIT="5 per minute",
                    RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
def test_with_redis_down_logins_still_work_and_are_still_limited_in_memory(client, make_tenant):
    make_tenant("acme")
    try:
        statuses = [_attempt(client).status_code for _ in range(6)]
        assert statuses[:5] == [200] * 5 and statuses[5] == 429
        assert client.get("/login").status_code == 200
    finally:
        # The module-level limiter outlives this test's app and would keep counting in memory
        # (until its back-off rechecks the storage) in the tests after it.
        limiter._storage_dead = False


def _redis_available() -> bool:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
        return True
    except Exception:
        return False


@pytest.mark.skipif(not _redis_available(), reason=f"no Redis at {REDIS_URL} (CI starts one)")
def test_limit_is_shared_by_two_instances_through_redis(base_config, _schema):
    """Two app instances (two servers behind a proxy) share one counter in real Redis."""
    prefix = f"kanri-test-{uuid.uuid4().hex}"
    config = {**base_config, "RATELIMIT_ENABLED": True, "RATELIMIT_STORAGE_URI": REDIS_URL,
              "RATELIMIT_KEY_PREFIX": prefix, "KANRI_LOGIN_RATE_LIMIT": "4 per minute"}
    first, second = create_app(config), create_app(config)
    try:
        a, b = first.test_client(), second.test_client()
        statuses = [_attempt(a).status_code, _attempt(b).status_code, _attempt(a).status_code,
                    _attempt(b).status_code, _attempt(a).status_code, _attempt(b).status_code]
        assert statuses[:4] == [200] * 4
        assert statuses[4:] == [429, 429]
    finally:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
