"""Trigram index on every searchable table's search_text, so a Japanese substring search stays fast at scale:
a pg_trgm GIN index on PostgreSQL, an FTS5 trigram table (external content, rowid = id) kept by triggers on
SQLite, both filled from the existing rows in one statement per table (see app/searchtext.py).

Revision ID: 0025_search_trigram
Revises: 0023_jucho_report_delivery
Create Date: 2026-11-30 10:15:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0025_search_trigram'
down_revision = '0023_jucho_report_delivery'
branch_labels = None
depends_on = None

# Written out here rather than imported: a migration must keep meaning what it meant when it was written.
TABLES = ("mama_associations", "jucho_associations", "jucho_buildings", "jucho_units", "jucho_requests")


def _sqlite_statements(table):
    fts = f"{table}_fts"
    insert = f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text);"  # noqa: S608
    delete = f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text);"  # noqa: S608
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5(search_text, content='{table}', content_rowid='id', "
        "tokenize='trigram case_sensitive 1')",
        f"CREATE TRIGGER {fts}_ai AFTER INSERT ON {table} BEGIN {insert} END",
        f"CREATE TRIGGER {fts}_ad AFTER DELETE ON {table} BEGIN {delete} END",
        f"CREATE TRIGGER {fts}_au AFTER UPDATE OF search_text ON {table} BEGIN {delete} {insert} END",
        f"INSERT INTO {fts}({fts}) VALUES ('rebuild')",  # noqa: S608 - back-fill from the content table at once
    ]


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table in TABLES:
            op.execute(f"CREATE INDEX ix_{table}_search_trgm ON {table} USING gin (search_text gin_trgm_ops)")
    elif dialect == "sqlite":
        for table in TABLES:
            for statement in _sqlite_statements(table):
                op.execute(statement)


def downgrade():
    dialect = op.get_bind().dialect.name
    for table in TABLES:
        if dialect == "postgresql":
            op.execute(f"DROP INDEX IF EXISTS ix_{table}_search_trgm")
        elif dialect == "sqlite":
            for suffix in ("ai", "ad", "au"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            op.execute(f"DROP TABLE IF EXISTS {table}_fts")
