"""Seed a scratch kanri database for the bench: a MAMA tenant with N associations, users and optionally
1,000,000 audit events, all by bulk inserts through the app's models (``bind_rows`` encrypts per row)."""
from __future__ import annotations

import json
import random
import sys
import time
from datetime import timedelta

import sqlalchemy as sa

from app import audit
from app.crypto import bind_rows, blind_index
from app.extensions import db
from app.models import AuditEvent, Tenant, User
from app.tenancy import tenant_scope
from app.tenants import create_tenant
from app.timeutil import utcnow
from plugins.mama.cli import sample_association
from plugins.mama.models import MamaAssociation

CODE = "benchmama"
PASSWORD = "benchmark passphrase that is long"
USERS = 120
BATCH = 5000


def progress(label: str, done: int, total: int, started: float) -> None:
    """One self-overwriting progress line on stderr."""
    rate = done / max(time.perf_counter() - started, 1e-6)
    sys.stderr.write(f"\r  {label}: {done:,}/{total:,} ({rate:,.0f}/s)   ")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def tenant() -> Tenant:
    """The bench's MAMA tenant."""
    return db.session.execute(sa.select(Tenant).where(Tenant.code == CODE)).scalar_one()


def create_bench_tenant() -> None:
    """The MAMA tenant with its admin (password PASSWORD) and USERS 一般 users sharing the admin's hash."""
    create_tenant(code=CODE, name="ベンチ管理株式会社", product="mama", contract_end="2099-12-31", admin_login="admin",
                  admin_email="admin@bench.example.jp", admin_name="管理 太郎", admin_password=PASSWORD)
    with tenant_scope(tenant()):
        admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
        rows = [{"login_id": f"user{n:04d}", "name": f"利用者 {n}", "email": f"user{n}@bench.example.jp",
                 "email_bidx": blind_index(f"user{n}@bench.example.jp", tenant_id=admin.tenant_id),
                 "role": "general", "status": "active", "password_hash": admin.password_hash,
                 "must_change_password": False, "failed_logins": 0, "created_at": utcnow(), "updated_at": utcnow()}
                for n in range(1, USERS + 1)]
        db.session.execute(sa.insert(User), bind_rows(User, rows))
        db.session.commit()


def add_associations(have: int, size: int) -> None:
    """Bulk-insert sample associations numbered have+1 .. size."""
    rng = random.Random(size)  # noqa: S311  # nosec B311 - sample data
    columns = [c.key for c in MamaAssociation.__table__.columns
               if c.key not in ("id", "tenant_id", "row_key", "search_text")]
    started = time.perf_counter()
    with tenant_scope(tenant()):
        for start in range(have + 1, size + 1, BATCH):
            rows = []
            for number in range(start, min(start + BATCH, size + 1)):
                association = sample_association(number, rng)
                rows.append({name: getattr(association, name) for name in columns
                             if getattr(association, name) is not None})
            db.session.execute(sa.insert(MamaAssociation), bind_rows(MamaAssociation, rows))
            db.session.commit()
            progress("管理組合", start + len(rows) - 1 - have, size - have, started)


def add_audit_events(count: int) -> int:
    """Append count chained audit events to the tenant's chain (same digest as ``audit.record``); returns the
    last seq. The chain stays verifiable: each row's prev_hash is the previous row's hash."""
    table = AuditEvent.__table__
    bench = tenant()
    last = db.session.execute(sa.select(table.c.seq, table.c.hash).where(table.c.chain_id == bench.id)
                              .order_by(table.c.seq.desc()).limit(1)).first()
    seq, prev = (last.seq, last.hash) if last else (0, audit.GENESIS)
    start_at = utcnow() - timedelta(seconds=count)
    actions = ("auth.login", "mama.association.update", "mama.association.create", "user.update")
    started = time.perf_counter()
    for first in range(0, count, BATCH):
        rows = []
        for n in range(first, min(first + BATCH, count)):
            seq += 1
            row = {"tenant_id": bench.id, "chain_id": bench.id, "occurred_at": start_at + timedelta(seconds=n),
                   "actor_id": None, "actor_login": f"user{n % USERS + 1:04d}", "action": actions[n % 4],
                   "outcome": "success", "target": f"A{n % 1000:05d}", "details": json.dumps({}),
                   "ip": "127.0.0.1", "user_agent": "bench", "request_id": None, "seq": seq, "prev_hash": prev}
            row["hash"] = prev = audit._digest(row)
            rows.append(row)
        db.session.execute(sa.insert(table), rows)
        db.session.commit()
        progress("操作ログ", first + len(rows), count, started)
    return seq


def analyze() -> None:
    """Fresh planner statistics after the bulk load."""
    db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def registration_code() -> str:
    """A 登録端末 registration code for the admin, issued through the app's own device service."""
    from plugins.mama import devices

    with tenant_scope(tenant()):
        admin = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalar_one()
        code = devices.issue_code(admin, "bench")
        db.session.commit()
        return code


def verify_chain() -> str:
    """The core's own chain check over the bench tenant's audit chain, as one line for the results."""
    checked, broken = audit.verify(tenant().id)
    return f"verified ({checked:,} rows)" if broken is None else f"NOT verified: {broken}"
