"""Machine-independent performance checks: the SQL a request runs, and the plan the database picks for it."""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
import time_machine
from sqlalchemy import event

from app.extensions import db


@dataclass(frozen=True)
class Statement:
    """One statement sent to the database, with its parameters as the driver got them."""

    sql: str
    parameters: object


@contextmanager
def recorded_queries(app):
    """Record the statements this thread (the test client's request) executes inside the block.

    Other threads' statements are left out: the background mail sender polls the same engine."""
    statements: list[Statement] = []
    thread = threading.get_ident()

    def record(conn, cursor, statement, parameters, context, executemany):
        if threading.get_ident() == thread:
            statements.append(Statement(statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def queries_of(app, client, url: str) -> list[Statement]:
    """GET url with client (must answer 200) and return the statements the request ran."""
    with recorded_queries(app) as statements:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return statements


def stopped_clock() -> datetime:
    """An instant to hold the clock at while counting (see still_at)."""
    return datetime.now(UTC)


@contextmanager
def still_at(instant: datetime):
    """Hold the clock at instant: a request's queries then do not depend on when it runs (the session's
    last-seen time is written, and read back, at most once a minute)."""
    with time_machine.travel(instant, tick=False):
        yield


def reads_of(app, client, url: str) -> list[Statement]:
    """The SELECTs a GET of url runs."""
    return [s for s in queries_of(app, client, url) if s.sql.lstrip().upper().startswith("SELECT")]


def dialect_of(app) -> str:
    """'sqlite' or 'postgresql'."""
    with app.app_context():
        return db.engine.dialect.name


def the_query(statements: list[Statement], *fragments: str) -> Statement:
    """The one SELECT among statements whose SQL contains every fragment."""
    found = [s for s in statements if s.sql.lstrip().upper().startswith("SELECT")
             and all(fragment in s.sql for fragment in fragments)]
    assert len(found) == 1, (fragments, [s.sql for s in statements])
    return found[0]


def plan_of(app, statement: Statement) -> str:
    """The database's plan for a recorded statement: EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL."""
    with app.app_context():
        connection = db.session.connection()
        if db.engine.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(f"EXPLAIN {statement.sql}", statement.parameters)
            return "\n".join(row[0] for row in rows)
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement.sql}", statement.parameters)
        return "\n".join(row[-1] for row in rows)


def analyze(app) -> None:
    """Refresh the planner's statistics after a bulk load, as autovacuum / a nightly ANALYZE would (on
    PostgreSQL VACUUM ANALYZE, as autovacuum does: it also marks pages all-visible, so an index-only scan
    can answer id-only queries)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("VACUUM ANALYZE")
            return
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
