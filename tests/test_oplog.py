"""「操作ログ」: a tenant's 管理者 reads, filters, pages (keyset), verifies and downloads the tenant's audit log."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app import audit
from app.builtins.oplog import service
from app.extensions import db
from app.models import Tenant
from app.tenancy import tenant_scope
from tests.conftest import csrf_from, login

ROW = re.compile(r'<tr data-seq="(\d+)"')


def _record(app, code, *events, at=None, monkeypatch=None):
    """Append events (dicts of audit.record arguments) to a tenant's chain."""
    with app.app_context():
        tenant = db.session.execute(sa.select(Tenant).where(Tenant.code == code)).scalar_one()
        with tenant_scope(tenant):
            for event in events:
                event = dict(event)
                when = event.pop("at", at)
                if when is not None:
                    monkeypatch.setattr(audit, "utcnow", lambda when=when: when)
                audit.record(event.pop("action"), **event)
            db.session.commit()
        if monkeypatch is not None:
            monkeypatch.undo()


def _admin(app, make_tenant, add_user, code="acme"):
    make_tenant(code)
    add_user(code, "staff")
    client = app.test_client()
    login(client, code, "admin")
    return client


def _seqs(html: str) -> list[int]:
    return [int(seq) for seq in ROW.findall(html)]


def test_admin_sees_events_newest_first_with_labels_and_changes(app, make_tenant, add_user):
    client = _admin(app, make_tenant, add_user)
    _record(app, "acme", {"action": "user.update", "actor_login": "admin", "target": "user:staff",
                          "before": {"role": "general"}, "after": {"role": "admin"}, "note": "昇格"},
            {"action": "custom.thing", "actor_login": "admin", "target": "x:1", "outcome": "failure"})
    home = client.get("/").get_data(as_text=True)
    assert "操作ログ" in home
    response = client.get("/admin/oplog")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    seqs = _seqs(html)
    assert seqs == sorted(seqs, reverse=True) and len(seqs) >= 3
    assert "ユーザー更新" in html and "role: general → admin" in html and "note=昇格" in html
    assert "custom.thing" in html and "失敗" in html and "ログイン成功" in html
    table = html[html.index('data-testid="oplog"'):]
    assert table.index("custom.thing") < table.index("ユーザー更新")
    assert "JST" in html


def test_general_user_gets_403_and_no_menu(app, make_tenant, add_user):
    make_tenant("acme")
    add_user("acme", "staff")
    client = app.test_client()
    login(client, "acme", "staff")
    assert "操作ログ" not in client.get("/").get_data(as_text=True)
    assert client.get("/admin/oplog").status_code == 403
    assert client.get("/admin/oplog.csv").status_code == 403
    assert client.post("/admin/oplog/verify").status_code in (400, 403)


def test_other_tenants_events_never_appear(app, make_tenant, add_user):
    client = _admin(app, make_tenant, add_user)
    make_tenant("other")
    _record(app, "other", {"action": "user.update", "actor_login": "admin", "target": "user:secret-other"})
    html = client.get("/admin/oplog?q=secret-other").get_data(as_text=True)
    assert "該当する記録はありません" in html and "user:secret-other" not in html
    assert "user:secret-other" not in client.get("/admin/oplog").get_data(as_text=True)
    csv_text = client.get("/admin/oplog.csv").get_data(as_text=True)
    assert "secret-other" not in csv_text


def test_each_filter(app, make_tenant, add_user, monkeypatch):
    client = _admin(app, make_tenant, add_user)
    # JST 2026-11-29 00:30 is UTC 2026-11-28 15:30: across midnight UTC.
    _record(app, "acme",
            {"action": "user.update", "actor_login": "alice", "target": "user:a1", "at": datetime(2026, 11, 28, 14, 59, tzinfo=UTC),
             "note": "28日JST"},
            {"action": "user.create", "actor_login": "bob", "target": "user:b1", "at": datetime(2026, 11, 28, 15, 30, tzinfo=UTC),
             "note": "100%_done"},
            {"action": "user.update", "actor_login": "alice", "target": "prop:9", "outcome": "failure",
             "at": datetime(2026, 11, 29, 14, 59, tzinfo=UTC), "note": "100xxdone"},
            {"action": "user.delete", "actor_login": "bob", "target": "user:b2", "at": datetime(2026, 11, 29, 15, 0, tzinfo=UTC)},
            monkeypatch=monkeypatch)

    def targets(query):
        response = client.get("/admin/oplog?" + query)
        assert response.status_code == 200, response.get_data(as_text=True)
        html = response.get_data(as_text=True)
        return {t for t in ("user:a1", "user:b1", "prop:9", "user:b2") if f'<td data-label="対象">{t}</td>' in html}

    assert targets("user=alice") == {"user:a1", "prop:9"}
    assert targets("action=user.create") == {"user:b1"}
    assert targets("result=failure") == {"prop:9"}
    assert targets("target=user:b") == {"user:b1", "user:b2"}
    assert targets("target=%25") == set()
    assert targets("date_from=2026-11-29&date_to=2026-11-29") == {"user:b1", "prop:9"}
    assert targets("date_from=2026-11-30") == {"user:b2"}
    assert targets("date_to=2026-11-28") == {"user:a1"}
    assert targets("q=100%25_done") == {"user:b1"}
    assert targets("q=0%25") == {"user:b1"}
    assert targets("q=_") == {"user:b1"}
    assert targets("q=prop") == {"prop:9"}
    assert targets("user=alice&result=success") == {"user:a1"}
    page = client.get("/admin/oplog").get_data(as_text=True)
    assert '<option value="user.create">ユーザー作成</option>' in page


@pytest.mark.parametrize("query", [
    "before=99999999999999999999999", "before=-1", "before=１２", "after=abc", "before=%00",
    "user=%E2%80%AE%00x", "user=" + "x" * 5000, "action=nope", "result=maybe", "target=%01%02",
    "date_from=2026-13-45", "date_from=0001-01-01", "date_to=9999-12-31", "date_from=2026-11-30&date_to=2026-11-01",
    "q=%F0%9F%98%80%E3%81%82", "q=%0d%0a", "date_from=%E6%97%A5",
])
def test_hostile_filter_values_never_500(app, make_tenant, add_user, query):
    client = _admin(app, make_tenant, add_user)
    for path in ("/admin/oplog?", "/admin/oplog.csv?"):
        response = client.get(path + query)
        assert response.status_code in (200, 400), (path, query, response.status_code)
        if response.status_code == 400:
            assert 'class="error"' in response.get_data(as_text=True)


def test_keyset_paging_shows_every_event_once(app, make_tenant, add_user):
    client = _admin(app, make_tenant, add_user)
    _record(app, "acme", *[{"action": "test.event", "target": f"n:{i}"} for i in range(120)])
    seen, url, pages = [], "/admin/oplog", 0
    while url:
        html = client.get(url).get_data(as_text=True)
        assert "OFFSET" not in html
        seen += _seqs(html)
        pages += 1
        match = re.search(r'href="([^"]*before=\d+[^"]*)" data-testid="oplog-next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
    assert pages >= 3
    assert len(seen) == len(set(seen)) and seen == sorted(seen, reverse=True)
    assert set(seen) == set(range(1, max(seen) + 1))
    # 前へ from the second page gives the first page again.
    first = _seqs(client.get("/admin/oplog").get_data(as_text=True))
    second = client.get(f"/admin/oplog?before={first[-1]}").get_data(as_text=True)
    back = re.search(r'href="([^"]*after=\d+[^"]*)" data-testid="oplog-prev"', second).group(1).replace("&amp;", "&")
    assert _seqs(client.get(back).get_data(as_text=True)) == first


def test_csv_has_bom_filtered_rows_and_escaped_formulas(app, make_tenant, add_user):
    client = _admin(app, make_tenant, add_user)
    _record(app, "acme", {"action": "user.update", "actor_login": "admin", "target": "=HYPERLINK(\"x\")",
                          "before": {"name_kana": "ア"}, "after": {"name_kana": "イ"}},
            {"action": "user.create", "actor_login": "admin", "target": "user:other"})
    response = client.get("/admin/oplog.csv?action=user.update")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert "oplog_acme_" in disposition and "filename*=UTF-8''" in disposition
    body = response.get_data()
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][0] == "日時"
    assert len(rows) == 2
    assert rows[1][4] == "'=HYPERLINK(\"x\")" and rows[1][2] == "ユーザー更新" and rows[1][0].endswith("JST")
    assert "name_kana: ア → イ" in rows[1][7]
    with app.app_context():
        actions = db.session.execute(sa.text("SELECT action FROM audit_events WHERE action = 'oplog.export'")).all()
    assert len(actions) == 1
    assert "操作ログのCSV出力" in client.get("/admin/oplog").get_data(as_text=True)


def test_chain_check_ok_then_broken_after_tampering(app, make_tenant, add_user):
    client = _admin(app, make_tenant, add_user)
    _record(app, "acme", {"action": "user.update", "target": "user:staff"})
    page = client.get("/admin/oplog").get_data(as_text=True)
    assert client.post("/admin/oplog/verify").status_code == 400  # no CSRF token
    response = client.post("/admin/oplog/verify", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    assert "改ざん検知: 正常" in response.get_data(as_text=True)
    with app.app_context():
        tenant_id = db.session.execute(sa.text("SELECT id FROM tenants WHERE code = 'acme'")).scalar_one()
        db.session.execute(sa.text("UPDATE audit_events SET target = 'user:evil' WHERE chain_id = :c AND seq = 2"),
                           {"c": tenant_id})
        db.session.commit()
    page = client.get("/admin/oplog").get_data(as_text=True)
    response = client.post("/admin/oplog/verify", data={"csrf_token": csrf_from(page)}, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "改ざん検知: 異常" in html and "連番 2 " in html


def _bulk_insert(app, chain_id: int, rows: int) -> None:
    if db.engine.dialect.name == "postgresql":
        sql = ("INSERT INTO audit_events (tenant_id, chain_id, seq, occurred_at, actor_login, action, outcome, target,"
               " details, prev_hash, hash) SELECT :c, :c, n, now(),"
               " CASE WHEN n % 1000 = 0 THEN 'operator:ops' ELSE 'bulk' END, 'test.bulk', 'success', 'n:' || n, '{}',"
               " 'x', 'x' FROM generate_series(1000, 999 + :n) AS n")
    else:
        sql = ("INSERT INTO audit_events (tenant_id, chain_id, seq, occurred_at, actor_login, action, outcome, target,"
               " details, prev_hash, hash) WITH RECURSIVE s(n) AS (SELECT 1000 UNION ALL SELECT n + 1 FROM s"
               " WHERE n < 999 + :n) SELECT :c, :c, n, '2026-11-29 00:00:00.000000',"
               " CASE WHEN n % 1000 = 0 THEN 'operator:ops' ELSE 'bulk' END, 'test.bulk', 'success',"
               " 'n:' || n, '{}', 'x', 'x' FROM s")
    db.session.execute(sa.text(sql), {"c": chain_id, "n": rows})


BULK_ROWS = 1_000_000


def test_deep_page_uses_the_chain_seq_index(app, make_tenant, add_user):
    make_tenant("acme")
    make_tenant("other")
    with app.app_context():
        ids = dict(db.session.execute(sa.text("SELECT code, id FROM tenants")).all())
        _bulk_insert(app, ids["acme"], BULK_ROWS)
        _bulk_insert(app, ids["other"], 1000)
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(sa.text("ANALYZE audit_events"))
        else:
            db.session.execute(sa.text("ANALYZE"))
        tenant = db.session.get(Tenant, ids["acme"])
        with tenant_scope(tenant):
            filters = service.Filters()
            query = service.page_query(tenant.id, filters, before=500_000)
            compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            if db.engine.dialect.name == "postgresql":
                plan = "\n".join(r[0] for r in db.session.execute(sa.text(f"EXPLAIN {compiled}")))
                assert "Index Scan Backward" in plan and "(chain_id = " in plan and "seq < 500000" in plan, plan
                assert "Sort" not in plan and "Seq Scan" not in plan, plan
            else:
                plan = "\n".join(r[-1] for r in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
                assert "uq_audit_events_chain_id" in plan or "sqlite_autoindex_audit_events" in plan, plan
                assert "SEARCH audit_events USING" in plan and "(chain_id=? AND seq<?)" in plan, plan
                assert "TEMP B-TREE" not in plan and "SCAN" not in plan, plan
            page = service.page(tenant.id, filters, before=500_000)
            assert [e.seq for e in page.events] == list(range(499_999, 499_949, -1))
            assert page.older_than == 499_950 and page.newer_than == 499_999
            # 運用担当者による操作のみ: one event in a thousand, paged on the partial (chain_id, seq) index of
            # operator events — neither a walk over the other 999 nor a sort.
            operators = service.Filters(operators=True)
            query = service.page_query(tenant.id, operators, before=500_000)
            compiled = query.compile(db.engine, compile_kwargs={"literal_binds": True})
            if db.engine.dialect.name == "postgresql":
                # Through the driver as the page query goes: psycopg turns the compiled "%%" of LIKE into "%".
                plan = "\n".join(r[0] for r in db.session.connection().exec_driver_sql(f"EXPLAIN {compiled}"))
                assert "Index Scan Backward using ix_audit_events_operator" in plan, plan
                assert "seq < 500000" in plan and "Sort" not in plan and "Seq Scan" not in plan, plan
            else:
                plan = "\n".join(r[-1] for r in db.session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")))
                assert "SEARCH audit_events USING INDEX ix_audit_events_operator (chain_id=? AND seq<?)" in plan, plan
                assert "TEMP B-TREE" not in plan and "SCAN" not in plan, plan
            page = service.page(tenant.id, operators, before=500_000)
            assert [e.seq for e in page.events] == list(range(499_000, 449_000, -1000))
            assert all(e.actor_login == "operator:ops" for e in page.events)
            assert page.older_than == 450_000
