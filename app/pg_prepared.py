"""PostgreSQL: a request that only read ends its transaction with COMMIT, not ROLLBACK, so psycopg keeps the
statements it has prepared.

psycopg prepares a statement once it has run five times on a connection (``prepare_threshold``), which spares
PostgreSQL planning it again: 1–2 ms for the session query's six-table join, more than running it. But psycopg
forgets every prepared statement on ROLLBACK, and a request that only read ended with one (the session is
closed, the pool resets the connection), so nothing ever stayed prepared. Committing a transaction that wrote
nothing changes no data. A transaction that wrote, or holds unflushed changes, or ends in an error still rolls
back exactly as before.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

_WROTE = "kanri_wrote"  # in the connection's info from its first non-SELECT statement until the transaction ends


@event.listens_for(Engine, "before_cursor_execute")
def _note_writes(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    if not conn.info.get(_WROTE) and statement.lstrip()[:6].upper() != "SELECT":
        conn.info[_WROTE] = True


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_writes(conn) -> None:
    conn.info.pop(_WROTE, None)


def tune_pool(config: dict) -> None:
    """On PostgreSQL, hand out the most recently used pooled connection first (LIFO): a worker's requests then
    run on the connection whose statements are prepared, instead of spreading them over every pooled one."""
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("postgresql"):
        config["SQLALCHEMY_ENGINE_OPTIONS"] = {**config.get("SQLALCHEMY_ENGINE_OPTIONS", {}), "pool_use_lifo": True}


def init_app(app: Flask) -> None:
    """Register the teardown; call after ``db.init_app`` so it runs before Flask-SQLAlchemy closes the session."""
    from .extensions import db

    @app.teardown_appcontext
    def _commit_a_read_only_transaction(exc) -> None:
        if exc is not None or not db.session.registry.has():
            return
        session = db.session()
        if not session.in_transaction() or session.new or session.dirty or session.deleted:
            return
        connection = session.connection()
        if connection.dialect.name != "postgresql" or connection.info.get(_WROTE):
            return
        # Nothing to expire: the rows stay as loaded, as after the rollback before (code that keeps a row
        # past its app context, a CLI helper say, still reads its attributes).
        expire, session.expire_on_commit = session.expire_on_commit, False
        try:
            session.commit()
        except Exception:  # noqa: BLE001 - nothing was written; Flask-SQLAlchemy's close rolls back as before
            session.rollback()
        finally:
            session.expire_on_commit = expire
