"""Tenant scoping fails closed: no tenant → error; tenant A never sees, changes or moves B's rows."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, User
from app.tenancy import TenantScopeError, all_tenants, tenant_scope
from tests.conftest import csrf_from, login
from tests.plugins.sample_product import SampleNote


def _add_note(app, tenant_id: int, title: str, body: str) -> int:
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, tenant_id)):
            note = SampleNote(title=title, body=body)
            db.session.add(note)
            db.session.commit()
            return note.id


def _raw_note(app, note_id: int):
    """The stored row, read with plain SQL (no ORM, no scoping)."""
    with app.app_context():
        return db.session.execute(
            sa.text("SELECT tenant_id, title, body FROM sample_notes WHERE id = :id"), {"id": note_id}
        ).one()


@pytest.fixture
def two_tenants(app, make_tenant):
    """Tenants A and B with one note each; returns (a, b, a_note_id, b_note_id)."""
    a = make_tenant("tenant-a")
    b = make_tenant("tenant-b")
    a_note = _add_note(app, a.id, "A のメモ", "A の本文")
    b_note = _add_note(app, b.id, "B のメモ", "B の本文")
    return a, b, a_note, b_note


NO_TENANT_STATEMENTS = {
    "select": lambda: sa.select(SampleNote),
    "select one column": lambda: sa.select(SampleNote.title),
    "count(*) from": lambda: sa.select(sa.func.count()).select_from(SampleNote),
    "count(column)": lambda: sa.select(sa.func.count(SampleNote.id)),
    "join through a scoped table": lambda: sa.select(Tenant.code).join(User, User.tenant_id == Tenant.id),
    "update": lambda: sa.update(SampleNote).values(title="x"),
    "delete": lambda: sa.delete(SampleNote),
}


@pytest.mark.parametrize("name", list(NO_TENANT_STATEMENTS))
def test_scoped_statement_without_tenant_raises(app, two_tenants, name):
    with app.app_context():
        with pytest.raises(TenantScopeError):
            db.session.execute(NO_TENANT_STATEMENTS[name]())
        db.session.rollback()
        # nothing was changed or deleted
        assert db.session.execute(sa.text("SELECT count(*) FROM sample_notes WHERE title = 'x'")).scalar() == 0
        assert db.session.execute(sa.text("SELECT count(*) FROM sample_notes")).scalar() == 2


def test_session_get_without_tenant_raises(app, two_tenants):
    _, _, a_note, _ = two_tenants
    with app.app_context():
        with pytest.raises(TenantScopeError):
            db.session.get(SampleNote, a_note)
        with pytest.raises(TenantScopeError):
            db.session.get(User, 1)


def test_new_row_without_tenant_is_refused(app, two_tenants):
    with app.app_context():
        db.session.add(SampleNote(title="迷子", body="どのテナント?"))
        with pytest.raises(TenantScopeError):
            db.session.flush()
        db.session.rollback()
        assert db.session.execute(sa.text("SELECT count(*) FROM sample_notes")).scalar() == 2


def test_tenant_a_cannot_see_tenant_b_rows(app, two_tenants):
    a, b, a_note, b_note = two_tenants
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            assert db.session.get(SampleNote, b_note) is None
            assert db.session.get(SampleNote, a_note).body == "A の本文"
            notes = db.session.execute(sa.select(SampleNote)).scalars().all()
            assert [n.id for n in notes] == [a_note]
            assert db.session.execute(sa.select(sa.func.count()).select_from(SampleNote)).scalar() == 1
            assert db.session.execute(sa.select(sa.func.count(SampleNote.id))).scalar() == 1
            assert db.session.execute(sa.select(SampleNote).where(SampleNote.id == b_note)).first() is None
            # core users too: B's admin has the same login id, only A's is found
            users = db.session.execute(sa.select(User).where(User.login_id == "admin")).scalars().all()
            assert [u.tenant_id for u in users] == [a.id]
            # a non-scoped entity joined to a scoped one is filtered through the join
            codes = db.session.execute(sa.select(Tenant.code).join(User, User.tenant_id == Tenant.id)).scalars().all()
            assert codes == ["tenant-a"]


def test_tenant_a_update_and_delete_do_not_touch_b(app, two_tenants):
    a, b, a_note, b_note = two_tenants
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            result = db.session.execute(sa.update(SampleNote).where(SampleNote.id == b_note).values(title="奪取"))
            assert result.rowcount == 0
            result = db.session.execute(sa.delete(SampleNote).where(SampleNote.id == b_note))
            assert result.rowcount == 0
            # an unfiltered bulk update reaches only A's own row
            result = db.session.execute(sa.update(SampleNote).values(title="全部"))
            assert result.rowcount == 1
            db.session.commit()
    assert _raw_note(app, b_note).title == "B のメモ"
    assert _raw_note(app, a_note).title == "全部"
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            assert db.session.execute(sa.delete(SampleNote)).rowcount == 1
            db.session.commit()
    assert _raw_note(app, b_note).tenant_id == b.id


def test_new_rows_are_stamped_with_current_tenant(app, two_tenants):
    a, b, _, _ = two_tenants
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, b.id)):
            note = SampleNote(title="新規", body="本文")
            db.session.add(note)
            db.session.commit()
            note_id = note.id
    assert _raw_note(app, note_id).tenant_id == b.id


def test_new_row_for_another_tenant_is_refused(app, two_tenants):
    a, b, _, _ = two_tenants
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            db.session.add(SampleNote(title="越境", body="本文", tenant_id=b.id))
            with pytest.raises(TenantScopeError):
                db.session.flush()
            db.session.rollback()
        assert db.session.execute(sa.text("SELECT count(*) FROM sample_notes WHERE title = '越境'")).scalar() == 0


def test_changing_tenant_id_of_stored_row_is_refused(app, two_tenants):
    a, b, a_note, _ = two_tenants
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            note = db.session.get(SampleNote, a_note)
            note.tenant_id = b.id
            with pytest.raises(TenantScopeError):
                db.session.flush()
            db.session.rollback()
            # the same move through an UPDATE statement is refused too
            with pytest.raises(TenantScopeError):
                db.session.execute(sa.update(SampleNote).where(SampleNote.id == a_note).values(tenant_id=b.id))
            db.session.rollback()
            with pytest.raises(TenantScopeError):
                db.session.execute(sa.update(SampleNote), [{"id": a_note, "tenant_id": b.id}])
            db.session.rollback()
    assert _raw_note(app, a_note).tenant_id == a.id


def test_all_tenants_block_opts_out(app, two_tenants):
    a, b, a_note, b_note = two_tenants
    with app.app_context():
        with all_tenants():
            rows = db.session.execute(sa.select(SampleNote.id, SampleNote.tenant_id).order_by(SampleNote.id)).all()
            assert [tuple(r) for r in rows] == [(a_note, a.id), (b_note, b.id)]
            assert db.session.execute(sa.select(sa.func.count()).select_from(SampleNote)).scalar() == 2
        # the opt-out ends with the block
        with pytest.raises(TenantScopeError):
            db.session.execute(sa.select(SampleNote.id))


def test_execution_option_opts_out(app, two_tenants):
    a, b, a_note, b_note = two_tenants
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            ids = db.session.execute(
                sa.select(SampleNote.id).order_by(SampleNote.id).execution_options(all_tenants=True)
            ).scalars().all()
            assert ids == [a_note, b_note]
            # only that statement: the next one is scoped again
            assert db.session.execute(sa.select(SampleNote.id)).scalars().all() == [a_note]


def test_http_foreign_note_ids_answer_404(app, client, two_tenants):
    a, b, a_note, b_note = two_tenants
    login(client, a.code, a.admin_login)

    own = client.get(f"/sample/notes/{a_note}")
    assert own.status_code == 200
    assert own.get_json()["body"] == "A の本文"
    listing = client.get("/sample/notes").get_json()["notes"]
    assert [n["id"] for n in listing] == [a_note]

    foreign = client.get(f"/sample/notes/{b_note}")
    assert foreign.status_code == 404
    assert "B の" not in foreign.get_data(as_text=True)
    # same answer as an id that does not exist at all: no existence oracle
    assert client.get("/sample/notes/999999").status_code == 404

    token = csrf_from(client.get("/").get_data(as_text=True))
    edit = client.post(f"/sample/notes/{b_note}/edit", data={"csrf_token": token, "title": "奪取"})
    assert edit.status_code == 404
    assert tuple(_raw_note(app, b_note))[:2] == (b.id, "B のメモ")

    # the same POST on A's own note works, so the 404 above is the tenant boundary
    ok = client.post(f"/sample/notes/{a_note}/edit", data={"csrf_token": token, "title": "変更"})
    assert ok.status_code == 200
    assert _raw_note(app, a_note).title == "変更"


def test_tenant_models_lists_every_tenant_owned_table_children_first(app):
    """Export and purge need every tenant-owned table of the core and the plugins, children before parents."""
    from app.tenancy import TenantScoped, tenant_models

    models = tenant_models()
    tables = [cls.__table__ for cls in models]
    everything = {m.class_ for m in db.Model.registry.mappers if issubclass(m.class_, TenantScoped)}
    assert set(models) == everything and len(models) == len(everything)
    assert {"users", "user_sessions", "pending_logins", "mama_associations", "jucho_buildings"} <= {
        t.name for t in tables}
    for index, table in enumerate(tables):
        for key in table.foreign_keys:
            parent = key.column.table
            if parent in tables and parent is not table:
                assert tables.index(parent) > index, f"{table.name} must come before {parent.name}"
