"""重調 物件: the address split like MAMA's — 郵便番号, 都道府県, 市区町村, 町域・番地, 建物名 instead of one 所在地 line

Revision ID: 0019_jucho_building_address
Revises: 0014_trash_and_search

Existing addresses are split by app.address.split_address: a known prefecture at the start, then the 市区町村;
whatever cannot be split stays whole in 町域・番地 (nothing is lost, a person completes it). The postcode and the
building name start empty. search_text is rewritten for every row, with the field lists written out here as they
are at this revision. Downgrade joins the parts back into one line.
"""
from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

revision = "0019_jucho_building_address"
down_revision = "0017_mama_permission_levels"
branch_labels = None
depends_on = None

NEW_FIELDS = ("name", "kana", "postal_code", ("prefecture", "city", "address_line"), "building_name")
OLD_FIELDS = ("name", "kana", "address")
PARTS = ("postal_code", "prefecture", "city", "address_line", "building_name")
BATCH = 1000


def _rows(table):
    bind = op.get_bind()
    last = 0
    while True:
        rows = bind.execute(sa.select(table).where(table.c.id > last).order_by(table.c.id).limit(BATCH)).mappings().all()
        if not rows:
            return
        yield from rows
        last = rows[-1]["id"]


def upgrade():
    from app.address import split_address
    from app.searchtext import search_text_of

    with op.batch_alter_table("jucho_buildings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("postal_code", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("prefecture", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("address_line", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("building_name", sa.String(length=200), nullable=True))
    table = sa.table("jucho_buildings", sa.column("id", sa.Integer), sa.column("name"), sa.column("kana"),
                     sa.column("address"), sa.column("search_text"), *[sa.column(name) for name in PARTS])
    shape = SimpleNamespace(__search_fields__=NEW_FIELDS)
    bind = op.get_bind()
    for row in _rows(table):
        split = split_address(row["address"])
        values = {"postal_code": "", "prefecture": split.prefecture, "city": split.city,
                  "address_line": split.address_line, "building_name": ""}
        text = search_text_of(shape, lambda name, row=row, values=values: values.get(name, row.get(name)))
        bind.execute(table.update().where(table.c.id == row["id"]).values(search_text=text, **values))
    with op.batch_alter_table("jucho_buildings", schema=None) as batch_op:
        for name, length in (("postal_code", 8), ("prefecture", 8), ("city", 100), ("address_line", 300),
                             ("building_name", 200)):
            batch_op.alter_column(name, existing_type=sa.String(length=length), nullable=False)
        batch_op.drop_column("address")


def downgrade():
    from app.searchtext import search_text_of

    with op.batch_alter_table("jucho_buildings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("address", sa.String(length=300), nullable=True))
    table = sa.table("jucho_buildings", sa.column("id", sa.Integer), sa.column("name"), sa.column("kana"),
                     sa.column("address"), sa.column("search_text"), *[sa.column(name) for name in PARTS])
    shape = SimpleNamespace(__search_fields__=OLD_FIELDS)
    bind = op.get_bind()
    for row in _rows(table):
        line = f"{row['prefecture'] or ''}{row['city'] or ''}{row['address_line'] or ''}"
        address = (f"{line} {row['building_name']}" if row["building_name"] else line)[:300]
        text = search_text_of(shape, lambda name, row=row, address=address: address if name == "address" else row.get(name))
        bind.execute(table.update().where(table.c.id == row["id"]).values(address=address, search_text=text))
    with op.batch_alter_table("jucho_buildings", schema=None) as batch_op:
        batch_op.alter_column("address", existing_type=sa.String(length=300), nullable=False)
        for name in reversed(PARTS):
            batch_op.drop_column(name)
