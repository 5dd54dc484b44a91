"""Field encryption at rest, ciphertexts bound to tenant and column, blind index, key rotation."""
from __future__ import annotations

import json
import shutil

import pytest
import sqlalchemy as sa

from app import create_app
from app.accounts import find_user_by_email
from app.crypto import DecryptionError, RowBindingError, bind_rows, label_encrypted_columns, new_row_key
from app.extensions import db
from app.mailer import ERASED, MailOutbox, open_row, send_mail
from app.models import Tenant, User
from app.tenancy import tenant_scope
from app.timeutil import utcnow
from tests.plugins.sample_product import SampleNote

NAME = "山田 花子"
EMAIL = "Hanako.Yamada@Example.JP"


def _raw(app, sql: str, **params):
    with app.app_context():
        return db.session.execute(sa.text(sql), params).all()


def _user_id(app, tenant_id: int, login_id: str) -> int:
    return _raw(app, "SELECT id FROM users WHERE tenant_id = :t AND login_id = :l", t=tenant_id, l=login_id)[0][0]


def _load_user(app, tenant_id: int, user_id: int):
    """Load a user through the ORM (decrypting) as its tenant; returns (name, email)."""
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, tenant_id)):
            user = db.session.get(User, user_id)
            return user.name, user.email


def _add_note(app, tenant_id: int, body: str) -> int:
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, tenant_id)):
            note = SampleNote(title="題", body=body)
            db.session.add(note)
            db.session.commit()
            return note.id


@pytest.fixture
def tenants(app, make_tenant, add_user):
    a = make_tenant("crypt-a")
    b = make_tenant("crypt-b")
    add_user("crypt-a", "hanako", email=EMAIL)
    add_user("crypt-b", "hanako", email=EMAIL)
    with app.app_context():
        for tenant_id in (a.id, b.id):
            with tenant_scope(db.session.get(Tenant, tenant_id)):
                user = db.session.execute(sa.select(User).where(User.login_id == "hanako")).scalar_one()
                user.name = NAME
                db.session.commit()
    return a, b


def test_database_holds_no_plaintext_pii(app, tenants):
    a, _ = tenants
    _add_note(app, a.id, "理事長の電話番号 090-1234-5678")
    rows = _raw(app, "SELECT name, email, email_bidx FROM users")
    assert len(rows) == 4
    dump = json.dumps([list(r) for r in rows], ensure_ascii=False)
    for plain in (NAME, "山田", "管理 太郎", EMAIL, EMAIL.lower(), "hanako.yamada", "example.jp", "crypt-a.example.jp"):
        assert plain.lower() not in dump.lower()
    for name, email, _bidx in rows:
        assert name.startswith("k1$") and email.startswith("k1$")
    notes = _raw(app, "SELECT title, body FROM sample_notes")
    assert "090-1234-5678" not in notes[0].body and notes[0].body.startswith("k1$")
    # the ORM still reads the plaintext
    assert _load_user(app, a.id, _user_id(app, a.id, "hanako")) == (NAME, EMAIL)


def test_ciphertext_moved_to_another_tenant_fails_to_decrypt(app, tenants):
    a, b = tenants
    a_user, b_user = _user_id(app, a.id, "hanako"), _user_id(app, b.id, "hanako")
    [(a_name,)] = _raw(app, "SELECT name FROM users WHERE id = :id", id=a_user)
    with app.app_context():
        db.session.execute(sa.text("UPDATE users SET name = :v WHERE id = :id"), {"v": a_name, "id": b_user})
        db.session.commit()
    with pytest.raises(DecryptionError):
        _load_user(app, b.id, b_user)
    # the original row still decrypts: the failure is the move, not the value
    assert _load_user(app, a.id, a_user)[0] == NAME


def test_note_body_moved_to_another_tenant_fails_to_decrypt(app, tenants):
    a, b = tenants
    a_note, b_note = _add_note(app, a.id, "A の秘密"), _add_note(app, b.id, "B の秘密")
    with app.app_context():
        db.session.execute(sa.text("UPDATE sample_notes SET body = (SELECT body FROM sample_notes WHERE id = :src) "
                                   "WHERE id = :dst"), {"src": a_note, "dst": b_note})
        db.session.commit()
        with tenant_scope(db.session.get(Tenant, b.id)):
            with pytest.raises(DecryptionError):
                db.session.get(SampleNote, b_note)


def test_ciphertext_moved_to_another_row_of_the_same_tenant_fails_to_decrypt(app, tenants, add_user):
    """A database writer copies hanako's e-mail ciphertext onto taro's row (same column, same tenant)."""
    a, _ = tenants
    add_user("crypt-a", "taro", email="taro@example.jp")
    hanako, taro = _user_id(app, a.id, "hanako"), _user_id(app, a.id, "taro")
    with app.app_context():
        db.session.execute(sa.text("UPDATE users SET email = (SELECT email FROM users WHERE id = :src) WHERE id = :dst"),
                           {"src": hanako, "dst": taro})
        db.session.commit()
    with pytest.raises(DecryptionError):
        _load_user(app, a.id, taro)
    assert _load_user(app, a.id, hanako) == (NAME, EMAIL)  # the source row is untouched and still reads


def test_ciphertexts_swapped_between_two_rows_fail_to_decrypt(app, tenants, add_user):
    a, _ = tenants
    add_user("crypt-a", "taro", email="taro@example.jp")
    hanako, taro = _user_id(app, a.id, "hanako"), _user_id(app, a.id, "taro")
    [(hanako_email,)] = _raw(app, "SELECT email FROM users WHERE id = :id", id=hanako)
    [(taro_email,)] = _raw(app, "SELECT email FROM users WHERE id = :id", id=taro)
    with app.app_context():
        for user_id, value in ((hanako, taro_email), (taro, hanako_email)):
            db.session.execute(sa.text("UPDATE users SET email = :v WHERE id = :id"), {"v": value, "id": user_id})
        db.session.commit()
    for user_id in (hanako, taro):
        with pytest.raises(DecryptionError):
            _load_user(app, a.id, user_id)


def test_note_body_moved_to_another_note_of_the_same_tenant_fails_to_decrypt(app, tenants):
    a, _ = tenants
    first, second = _add_note(app, a.id, "一件目の秘密"), _add_note(app, a.id, "二件目の秘密")
    with app.app_context():
        db.session.execute(sa.text("UPDATE sample_notes SET body = (SELECT body FROM sample_notes WHERE id = :src) "
                                   "WHERE id = :dst"), {"src": first, "dst": second})
        db.session.commit()
        with tenant_scope(db.session.get(Tenant, a.id)):
            with pytest.raises(DecryptionError):
                db.session.execute(sa.select(SampleNote).where(SampleNote.id == second)).scalar_one()
            with pytest.raises(DecryptionError):  # the object left in the session never shows the ciphertext
                assert db.session.get(SampleNote, second).body is None
            db.session.rollback()
            assert db.session.get(SampleNote, first).body == "一件目の秘密"


def test_ciphertext_moved_with_its_row_key_to_another_tenant_fails_to_decrypt(app, tenants):
    """Even the row key copied along cannot carry a value into another tenant: the tenant is bound too."""
    a, b = tenants
    a_user, b_user = _user_id(app, a.id, "hanako"), _user_id(app, b.id, "hanako")
    [(row_key, name)] = _raw(app, "SELECT row_key, name FROM users WHERE id = :id", id=a_user)
    with app.app_context():
        db.session.execute(sa.text("UPDATE users SET row_key = :k, name = :n, email = NULL WHERE id = :id"),
                           {"k": new_row_key(), "n": "x", "id": a_user})  # row keys are unique
        db.session.execute(sa.text("UPDATE users SET row_key = :k, name = :n WHERE id = :id"),
                           {"k": row_key, "n": name, "id": b_user})
        db.session.commit()
    with pytest.raises(DecryptionError):
        _load_user(app, b.id, b_user)


def test_every_row_gets_its_own_random_immutable_row_key(app, tenants, add_user):
    a, _ = tenants
    add_user("crypt-a", "taro")
    keys = [key for (key,) in _raw(app, "SELECT row_key FROM users")]
    assert len(keys) == 5 and len(set(keys)) == 5
    assert all(isinstance(key, str) and len(key) == 22 for key in keys)  # 16 random bytes, url-safe base64
    hanako = _user_id(app, a.id, "hanako")
    [(before,)] = _raw(app, "SELECT row_key FROM users WHERE id = :id", id=hanako)
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            user = db.session.get(User, hanako)
            user.name = "山田 太郎"
            db.session.commit()
            assert user.row_key == before  # an update keeps the row key
            user.row_key = "changed-by-someone"
            with pytest.raises(RowBindingError):
                db.session.commit()
            db.session.rollback()
    assert _raw(app, "SELECT row_key FROM users WHERE id = :id", id=hanako) == [(before,)]
    assert _load_user(app, a.id, hanako) == ("山田 太郎", EMAIL)


def test_writing_an_encrypted_column_around_the_orm_is_refused(app, tenants):
    """A Core UPDATE cannot know the row's key, so it may not write an encrypted column."""
    a, _ = tenants
    hanako = _user_id(app, a.id, "hanako")
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            with pytest.raises(sa.exc.StatementError) as caught:
                db.session.execute(sa.update(User).where(User.id == hanako).values(name="上書き"))
            assert isinstance(caught.value.orig, RowBindingError)
            db.session.rollback()
    assert _load_user(app, a.id, hanako) == (NAME, EMAIL)


def test_bulk_insert_with_bound_rows(app, tenants):
    a, _ = tenants
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            rows = bind_rows(SampleNote, [{"title": f"一括{n}", "body": f"本文{n}"} for n in range(3)])
            db.session.execute(sa.insert(SampleNote), rows)
            db.session.commit()
            notes = db.session.execute(sa.select(SampleNote).order_by(SampleNote.id)).scalars().all()
            assert [(n.title, n.body) for n in notes] == [(f"一括{n}", f"本文{n}") for n in range(3)]
            assert len({n.row_key for n in notes}) == 3
            with pytest.raises(sa.exc.StatementError):  # plain values without bind_rows are refused
                db.session.execute(sa.insert(SampleNote), [{"title": "生", "body": "平文", "tenant_id": a.id}])
            db.session.rollback()
    bodies = [body for (body,) in _raw(app, "SELECT body FROM sample_notes")]
    assert len(bodies) == 3 and all(body.startswith("k1$") and "本文" not in body for body in bodies)


def test_every_way_the_orm_loads_a_row_decrypts_it(app, tenants):
    """Full load, a column left out by load_only and fetched later, refresh after commit, populate_existing."""
    a, _ = tenants
    note_id = _add_note(app, a.id, "本文")
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            note = db.session.execute(sa.select(SampleNote).options(sa.orm.load_only(SampleNote.title))).scalar_one()
            assert "body" not in note.__dict__ and "row_key" not in note.__dict__
            assert note.body == "本文"  # deferred column: loaded and opened with the row key on access
            note.body = "変更"
            db.session.commit()
            assert type(note.body) is str and note.body == "変更"  # expired, reloaded, opened
            db.session.execute(sa.select(SampleNote).execution_options(populate_existing=True)).scalar_one()
            assert note.body == "変更"
            db.session.expire(note, ["body"])
            assert note.body == "変更"
            db.session.refresh(note)
            assert note.body == "変更" and note.id == note_id
            fresh = SampleNote(title="新規", body="新しい本文")
            db.session.add(fresh)
            db.session.flush()
            assert type(fresh.body) is str and fresh.body == "新しい本文"  # plain str again after the flush
            db.session.commit()


def test_ciphertext_moved_to_another_column_fails_to_decrypt(app, tenants):
    a, _ = tenants
    user_id = _user_id(app, a.id, "hanako")
    with app.app_context():
        db.session.execute(sa.text("UPDATE users SET name = email WHERE id = :id"), {"id": user_id})
        db.session.commit()
    with pytest.raises(DecryptionError):
        _load_user(app, a.id, user_id)


def test_tampered_ciphertext_fails_to_decrypt(app, tenants):
    a, _ = tenants
    user_id = _user_id(app, a.id, "hanako")
    [(name,)] = _raw(app, "SELECT name FROM users WHERE id = :id", id=user_id)
    kid, _, body = name.partition("$")
    flipped = body[:-4] + ("AAAA" if body[-4:] != "AAAA" else "BBBB")
    with app.app_context():
        db.session.execute(sa.text("UPDATE users SET name = :v WHERE id = :id"), {"v": f"{kid}${flipped}", "id": user_id})
        db.session.commit()
    with pytest.raises(DecryptionError):
        _load_user(app, a.id, user_id)


def test_blind_index_finds_user_case_insensitively(app, tenants):
    a, b = tenants
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            for variant in (EMAIL, EMAIL.upper(), EMAIL.lower(), f"  {EMAIL}  ", "ｈａｎａｋｏ.yamada@example.jp"):
                user = find_user_by_email(variant)
                assert user is not None and user.login_id == "hanako" and user.tenant_id == a.id, variant
            assert find_user_by_email("someone.else@example.jp") is None
    rows = _raw(app, "SELECT tenant_id, email_bidx FROM users WHERE login_id = 'hanako' ORDER BY tenant_id")
    (ta, bidx_a), (tb, bidx_b) = rows
    assert (ta, tb) == (a.id, b.id)
    assert bidx_a != bidx_b  # same address, different tenant: not linkable across tenants
    assert len(bidx_a) == 64 and EMAIL.lower() not in bidx_a


@pytest.fixture
def own_keyset_app(app, base_config, tmp_path):
    """A second app on the same database with its own copy of the keyset file (rotation must not
    touch the session-wide keyset)."""
    keyset_file = tmp_path / "k.json"
    shutil.copy(base_config["KANRI_KEYSET_FILE"], keyset_file)
    rotating = create_app({**base_config, "KANRI_KEYSET_FILE": str(keyset_file)})
    yield rotating, keyset_file
    with rotating.app_context():
        db.session.remove()
        db.engine.dispose()


def test_keys_rotate_reencrypts_everything(app, tenants, own_keyset_app):
    a, b = tenants
    rotating, keyset_file = own_keyset_app
    _add_note(app, a.id, "A のノート")
    _add_note(app, b.id, "B のノート")
    a_user = _user_id(app, a.id, "hanako")
    [(old_name,)] = _raw(app, "SELECT name FROM users WHERE id = :id", id=a_user)
    assert old_name.startswith("k1$")

    row_keys = _raw(app, "SELECT id, row_key FROM users ORDER BY id")

    result = rotating.test_cli_runner().invoke(args=["keys", "rotate", "--reason", "定期の鍵更新",
                                                     "--operator", "ops-kato"])
    assert result.exit_code == 0, result.output
    assert "k2" in result.output
    # Every tenant's 操作ログ says an operator touched its encrypted data, and why.
    accesses = _raw(app, "SELECT chain_id, actor_login, details FROM audit_events WHERE action = 'operator.access'"
                         " ORDER BY chain_id")
    assert [(chain, actor) for chain, actor, _ in accesses] == [(a.id, "operator:ops-kato"), (b.id, "operator:ops-kato")]
    assert all(json.loads(details)["command"] == "keys rotate" and json.loads(details)["reason"] == "定期の鍵更新"
               and json.loads(details)["key_id"] == "k2" for _, _, details in accesses)

    saved = json.loads(keyset_file.read_text())
    assert saved["aead"]["primary"] == "k2"
    assert set(saved["aead"]["keys"]) == {"k1", "k2"}
    assert keyset_file.stat().st_mode & 0o077 == 0

    with rotating.app_context():
        columns = label_encrypted_columns(db.metadata)
    assert ("users", "name") in columns and ("sample_notes", "body") in columns
    seen = 0
    for table, column in columns:
        for (value,) in _raw(rotating, f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"):  # noqa: S608
            assert value.startswith("k2$"), (table, column, value[:8])
            seen += 1
    assert seen >= 4 * 2 + 2  # names and e-mails of four users, two note bodies

    # every value still decrypts with the rotated keyset
    assert _load_user(rotating, a.id, a_user) == (NAME, EMAIL)
    with rotating.app_context():
        for tenant_id, expected in ((a.id, "A のノート"), (b.id, "B のノート")):
            with tenant_scope(db.session.get(Tenant, tenant_id)):
                assert [n.body for n in db.session.execute(sa.select(SampleNote)).scalars()] == [expected]

    # a ciphertext made before the rotation (a restored backup, say) still decrypts
    with rotating.app_context():
        db.session.execute(sa.text("UPDATE users SET name = :v WHERE id = :id"), {"v": old_name, "id": a_user})
        db.session.commit()
    assert _load_user(rotating, a.id, a_user)[0] == NAME

    # the re-encrypted values stay bound to their rows: row keys kept, a moved value still fails
    assert _raw(rotating, "SELECT id, row_key FROM users ORDER BY id") == row_keys
    admin_id = _user_id(rotating, a.id, "admin")
    with rotating.app_context():
        db.session.execute(sa.text("UPDATE users SET email = (SELECT email FROM users WHERE id = :src) WHERE id = :dst"),
                           {"src": a_user, "dst": admin_id})
        db.session.commit()
    with pytest.raises(DecryptionError):
        _load_user(rotating, a.id, admin_id)


@pytest.mark.config(KANRI_MAIL_THREAD=False)
def test_keys_rotate_reencrypts_the_mail_outbox_and_leaves_erased_bodies_erased(app, tenants, own_keyset_app):
    rotating, _keyset_file = own_keyset_app
    with app.test_request_context():
        waiting = send_mail("waiting@example.jp", "件名", "password_changed", user=_MailUser(), tenant=_MailTenant(),
                            changed_at=utcnow())
        delivered = send_mail("delivered@example.jp", "件名", "password_changed", user=_MailUser(),
                              tenant=_MailTenant(), changed_at=utcnow(), secret=True)
        db.session.flush()
        delivered.status, delivered.body_text, delivered.body_html = "sent", ERASED, ERASED
        db.session.commit()
        waiting_id = waiting.id
    assert _raw(app, "SELECT recipients FROM mail_outbox WHERE id = :id", id=waiting_id)[0][0].startswith("k1$")

    result = rotating.test_cli_runner().invoke(args=["keys", "rotate", "--reason", "定期の鍵更新"])
    assert result.exit_code == 0, result.output

    rows = _raw(app, "SELECT id, recipients, body_text, body_html FROM mail_outbox ORDER BY id")
    assert [row[1][:3] for row in rows] == ["k2$", "k2$"]
    assert [row[2:] for row in rows if row[0] != waiting_id] == [(ERASED, ERASED)]
    with rotating.app_context():
        outgoing = open_row(db.session.get(MailOutbox, waiting_id))
    assert outgoing.recipients == ["waiting@example.jp"] and "パスワード" in outgoing.body_text


class _MailUser:
    name = "山田 太郎"
    login_id = "yamada"


class _MailTenant:
    name = "テスト管理株式会社"


def test_keys_reencrypt_keeps_the_row_binding(app, tenants, runner):
    a, _ = tenants
    note = _add_note(app, a.id, "再暗号化のノート")
    before = _raw(app, "SELECT id, row_key, name, email FROM users ORDER BY id")

    result = runner.invoke(args=["keys", "reencrypt", "--reason", "テスト"])
    assert result.exit_code == 0, result.output
    assert "5 行を再暗号化しました" in result.output  # four users and one note

    after = _raw(app, "SELECT id, row_key, name, email FROM users ORDER BY id")
    assert [(r.id, r.row_key) for r in after] == [(r.id, r.row_key) for r in before]
    for old, new in zip(before, after, strict=True):
        assert new.name != old.name and new.email != old.email  # fresh nonces: really rewritten
    hanako, admin_id = _user_id(app, a.id, "hanako"), _user_id(app, a.id, "admin")
    assert _load_user(app, a.id, hanako) == (NAME, EMAIL)
    with app.app_context():
        with tenant_scope(db.session.get(Tenant, a.id)):
            assert db.session.get(SampleNote, note).body == "再暗号化のノート"
        db.session.execute(sa.text("UPDATE users SET name = (SELECT name FROM users WHERE id = :src) WHERE id = :dst"),
                           {"src": hanako, "dst": admin_id})
        db.session.commit()
    with pytest.raises(DecryptionError):
        _load_user(app, a.id, admin_id)


def test_keys_rotate_refused_when_keyset_comes_from_environment(app, base_config, tmp_path):
    keyset_file = tmp_path / "k.json"
    shutil.copy(base_config["KANRI_KEYSET_FILE"], keyset_file)
    before = keyset_file.read_text()
    env_app = create_app({**base_config, "KANRI_KEYSET": before, "KANRI_KEYSET_FILE": str(keyset_file)})
    try:
        result = env_app.test_cli_runner().invoke(args=["keys", "rotate", "--reason", "テスト"])
    finally:
        with env_app.app_context():
            db.session.remove()
            db.engine.dispose()
    assert result.exit_code == 2
    assert "KANRI_KEYSET" in result.output
    assert keyset_file.read_text() == before
