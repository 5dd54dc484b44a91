"""Benchmarks: kanri's request cost and memory as ratios against a bare Flask app in the same run.

Usage: .venv/bin/python bench/inprocess.py --requests 500   (the older in-process bench; make bench runs bench/run.py)
Also the 重要事項調査報告書 PDF of a 400-住戸 building (bench/report_pdf.py): median, p95 and whether under 1 s.
Nothing here asserts a time; the ratios are printed and written to bench/results/latest.json.
"""
from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from flask import Flask, render_template_string

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import create_app, mail_sender  # noqa: E402
from app.crypto import Keyset, save_keyset  # noqa: E402
from app.extensions import db  # noqa: E402
from bench.lists import list_page_ratios  # noqa: E402
from bench.report_pdf import report_timings  # noqa: E402

PASSWORD = "benchmark passphrase that is long"
PAGE = "<!doctype html><html><body><form><input name=a><input name=b></form>{{ n }}</body></html>"


def bare_app() -> Flask:
    """A bare Flask app rendering a comparable small page."""
    app = Flask("bare")

    @app.route("/login")
    def login():
        return render_template_string(PAGE, n=1)

    return app


def kanri_app(workdir: Path) -> Flask:
    """kanri on a fresh SQLite file with one sample tenant."""
    keyset = workdir / "keyset.json"
    save_keyset(keyset, Keyset.generate())
    app = create_app({
        "TESTING": True, "SECRET_KEY": "bench-secret-key-0123456789-abcdefghijkl",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.db'}", "KANRI_KEYSET_FILE": str(keyset),
        "KANRI_KEYSET": None, "KANRI_PLUGINS": "mama,jucho,tests.plugins.sample_product", "BCRYPT_ROUNDS": 4,
        "RATELIMIT_ENABLED": False, "MAIL_SUPPRESS_SEND": True, "KANRI_MAIL_CONSOLE": False,
    })
    with app.app_context():
        db.create_all()
        from app.tenants import create_tenant

        create_tenant(code="bench", name="ベンチ株式会社", product="sample", contract_end="2099-12-31",
                      admin_login="admin", admin_email="admin@bench.example.jp", admin_password=PASSWORD)
    return app


def logged_in_client(app: Flask):
    """A test client that went through the password step and the sample factor."""
    client = app.test_client()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/login").text).group(1)
    client.post("/login", data={"csrf_token": token, "company_code": "bench", "login_id": "admin",
                                "password": PASSWORD})
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', client.get("/sample/confirm").text).group(1)
    client.post("/sample/confirm", data={"csrf_token": token, "answer": "ok"})
    assert client.get("/").status_code == 200
    return client


def requests_per_second(client, url: str, count: int) -> float:
    """Serve url count times in-process and return requests per second."""
    for _ in range(20):
        client.get(url)
    started = time.perf_counter()
    for _ in range(count):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    return count / (time.perf_counter() - started)


def peak_while(work) -> tuple[object, int]:
    """Return work()'s result and the peak bytes Python allocated while it ran."""
    tracemalloc.start()
    result = work()
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return result, peak


def export_peaks(app: Flask, workdir: Path, sizes: list[int]) -> dict:
    """`flask tenant export`'s service on the sample tenant with n encrypted rows: time and peak Python memory.

    The rows grow by two orders of magnitude; a streamed export keeps the peak (nearly) the same.
    """
    import sqlalchemy as sa

    from app.builtins.lifecycle.export import export_tenant
    from app.crypto import bind_rows
    from app.models import Tenant
    from app.tenancy import tenant_scope
    from tests.plugins.sample_product import SampleNote

    found, have = {}, 0
    for size in sizes:
        with app.app_context():
            tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == "bench")).scalar_one()
            with tenant_scope(tenant):
                while have < size:
                    step = min(5000, size - have)
                    db.session.execute(sa.insert(SampleNote), bind_rows(SampleNote, [
                        {"title": f"件名 {have + i}", "body": f"本文 {have + i} 管理組合 理事長 山田花子 " * 3}
                        for i in range(step)]))
                    have += step
                db.session.commit()
            out = workdir / f"export-{size}.zip"
            started = time.perf_counter()
            _, peak = peak_while(lambda tenant=tenant, out=out: export_tenant(tenant, out))
            found[size] = {"seconds": round(time.perf_counter() - started, 1), "peak_kib": round(peak / 1024),
                           "zip_kib": round(out.stat().st_size / 1024)}
            out.unlink()
    return found


def main() -> None:
    """Run every benchmark and print the ratios."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--export-rows", type=int, default=100_000,
                        help="rows in the large export (the small one has a hundredth); 0 skips the export benchmark")
    parser.add_argument("--report-runs", type=int, default=15,
                        help="timed runs of the 重要事項調査報告書 PDF (400 住戸); 0 skips it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bare = bare_app()
        kanri = kanri_app(Path(tmp))
        logging.getLogger("kanri").setLevel(logging.WARNING)  # after create_app, which sets INFO
        bare_client, login_client, dash_client = bare.test_client(), kanri.test_client(), logged_in_client(kanri)
        bare_rps = requests_per_second(bare_client, "/login", args.requests)
        login_rps = requests_per_second(login_client, "/login", args.requests)
        dash_rps = requests_per_second(dash_client, "/", args.requests)
        lists = list_page_ratios(kanri, requests_per_second, bare_rps, max(args.requests // 10, 20))
        _, bare_bytes = peak_while(lambda: requests_per_second(bare_client, "/login", 50))
        _, kanri_bytes = peak_while(lambda: requests_per_second(dash_client, "/", 50))
        sizes = [max(args.export_rows // 100, 1), args.export_rows] if args.export_rows else []
        exports = export_peaks(kanri, Path(tmp), sizes)
        mail_sender.stop(kanri)  # its sender thread (started by the requests) must not poll a deleted database
        with kanri.app_context():
            db.engine.dispose()
    results = {
        "requests": args.requests,
        "bare_flask_rps": round(bare_rps, 1),
        "kanri_login_page_rps": round(login_rps, 1),
        "kanri_dashboard_rps": round(dash_rps, 1),
        "login_page_cost_ratio": round(bare_rps / login_rps, 2),
        "dashboard_cost_ratio": round(bare_rps / dash_rps, 2),
        "request_memory_peak_ratio": round(kanri_bytes / max(bare_bytes, 1), 1),
        "kanri_dashboard_peak_kib": round(kanri_bytes / 1024),
        "bare_page_peak_kib": round(bare_bytes / 1024),
    }
    results.update(lists)
    for size, facts in exports.items():
        results.update({f"export_{size}_rows_{key}": value for key, value in facts.items()})
    if len(exports) == 2:
        small, large = (exports[size]["peak_kib"] for size in sizes)
        results["export_peak_ratio_100x_rows"] = round(large / max(small, 1), 2)
    if args.report_runs:
        results.update(report_timings(args.report_runs))
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2))
    for key, value in results.items():
        print(f"{key:>24}: {value}")


if __name__ == "__main__":
    main()
