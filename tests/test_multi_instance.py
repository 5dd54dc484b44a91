"""Two gunicorn instances sharing one PostgreSQL database and Redis behave as one service.

Real processes and real HTTP: sessions, logout, the lockout counter, a rate limit and maintenance are
shared; two `flask mail worker` processes never send an outbox row twice. Runs only on PostgreSQL with
Redis reachable (CI's PostgreSQL run); elsewhere it skips and says why.
"""
from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.smtp_helpers import SmtpServer, free_port

ROOT = Path(__file__).resolve().parents[1]
GUNICORN_CONF = ROOT / "docs" / "deploy" / "gunicorn.conf.py"
HOST = "kanri.test"  # the public name nginx would pass on; KANRI_BASE_URL is https://kanri.test
PASSWORD = "correct horse battery staple 2026"
REDIS_URL = os.environ.get("KANRI_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MAIL_COUNT = 50

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if not DATABASE_URL.startswith("postgresql"):
    pytest.skip("several instances need a shared PostgreSQL database: set DATABASE_URL (CI's PostgreSQL run)",
                allow_module_level=True)


def _redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


if not _redis_reachable():
    pytest.skip(f"Redis is not reachable at {REDIS_URL} (set KANRI_TEST_REDIS_URL)", allow_module_level=True)


class _Processes:
    """Child processes in their own process groups, each ended with its whole group."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.children: list[subprocess.Popen] = []

    def start(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        process.log, process.name = log, name
        self.children.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        """SIGTERM the process group, SIGKILL it if it has not ended within 15 s."""
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(process.pid, sig)
            except ProcessLookupError:
                break
            try:
                process.wait(wait)
                break
            except subprocess.TimeoutExpired:
                continue
        process.log.close()

    def output(self, process: subprocess.Popen) -> str:
        process.log.flush()
        return (self.logs / f"{process.name}.log").read_text(errors="replace")[-3000:]

    def stop_all(self) -> None:
        for process in self.children:
            if process.returncode is None:
                self.stop(process)


class _Browser:
    """A client that talks to an instance the way nginx forwards a browser's requests after TLS.

    It keeps cookies itself (name → value): they belong to https://kanri.test, whichever instance set them,
    which a cookie jar matching the loopback URL (and the Secure flag against plain HTTP) would not allow.
    """

    def __init__(self, base: str, client_ip: str):
        self.base = base
        self.client_ip = client_ip
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, base: str | None = None, headers: dict | None = None, **kwargs):
        import requests

        sent = {"Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": self.client_ip, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = requests.request(method, (base or self.base) + path, headers=sent, allow_redirects=False,
                                    timeout=30, **kwargs)
        for header in response.raw.headers.getlist("Set-Cookie"):
            jar = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or "1970" in morsel["expires"]:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response


def _get(browser: _Browser, path: str, base: str | None = None):
    return browser.request("GET", path, base)


def _post(browser: _Browser, path: str, data: dict, base: str | None = None, page: str | None = None):
    """GET the form page (for its CSRF token), then POST to path, with the Referer a browser sends over https."""
    from tests.conftest import csrf_from

    token = csrf_from(_get(browser, page or path, base).text)
    return browser.request("POST", path, base, data={"csrf_token": token, **data},
                           headers={"Referer": f"https://{HOST}{page or path}"})


def _login(session, code: str, login_id: str, password: str = PASSWORD, base: str | None = None):
    """The real login flow of a 'sample' tenant: password step, then the sample second factor."""
    first = _post(session, "/login", {"company_code": code, "login_id": login_id, "password": password, "next": ""},
                  base=base)
    assert first.status_code == 302, first.text[:500]
    assert first.headers["Location"].endswith("/sample/confirm")
    second = _post(session, "/sample/confirm", {"answer": "ok"}, base=base)
    assert second.status_code == 302, second.text[:500]
    return second


def _wait_until(check, what: str, seconds: float = 30.0):
    """Poll check() until it returns something true; fail naming what never happened."""
    deadline = time.monotonic() + seconds
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A scratch PostgreSQL database, a keyset, an SMTP sink and two gunicorn instances A and B."""
    from sqlalchemy.engine import make_url

    from app.builtins.lifecycle.stream import encode_key, generate_key
    from app.crypto import Keyset, save_keyset

    root = tmp_path_factory.mktemp("multi")
    name = f"kanri_multi_{secrets.token_hex(4)}"
    admin_engine = sa.create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin_engine.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(DATABASE_URL).set(database=name).render_as_string(hide_password=False)
    processes = _Processes(root)
    smtp = SmtpServer().start()
    try:
        save_keyset(root / "keyset.json", Keyset.generate())
        (root / "backup.key").write_text(encode_key(generate_key()))
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("KANRI_", "RATELIMIT_", "MAIL_"))},
            "PYTHONPATH": str(ROOT),
            "KANRI_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(48),
            "DATABASE_URL": url,
            "KANRI_INSTANCE_PATH": str(root / "instance"),
            "KANRI_KEYSET_FILE": str(root / "keyset.json"),
            "KANRI_BACKUP_KEY_FILE": str(root / "backup.key"),
            "KANRI_BACKUP_SITES": f"{root / 'tokyo'},{root / 'osaka'}",
            "KANRI_AUDIT_ANCHOR_DIR": str(root / "anchors"),
            "KANRI_MAINTENANCE_FLAG": str(root / "maintenance.flag"),
            "KANRI_MAINTENANCE_CACHE_SECONDS": "1",
            "KANRI_BASE_URL": f"https://{HOST}",
            "KANRI_SUPPORT_CONTACT": "kanri サポートデスク\nsupport@kanri-test.example.jp",
            "KANRI_PROXY_FIX": "1",
            "KANRI_PLUGINS": "mama,jucho,tests.plugins.sample_product",
            "BCRYPT_ROUNDS": "4",
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "KANRI_POSTCODE_RATE_LIMIT": "5 per hour",
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": str(smtp.port),
            "KANRI_MAIL_POLL_SECONDS": "0.2",
            "KANRI_METRICS": "1",
            "PROMETHEUS_MULTIPROC_DIR": str(root / "prometheus"),
        }
        (root / "prometheus").mkdir()
        app = _seed(env)
        instances = []
        for label in ("a", "b"):
            port = free_port()
            process = processes.start(f"gunicorn-{label}", [
                sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "-b", f"127.0.0.1:{port}", "-w", "1",
                "wsgi:app"], env)
            instances.append((f"http://127.0.0.1:{port}", process))
        for base, process in instances:
            _wait_for_health(base, process, processes)
        yield {"a": instances[0][0], "b": instances[1][0], "env": env, "app": app, "smtp": smtp,
               "processes": processes, "client_ip": f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.7"}
    finally:
        processes.stop_all()
        smtp.stop()
        with admin_engine.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin_engine.dispose()


def _seed(env: dict):
    """Create the schema and a 'sample' tenant (admin + a user to lock out) in the scratch database."""
    from app import create_app
    from app.accounts import create_user
    from app.extensions import db
    from app.tenancy import tenant_scope
    from app.tenants import create_tenant

    app = create_app({
        "SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "SECRET_KEY": env["SECRET_KEY"], "KANRI_ENV": "testing",
        "KANRI_KEYSET": None, "KANRI_KEYSET_FILE": env["KANRI_KEYSET_FILE"], "KANRI_PLUGINS": env["KANRI_PLUGINS"],
        "KANRI_AUDIT_ANCHOR_DIR": env["KANRI_AUDIT_ANCHOR_DIR"], "BCRYPT_ROUNDS": 4, "KANRI_MAIL_THREAD": False,
        "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": int(env["MAIL_PORT"]), "MAIL_SUPPRESS_SEND": False,
        "KANRI_MAIL_CONSOLE": False, "KANRI_BASE_URL": env["KANRI_BASE_URL"], "RATELIMIT_ENABLED": False,
    })
    with app.app_context():
        db.create_all()
        tenant, _, _, _ = create_tenant(
            code="multi", name="マルチ管理株式会社", product="sample", contract_end="2099-12-31", admin_login="admin",
            admin_email="admin@multi.example.jp", admin_name="管理 太郎", admin_password=PASSWORD)
        with tenant_scope(tenant):
            create_user(tenant, "lockme", "ロック 花子", "lockme@multi.example.jp", role="general", password=PASSWORD)
            db.session.commit()
        db.engine.dispose()
    return app


def _wait_for_health(base: str, process, processes: _Processes) -> None:
    import requests

    def healthy():
        if process.poll() is not None:
            pytest.fail(f"{process.name} exited with {process.returncode}:\n{processes.output(process)}")
        try:
            return requests.get(base + "/healthz", headers={"Host": HOST}, timeout=10).status_code == 200
        except requests.RequestException:  # not listening yet, or still importing the app
            return False

    _wait_until(healthy, f"{process.name} to answer /healthz", seconds=40)


def test_a_session_made_on_a_works_on_b_and_logout_on_b_ends_it_on_a(cluster):
    browser = _Browser(cluster["a"], cluster["client_ip"])
    _login(browser, "multi", "admin")
    assert "__Host-kanri" in browser.cookies  # the production cookie
    on_a = _get(browser, "/")
    on_b = _get(browser, "/", cluster["b"])
    assert on_a.status_code == 200 and on_b.status_code == 200
    assert "管理 太郎" in on_b.text

    stolen = dict(browser.cookies)  # what the browser held before logging out
    out = _post(browser, "/logout", {}, base=cluster["b"], page="/")
    assert out.status_code == 302 and out.headers["Location"].endswith("/login")
    replay = _Browser(cluster["a"], cluster["client_ip"])
    replay.cookies = stolen
    after = _get(replay, "/")
    assert after.status_code == 302 and "/login" in after.headers["Location"]  # ended on the server, seen by A


def test_failures_on_a_and_b_add_up_to_one_lockout(cluster):
    from app.extensions import db
    from app.models import User

    a = _Browser(cluster["a"], cluster["client_ip"])
    b = _Browser(cluster["b"], cluster["client_ip"])
    for browser in (a, b):  # 5 + 5 = the threshold of 10; neither instance alone reaches it
        for _ in range(5):
            wrong = _post(browser, "/login", {"company_code": "multi", "login_id": "lockme",
                                              "password": "wrong password 123456", "next": ""})
            assert wrong.status_code == 200 and "正しくありません" in wrong.text
    right = _post(a, "/login", {"company_code": "multi", "login_id": "lockme", "password": PASSWORD, "next": ""})
    assert right.status_code == 200 and "正しくありません" in right.text  # locked: the generic message
    users = User.__table__
    with cluster["app"].app_context(), db.engine.connect() as connection:
        locked_until = connection.execute(sa.select(users.c.locked_until).where(users.c.login_id == "lockme")).scalar_one()
    assert locked_until is not None


def test_a_rate_limit_counts_hits_on_a_and_b_together(cluster):
    browser = _Browser(cluster["a"], cluster["client_ip"])
    _login(browser, "multi", "admin")
    statuses = [_get(browser, "/postcode/1000001", base).status_code
                for base in (cluster["a"], cluster["b"], cluster["a"], cluster["b"], cluster["a"])]
    assert 429 not in statuses and statuses[0] in (200, 404)
    assert _get(browser, "/postcode/1000001", cluster["b"]).status_code == 429  # the 6th of 5 per hour
    assert _get(browser, "/postcode/1000001", cluster["a"]).status_code == 429


def test_metrics_are_scraped_from_each_instance_directly_never_through_the_proxy(cluster):
    import requests

    for base in (cluster["a"], cluster["b"]):
        direct = requests.get(base + "/metrics", headers={"Host": HOST}, timeout=30)  # a scraper on loopback
        assert direct.status_code == 200
        assert 'kanri_request_duration_seconds_count{method="GET",route="/login",status="200"}' in direct.text
        assert 'kanri_mail_outbox{state="queued"}' in direct.text
        assert "multi" not in direct.text and "lockme" not in direct.text  # no tenant code, no login id
        proxied = _get(_Browser(base, cluster["client_ip"]), "/metrics")  # a client forwarded by nginx
        assert proxied.status_code == 404 and "kanri_" not in proxied.text


def _flask(cluster, *args: str) -> str:
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=cluster["env"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_maintenance_switched_on_once_is_seen_by_both_instances(cluster):
    browser = _Browser(cluster["a"], cluster["client_ip"])
    assert _get(browser, "/login").status_code == 200
    _flask(cluster, "maintenance", "on", "--message", "定期メンテナンス中です。", "--operator", "multi-test")
    try:
        for base in (cluster["a"], cluster["b"]):
            # A Response is false for an error status, so the poll returns its text.
            text = _wait_until(lambda base=base: (r := _get(browser, "/login", base)).status_code == 503 and r.text,
                               f"maintenance on {base}")
            assert "定期メンテナンス中です。" in text
    finally:
        _flask(cluster, "maintenance", "off", "--operator", "multi-test")
    for base in (cluster["a"], cluster["b"]):
        _wait_until(lambda base=base: _get(browser, "/login", base).status_code == 200, f"maintenance off on {base}")


def test_two_mail_workers_send_every_row_exactly_once(cluster):
    from app.extensions import db
    from app.mailer import MailAttempt, MailOutbox, send_mail
    from app.timeutil import utcnow

    class _User:
        name, login_id = "山田 太郎", "yamada"

    class _Tenant:
        name = "マルチ管理株式会社"

    app, smtp, processes = cluster["app"], cluster["smtp"], cluster["processes"]
    with app.test_request_context():
        for number in range(MAIL_COUNT):
            send_mail(f"user{number}@example.jp", f"mail {number}", "password_changed", user=_User(), tenant=_Tenant(),
                      changed_at=utcnow())
        db.session.commit()
    smtp.sink.stall()  # each worker holds its first message until both have claimed a batch
    workers = [processes.start(f"mail-worker-{n}", [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker"],
                               cluster["env"]) for n in (1, 2)]
    try:
        def claimers():
            with app.app_context():
                found = db.session.execute(sa.select(sa.func.count(sa.distinct(MailOutbox.claimed_by)))
                                           .where(MailOutbox.claimed_by.is_not(None))).scalar_one()
                db.session.remove()
                return found >= 2

        _wait_until(claimers, "both workers to claim rows", seconds=40)
        smtp.sink.release()
        messages = smtp.sink.wait_for(MAIL_COUNT, timeout=40)
        _wait_until(lambda: all(w.poll() is None for w in workers) and _all_sent(app), "every row marked sent")
    finally:
        smtp.sink.release()
        for worker in workers:
            processes.stop(worker)
    subjects = [m["Subject"] for m in messages]
    assert len(subjects) == MAIL_COUNT and len(set(subjects)) == MAIL_COUNT  # each mail delivered exactly once
    with app.app_context():
        attempts = db.session.execute(sa.select(MailAttempt.worker)).scalars().all()
        db.engine.dispose()
    assert len(attempts) == MAIL_COUNT and len(set(attempts)) == 2  # both workers sent, no row twice
    assert all(w.returncode == 0 for w in workers)  # SIGTERM ends a worker cleanly


def _all_sent(app) -> bool:
    from app.extensions import db
    from app.mailer import MailOutbox

    with app.app_context():
        states = db.session.execute(sa.select(MailOutbox.status)).scalars().all()
        db.session.remove()
    return len(states) == MAIL_COUNT and set(states) == {"sent"}
