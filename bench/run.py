"""make bench: kanri under gunicorn against a bare Flask app under gunicorn, driven from outside by wrk.

Usage: .venv/bin/python bench/run.py [--sizes 1000,10000] [--seconds 5] [--oplog] [--report-runs 5]
SQLite in a temporary instance directory by default; with DATABASE_URL (postgresql+psycopg://…) a scratch
database is created next to it and dropped afterwards. Writes bench/results/latest.json, a profile of the
slowest page under bench/results/ and the tables of bench/results.md. Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess  # nosec B404
import sys
import tempfile
import time
from multiprocessing import Pool
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import bcrypt  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402

from bench import load, seed  # noqa: E402
from bench.backup_time import backup_timings  # noqa: E402
from bench.results import write_markdown  # noqa: E402
from bench.servers import Server, free_port, kanri_env  # noqa: E402

OPLOG_EVENTS = 1_000_000
LOGIN_THREADS = 16
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def pages(size: int, oplog_seq: int) -> list[tuple[str, str, float | None]]:
    """(label, path, target ratio) of every measured page at this size."""
    deep = max(size // 50 - 1, 2)
    found = [("ログイン画面 (匿名)", "/login", None), ("ダッシュボード", "/", 0.35),
             ("管理組合一覧 1ページ目", "/mama/associations", 0.25),
             (f"管理組合一覧 {deep}ページ目", f"/mama/associations?page={deep}", 0.25),
             ("管理組合検索 (カナ)", "/mama/associations?" + urlencode({"q": "コウホク"}), 0.20),
             ("利用者一覧", "/mama/users", 0.25), ("操作ログ 1ページ目", "/admin/oplog", 0.25)]
    if oplog_seq > 1000:
        found.append(("操作ログ 深いページ", f"/admin/oplog?before={oplog_seq // 2}", 0.25))
    return found


class Browser:
    """A cookie jar that also sends the Secure (__Host-) cookies over the loopback's plain HTTP."""

    def __init__(self, base: str):
        self.base, self.cookies, self.http = base, {}, requests.Session()

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        """One request without following redirects; cookies kept."""
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, self.base + path, headers={"Cookie": header}, allow_redirects=False,
                                     timeout=60, **kwargs)
        self.cookies.update({cookie.name: cookie.value for cookie in response.cookies})
        self.http.cookies.clear()
        return response

    def post_form(self, page: str, action: str, data: dict) -> requests.Response:
        """GET page, POST its form with the page's CSRF token."""
        token = CSRF.search(self.request("GET", page).text).group(1)
        return self.request("POST", action, data={"csrf_token": token, **data})

    def cookie_header(self) -> str:
        """The Cookie header wrk sends."""
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())


def password_step(browser: Browser) -> requests.Response:
    """The login form's password step for the bench admin."""
    return browser.post_form("/login", "/login", {"company_code": seed.CODE, "login_id": "admin",
                                                  "password": seed.PASSWORD, "next": ""})


def log_in(base: str, code: str) -> str:
    """The real login: password step, then the 登録端末 step with a registration code issued through the app's
    own device service (as an operator would); returns the session's Cookie header."""
    browser = Browser(base)
    response = password_step(browser)
    assert response.status_code == 302 and response.headers["Location"].endswith("/mama/device"), response.text
    response = browser.post_form("/mama/device", "/mama/device/code", {"code": code})
    assert response.status_code == 302, response.text
    assert browser.request("GET", "/").status_code == 200
    return browser.cookie_header()


def logins_by_wrk(base: str, seconds: int, workdir: Path) -> dict:
    """Password steps/s from wrk -t2 -c16: one browser's session cookie and CSRF token, POSTed again and again."""
    browser = Browser(base)
    token = CSRF.search(browser.request("GET", "/login").text).group(1)
    form = urlencode({"company_code": seed.CODE, "login_id": "admin", "password": seed.PASSWORD, "next": "",
                      "csrf_token": token})
    found = load.post_form(base + "/login", seconds, form, browser.cookie_header(), "/mama/device", workdir,
                           LOGIN_THREADS)
    answered = found["successes"] + found["other"]
    if found["successes"] <= answered / 2:  # e.g. the CSRF token or the cookie refused: measuring nothing
        raise RuntimeError(f"logins/s: only {found['successes']} of {answered} answers were 302 to /mama/device "
                           f"(first other: {found['first_other']})")
    return {"per_s": found["per_s"], "failed": found["other"] + found["errors"],
            "driver": f"wrk -t2 -c{LOGIN_THREADS} + Lua, one session cookie and CSRF token reused"}


def logins_by_threads(base: str, seconds: float) -> dict:
    """Fallback without wrk: complete password steps per second from LOGIN_THREADS concurrent fresh browsers."""
    from concurrent.futures import ThreadPoolExecutor

    deadline = time.perf_counter() + seconds

    def one(_):
        done = 0
        while time.perf_counter() < deadline:
            assert password_step(Browser(base)).status_code == 302
            done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(LOGIN_THREADS) as pool:
        total = sum(pool.map(one, range(LOGIN_THREADS)))
    return {"per_s": total / (time.perf_counter() - started), "failed": 0,
            "driver": f"{LOGIN_THREADS} Python threads (requests), GET and POST /login each"}


def logins_per_second(base: str, seconds: int, workdir: Path) -> dict:
    """Password steps/s (per_s, failed, driver): wrk with a Lua script when installed, else Python threads."""
    return logins_by_wrk(base, seconds, workdir) if load.have_wrk() else logins_by_threads(base, seconds)


BCRYPT_PASSWORD = b"A" * 44  # what login hands bcrypt: the base64 of a 32-byte HMAC (app.passwords._prehash)


def _hashes(rounds: int, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        bcrypt.hashpw(BCRYPT_PASSWORD, bcrypt.gensalt(rounds))
    return time.perf_counter() - started


def _checks(hashed: bytes, count: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        bcrypt.checkpw(BCRYPT_PASSWORD, hashed)
    return time.perf_counter() - started


def bcrypt_per_second(rounds: int, count: int = 8) -> dict:
    """Raw bcrypt on two processes (the two gunicorn workers' share of the machine), timed inside the processes
    so pool start-up is left out; call it while nothing else runs. checks_per_s is bcrypt.checkpw (what a
    login does), hashes_per_s bcrypt.hashpw at the same cost."""
    hashed = bcrypt.hashpw(BCRYPT_PASSWORD, bcrypt.gensalt(rounds))
    with Pool(2) as pool:
        # the best of two rounds: the reference is what the cores can do, not what a noisy moment allowed
        checks = min(max(pool.starmap(_checks, [(hashed, count)] * 2)) for _ in range(2))
        hashes = max(pool.starmap(_hashes, [(rounds, count)] * 2))
    return {"checks_per_s": 2 * count / checks, "hashes_per_s": 2 * count / hashes}


def scratch_database(url: str | None, workdir: Path):
    """(database URL, drop function): a temp SQLite file, or a new PostgreSQL database next to url."""
    if not url:
        return f"sqlite:///{workdir / 'bench.db'}", lambda: None
    base = sa.engine.make_url(url)
    name = f"kanri_bench_{os.getpid()}"
    admin = sa.create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return base.set(database=name).render_as_string(hide_password=False), drop


def warm_up(kanri: Server, size: int, oplog_seq: int, cookie: str, workdir: Path) -> None:
    """Every page under 2 s of concurrent load, so both workers have served each page before the RSS reading
    (sequential requests may all land on one worker, leaving the other cold)."""
    for _label, path, _target in pages(size, oplog_seq):
        load.run(kanri.url + path, 2, None if path == "/login" else cookie, workdir)


def measure(kanri: Server, bare: Server, size: int, oplog_seq: int, cookie: str, seconds: int,
            workdir: Path) -> list[dict]:
    """Each page on kanri, each followed by the bare page (interleaved), as ratios."""
    rows = []
    for label, path, target in pages(size, oplog_seq):
        page_cookie = None if path == "/login" else cookie
        check = requests.get(kanri.url + path, headers={"Cookie": page_cookie or ""}, allow_redirects=False,
                             timeout=120)
        assert check.status_code == 200, (path, check.status_code)
        mine = load.run(kanri.url + path, seconds, page_cookie, workdir)
        ref = load.run(bare.url + "/", seconds, None, workdir)
        ratio = mine["rps"] / ref["rps"]
        rows.append({"page": label, "path": path, **mine, "bare_rps": ref["rps"], "ratio": round(ratio, 4),
                     "target": target, "met": None if target is None else ratio >= target})
        print(f"    {label:<24} {mine['rps']:8.1f} req/s  p50 {mine['p50_ms']:7.1f} ms  p95 {mine['p95_ms']:7.1f} ms"
              f"  {ratio:6.1%} of bare ({ref['rps']:.0f}/s)", flush=True)
    return rows


def profile_slowest(env: dict, path: str, cookie: str, workdir: Path, label: str) -> str:
    """pyinstrument over 30 in-process requests of path with the bench session; returns the saved file."""
    from pyinstrument import Profiler

    os.environ.update(env)
    from app import create_app

    app = create_app()
    client = app.test_client()
    for pair in cookie.split("; "):
        key, _, value = pair.partition("=")
        client.set_cookie(key, value, domain="127.0.0.1", secure=True)
    headers = {}
    assert client.get(path, headers=headers, base_url=env["KANRI_BASE_URL"]).status_code == 200
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(30):
        assert client.get(path, headers=headers, base_url=env["KANRI_BASE_URL"]).status_code == 200
    profiler.stop()
    out = ROOT / "bench" / "results" / f"profile-{label}.txt"
    out.parent.mkdir(exist_ok=True)
    text = profiler.output_text(unicode=True, color=False, show_all=False)
    # Paths relative to the checkout: the saved profile must not name this machine's directories.
    out.write_text(f"{path}: 30 requests in-process\n\n" + text.replace(f"{ROOT}/", ""))
    return str(out.relative_to(ROOT))


def bench_database(args, database: str, workdir: Path) -> dict:
    """Seed, serve and measure every size on one database."""
    url, drop = scratch_database(os.environ.get("DATABASE_URL") if database == "postgresql" else None, workdir)
    port = free_port()
    env = kanri_env(workdir, url, port)
    os.environ.update(env)
    from app import create_app
    from app.extensions import db

    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi:app", "db", "upgrade"], cwd=ROOT, env=env,  # noqa: S603
                   check=True, capture_output=True)  # nosec B603
    app = create_app()
    found = {"database": database, "sizes": {}}
    try:
        have, oplog_seq = 0, 0
        with app.app_context():
            seed.create_bench_tenant()
        for size in args.sizes:
            print(f"== {database}, {size:,} 管理組合", flush=True)
            with app.app_context():
                seed.add_associations(have, size)
                have = size
                if (args.oplog or size == max(args.sizes) >= 100_000) and not oplog_seq:
                    oplog_seq = seed.add_audit_events(args.oplog_events)
                    found["oplog_chain"] = seed.verify_chain()
                    print(f"  操作ログの鎖: {found['oplog_chain']}", flush=True)
                seed.analyze()
                code = seed.registration_code()
                db.session.remove()
            kanri = Server("wsgi:app", env, port, workdir / "kanri.log")
            bare = Server("bench.bare:app", {**env, "PYTHONPATH": str(ROOT)}, free_port(), workdir / "bare.log")
            try:
                cookie = log_in(kanri.url, code)
                warm_up(kanri, size, oplog_seq, cookie, workdir)
                rss_before = kanri.worker_rss_kib()
                rows = measure(kanri, bare, size, oplog_seq, cookie, args.seconds, workdir)
                served = sum(row["requests"] for row in rows)
                rss_after = kanri.worker_rss_kib()
                entry = {"pages": rows, "rss_kib_before": rss_before, "rss_kib_after": rss_after,
                         "requests_between": served, "oplog_events": oplog_seq}
                if size == args.sizes[0]:
                    rounds = int(app.config["BCRYPT_ROUNDS"])
                    logins = logins_per_second(kanri.url, args.seconds * 2, workdir)
                    raw = bcrypt_per_second(rounds)  # after the logins, with both servers idle
                    entry.update(logins_per_s=round(logins["per_s"], 2), logins_failed=logins["failed"],
                                 logins_driver=logins["driver"], bcrypt_per_s=round(raw["checks_per_s"], 2),
                                 bcrypt_hashes_per_s=round(raw["hashes_per_s"], 2), bcrypt_rounds=rounds)
                    print(f"    ログイン (password step): {logins['per_s']:.1f}/s ({logins['failed']} not 302 or lost), "
                          f"raw bcrypt.checkpw {raw['checks_per_s']:.1f}/s on 2 idle processes = "
                          f"{logins['per_s'] / raw['checks_per_s']:.0%}; {logins['driver']}", flush=True)
                slowest = min((row for row in rows if row["target"]), key=lambda row: row["ratio"])
                entry["profile"] = profile_slowest(env, slowest["path"], cookie, workdir,
                                                   f"{database}-{size}")
                entry["slowest"] = slowest["page"]
            finally:
                kanri.stop()
                bare.stop()
            found["sizes"][str(size)] = entry
        if not args.no_backup:
            print("  バックアップ時間を測っています", flush=True)
            found["backup"] = backup_timings(app)
            found["backup"]["size"] = args.sizes[-1]
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        drop()
    return found


def main() -> None:
    """Run the bench and write the results."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,10000", help="管理組合 counts, comma-separated, ascending")
    parser.add_argument("--seconds", type=int, default=5, help="wrk duration per page and per bare run")
    parser.add_argument("--oplog", action="store_true", help="seed 1,000,000 audit events at every size")
    parser.add_argument("--oplog-events", type=int, default=OPLOG_EVENTS, help="audit events seeded by --oplog")
    parser.add_argument("--no-backup", action="store_true", help="skip the backup-time measurement")
    parser.add_argument("--report-runs", type=int, default=5, help="PDF report runs (0 skips)")
    args = parser.parse_args()
    args.sizes = sorted(int(size) for size in args.sizes.split(","))
    database = "postgresql" if os.environ.get("DATABASE_URL", "").startswith("postgresql") else "sqlite"
    environment = dict(os.environ)
    with tempfile.TemporaryDirectory(prefix="kanri-bench-") as tmp:
        result = bench_database(args, database, Path(tmp))
    os.environ.clear()
    os.environ.update(environment)  # the report bench builds its own (test-mode) app
    result["load"] = "wrk -t2 -c16" if load.have_wrk() else "python threads, 16 connections"
    result["seconds"] = args.seconds
    if args.report_runs:
        from bench.report_pdf import report_timings
        result["report_pdf"] = report_timings(args.report_runs)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / f"{database}-{'_'.join(map(str, args.sizes))}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    (out / "latest.json").write_text(json.dumps(result, indent=2, ensure_ascii=False))
    write_markdown(out, ROOT / "bench" / "results.md")
    print("書き出しました: bench/results.md, bench/results/latest.json")


if __name__ == "__main__":
    main()
