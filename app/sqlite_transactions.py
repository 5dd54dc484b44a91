"""SQLite transactions that cannot deadlock: a transaction takes the write lock before its first write.

pysqlite begins a transaction lazily, and SQLite lets a connection that has read inside a
transaction (a SAVEPOINT starts one) ask for the write lock while another connection is
committing: one of the two is then refused at once with "database is locked", since SQLite does
not wait out the busy timeout where waiting would deadlock. So kanri emits BEGIN itself
(SQLAlchemy's documented pysqlite recipe): a transaction begins deferred, and just before its
first write, savepoint or ``SELECT … FOR UPDATE`` it commits what it has read and begins
IMMEDIATE, which waits for the write lock (up to the busy timeout) instead of failing. Reads
before the first write thus see what was committed when they ran, as under PostgreSQL's READ
COMMITTED, which the code already runs under in production; from the first write on, the
transaction holds SQLite's one write lock, which is stronger than any row lock PostgreSQL takes.
The database runs in WAL mode, so a transaction that only reads never holds up another's commit.
PostgreSQL engines are left alone.
"""
from __future__ import annotations

import re
import sqlite3

from sqlalchemy import event
from sqlalchemy.engine import Engine

BUSY_TIMEOUT_MS = 15_000
_READING = "kanri_sqlite_reading"  # in the connection record's info while the transaction has only read
_WRITES = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE|SAVEPOINT|CREATE|DROP|ALTER)\b", re.IGNORECASE)


@event.listens_for(Engine, "connect")
def _take_over_begin(dbapi_connection, _record) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN of its own; _begin below does
    dbapi_connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    # Write-ahead log: a transaction that has only read no longer holds up another connection's commit. In the
    # rollback-journal mode a request reading before a 0.3 s bcrypt kept every other worker's commit waiting
    # (in SQLite's sleeping busy handler) until it ended. Kept in the file; an in-memory database stays as is.
    dbapi_connection.execute("PRAGMA journal_mode = WAL")


@event.listens_for(Engine, "begin")
def _begin(connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    if connection.get_execution_options().get("isolation_level") == "AUTOCOMMIT":
        connection.info.pop(_READING, None)
        return
    # On the driver's connection: transaction control, not a statement for cursor events (query counts) to see.
    connection.connection.driver_connection.execute("BEGIN")
    connection.info[_READING] = True


def _locks_rows(context) -> bool:
    compiled = getattr(context, "compiled", None)
    statement = getattr(compiled, "statement", None)
    return getattr(statement, "_for_update_arg", None) is not None  # SQLite drops FOR UPDATE from the SQL


@event.listens_for(Engine, "before_cursor_execute")
def _upgrade_before_first_write(connection, cursor, statement, _parameters, context, _executemany) -> None:
    if not connection.info.get(_READING):
        return
    if not (_WRITES.match(statement) or _locks_rows(context)):
        return
    # Only reads happened so far: ending this transaction loses nothing, and the write lock is then
    # taken before anything else, so a busy database is waited for instead of failing at once.
    cursor.execute("COMMIT")
    cursor.execute("BEGIN IMMEDIATE")
    connection.info.pop(_READING, None)


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget(connection) -> None:
    if connection.dialect.name == "sqlite":
        connection.info.pop(_READING, None)
