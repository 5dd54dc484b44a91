"""SQLite: a transaction that read and then writes while another connection commits waits, never fails at once."""
from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from app import sqlite_transactions
from app.extensions import db


@pytest.fixture
def engine(tmp_path):
    """A file database with one table, through the same engine events as the application's."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'locks.db'}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        connection.exec_driver_sql("INSERT INTO notes (body) VALUES ('first')")
    yield engine
    engine.dispose()


def _commit_in_another_thread(engine, body: str) -> tuple[threading.Thread, threading.Event, list]:
    wrote, errors = threading.Event(), []

    def write():
        try:
            with engine.begin() as connection:
                connection.execute(sa.text("INSERT INTO notes (body) VALUES (:body)"), {"body": body})
                wrote.set()
            # leaving the block commits: it waits for the reader's shared lock to go
        except Exception as exc:  # noqa: BLE001 - reported to the test below
            errors.append(exc)
            wrote.set()

    thread = threading.Thread(target=write)
    thread.start()
    return thread, wrote, errors


def _bodies(engine) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(sa.text("SELECT body FROM notes ORDER BY id")).scalars())


def test_a_reader_writing_while_another_connection_commits_waits_for_it(engine):
    with engine.connect() as reader:
        assert reader.execute(sa.text("SELECT count(*) FROM notes")).scalar_one() == 1  # a read inside a transaction
        thread, wrote, errors = _commit_in_another_thread(engine, "writer")
        assert wrote.wait(10)
        time.sleep(0.2)  # let the writer reach its commit; not an assertion on time
        reader.execute(sa.text("INSERT INTO notes (body) VALUES ('reader')"))
        reader.commit()
        thread.join(20)
    assert errors == []
    assert sorted(_bodies(engine)) == ["first", "reader", "writer"]


def test_a_savepoint_then_reads_then_a_write_while_another_connection_commits(engine):
    """The shape of the flaky CI failure: a request's INSERT inside a SAVEPOINT got "database is locked"."""
    with engine.connect() as reader:
        reader.exec_driver_sql("SAVEPOINT step")
        assert reader.execute(sa.text("SELECT count(*) FROM notes")).scalar_one() == 1
        thread, wrote, errors = _commit_in_another_thread(engine, "writer")
        wrote.wait(0.5)  # with the write lock taken at the savepoint, the writer waits for this transaction
        reader.execute(sa.text("INSERT INTO notes (body) VALUES ('reader')"))
        reader.exec_driver_sql("RELEASE SAVEPOINT step")
        reader.commit()
        thread.join(20)
    assert errors == []
    assert sorted(_bodies(engine)) == ["first", "reader", "writer"]


def test_an_open_read_does_not_hold_up_another_connections_commit(engine):
    """WAL: a request that read and is busy elsewhere (a bcrypt) does not keep other writers waiting."""
    with engine.connect() as reader:
        assert reader.execute(sa.text("SELECT count(*) FROM notes")).scalar_one() == 1  # its transaction stays open
        with engine.connect() as writer:
            writer.exec_driver_sql("PRAGMA busy_timeout = 100")  # a rollback journal would answer "locked" here
            writer.execute(sa.text("INSERT INTO notes (body) VALUES ('writer')"))
            writer.commit()
        assert reader.execute(sa.text("SELECT count(*) FROM notes")).scalar_one() == 1  # its own snapshot
        reader.rollback()
    assert _bodies(engine) == ["first", "writer"]


def test_a_rolled_back_write_leaves_nothing_and_the_reads_before_it_stay_valid(engine):
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT body FROM notes")).scalars().all() == ["first"]
        connection.execute(sa.text("INSERT INTO notes (body) VALUES ('never')"))
        connection.rollback()
    assert _bodies(engine) == ["first"]


def test_select_for_update_takes_the_write_lock_on_sqlite(engine):
    notes = sa.table("notes", sa.column("id"), sa.column("body"))
    with engine.connect() as holder:
        holder.execute(sa.select(notes.c.body).with_for_update()).all()  # SQLite drops FOR UPDATE from the SQL
        assert holder.exec_driver_sql("SELECT 1").scalar_one() == 1
        with engine.connect() as other:
            other.exec_driver_sql(f"PRAGMA busy_timeout = {100}")
            with pytest.raises(sa.exc.OperationalError, match="locked"):
                other.execute(sa.text("INSERT INTO notes (body) VALUES ('blocked')"))
            other.rollback()
        holder.rollback()
    assert _bodies(engine) == ["first"]


def test_the_application_engine_runs_under_these_rules(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite only: PostgreSQL engines are left alone")
        with db.engine.connect() as connection:
            assert connection.connection.dbapi_connection.isolation_level is None
            timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
    assert timeout == sqlite_transactions.BUSY_TIMEOUT_MS and journal == "wal"
