"""Field encryption (AES-256-GCM bound to table, column, tenant and row) and keyed blind indexes.

Every row of a table with an ``EncryptedText`` column carries a random, immutable ``row_key``
(added by ``TenantScoped``). The associated data of each ciphertext is
``table.column|tenant=<tenant_id>|row=<row_key>``, so a ciphertext copied into another row,
column or tenant fails to decrypt. A column type never sees the rest of its row, so the binding
happens at the ORM level: ``before_insert``/``before_update`` hand each value to the column type
as a ``BoundText`` (plaintext plus its row's binding), and the column type returns what it reads
as ``Sealed`` ciphertext, which the ``load``/``refresh`` events open with the loaded row's key.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import event, inspect
from sqlalchemy.orm import defer, mapped_column
from sqlalchemy.orm.attributes import instance_dict

from .tenancy import TenantScoped, TenantScopeError, current_tenant_id

NONCE_BYTES = 12
KEY_BYTES = 32
ROW_KEY_BYTES = 16
ROW_KEY_LENGTH = 22  # url-safe base64 of ROW_KEY_BYTES, no padding


class DecryptionError(RuntimeError):
    """A ciphertext failed authentication: wrong key, tampered, or moved to another row or tenant."""


class KeysetError(RuntimeError):
    """The keyset is missing or malformed."""


class RowBindingError(RuntimeError):
    """An encrypted column was written or read without its row (a Core statement), or a row key changed."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text.encode("ascii"))


@dataclass
class Keyset:
    """AEAD keys (one primary, older ones still decrypt), a blind-index key and the password pepper."""

    primary: str
    keys: dict[str, bytes]
    blind_index_key: bytes
    pepper: bytes
    _ciphers: dict[str, AESGCM] = field(default_factory=dict, repr=False)

    @classmethod
    def generate(cls) -> Keyset:
        """Return a fresh keyset with one AEAD key."""
        return cls(
            primary="k1",
            keys={"k1": AESGCM.generate_key(bit_length=256)},
            blind_index_key=secrets.token_bytes(KEY_BYTES),
            pepper=secrets.token_bytes(KEY_BYTES),
        )

    @classmethod
    def from_json(cls, text: str) -> Keyset:
        """Parse the keyset's JSON form."""
        try:
            data = json.loads(text)
            keys = {kid: _unb64(value) for kid, value in data["aead"]["keys"].items()}
            keyset = cls(
                primary=data["aead"]["primary"],
                keys=keys,
                blind_index_key=_unb64(data["blind_index_key"]),
                pepper=_unb64(data["pepper"]),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise KeysetError("keyset is not valid JSON of the expected shape") from exc
        if keyset.primary not in keyset.keys or any(len(k) != KEY_BYTES for k in keyset.keys.values()):
            raise KeysetError("keyset primary key is missing or a key has the wrong length")
        return keyset

    def to_json(self) -> str:
        """Serialise the keyset (secret material: write it only to protected storage)."""
        return json.dumps(
            {
                "aead": {"primary": self.primary, "keys": {k: _b64(v) for k, v in self.keys.items()}},
                "blind_index_key": _b64(self.blind_index_key),
                "pepper": _b64(self.pepper),
            },
            indent=2,
        )

    def rotated(self) -> Keyset:
        """Return a copy with a new primary AEAD key; the old keys stay for decryption."""
        number = 1 + max(int(kid.lstrip("k")) for kid in self.keys)
        kid = f"k{number}"
        keys = dict(self.keys)
        keys[kid] = AESGCM.generate_key(bit_length=256)
        return Keyset(primary=kid, keys=keys, blind_index_key=self.blind_index_key, pepper=self.pepper)

    def _cipher(self, kid: str) -> AESGCM:
        if kid not in self._ciphers:
            self._ciphers[kid] = AESGCM(self.keys[kid])
        return self._ciphers[kid]

    def encrypt(self, plaintext: str, associated_data: str) -> str:
        """Encrypt text under the primary key; returns 'kid$base64(nonce|ciphertext)'."""
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._cipher(self.primary).encrypt(nonce, plaintext.encode("utf-8"), associated_data.encode())
        return f"{self.primary}${_b64(nonce + sealed)}"

    def decrypt(self, token: str, associated_data: str) -> str:
        """Decrypt a value made by encrypt with the same associated data."""
        kid, _, body = token.partition("$")
        if kid not in self.keys or not body:
            raise DecryptionError("unknown key id or malformed ciphertext")
        raw = _unb64(body)
        try:
            plain = self._cipher(kid).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], associated_data.encode())
        except InvalidTag as exc:
            raise DecryptionError("ciphertext does not belong to this row, column and tenant") from exc
        return plain.decode("utf-8")

    def key_id_of(self, token: str) -> str:
        """Return the id of the key a ciphertext was made with."""
        return token.partition("$")[0]


def load_keyset(config: dict) -> Keyset:
    """Load the keyset from KANRI_KEYSET (JSON) or KANRI_KEYSET_FILE; create the file in development."""
    if config.get("KANRI_KEYSET"):
        return Keyset.from_json(config["KANRI_KEYSET"])
    path = Path(config["KANRI_KEYSET_FILE"])
    if not path.exists():
        if config.get("KANRI_ENV") == "production":
            raise KeysetError(f"keyset file {path} is missing")
        save_keyset(path, Keyset.generate())
    return Keyset.from_json(path.read_text())


def save_keyset(path: Path, keyset: Keyset) -> None:
    """Write the keyset atomically with owner-only permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(keyset.to_json())
    tmp.replace(path)


def keyset() -> Keyset:
    """Return the running application's keyset."""
    return current_app.extensions["kanri_keyset"]


def normalize_email(value: str) -> str:
    """Normalise an e-mail address for comparison and blind indexing."""
    return unicodedata.normalize("NFKC", value).strip().lower()


def blind_index(value: str, purpose: str = "email", tenant_id: int | None = None) -> str:
    """Return a keyed HMAC of value for equality lookups without storing plaintext."""
    tenant_id = current_tenant_id() if tenant_id is None else tenant_id
    if tenant_id is None:
        raise TenantScopeError("blind index needs a current tenant")
    message = f"{purpose}|{tenant_id}|{normalize_email(value)}".encode()
    return hmac.new(keyset().blind_index_key, message, hashlib.sha256).hexdigest()


def new_row_key() -> str:
    """A fresh random row key: 16 bytes from the CSPRNG, url-safe base64 (22 characters)."""
    return secrets.token_urlsafe(ROW_KEY_BYTES)


def associated_data(context: str, tenant_id: int, row_key: str) -> str:
    """The associated data binding a ciphertext to its table.column, tenant and row."""
    return f"{context}|tenant={tenant_id}|row={row_key}"


class BoundText(str):
    """Plaintext on its way into one EncryptedText column of one row (made at flush time or by bind_rows)."""

    def __new__(cls, value: str, context: str, tenant_id: int, row_key: str):
        bound = super().__new__(cls, value)
        bound.context, bound.tenant_id, bound.row_key = context, tenant_id, row_key
        return bound


class Sealed:
    """A ciphertext as read from an EncryptedText column; the ORM opens it with its row's key on load."""

    __slots__ = ("token",)

    def __init__(self, token: str):
        self.token = token

    def __repr__(self) -> str:
        return "<Sealed ciphertext>"

    def __str__(self) -> str:
        raise RowBindingError("an encrypted column was read without its row: select the ORM entity, not the column")


class EncryptedText(sa.types.TypeDecorator):
    """A text column stored encrypted; the associated data binds table, column, tenant and row.

    Declare it on a TenantScoped model: ``name = mapped_column(EncryptedText())``; the model then
    gets a ``row_key`` column automatically. The table and column names are attached by
    ``label_encrypted_columns`` at start-up. Values are written and read through the ORM entity;
    a Core statement that writes plaintext into the column is refused (``RowBindingError``) —
    bulk inserts prepare their rows with ``bind_rows``.
    """

    impl = sa.Text
    cache_ok = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.context: str | None = None

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, BoundText):
            raise RowBindingError(f"{self.context}: an encrypted column is written through its ORM entity "
                                  "(or rows prepared with app.crypto.bind_rows), never as bare plaintext")
        if value.context != self.context:
            raise RowBindingError(f"a value bound to {value.context} cannot be written to {self.context}")
        return keyset().encrypt(str(value), associated_data(self.context, value.tenant_id, value.row_key))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return Sealed(value)


def row_key_column(cls):
    """The row_key column for a TenantScoped class that declares an EncryptedText column, else None."""
    for klass in cls.__mro__:
        for value in vars(klass).values():
            column = getattr(value, "column", value)  # a MappedColumn wraps its Column
            if isinstance(column, sa.Column) and isinstance(column.type, EncryptedText):
                return mapped_column(sa.String(ROW_KEY_LENGTH), default=new_row_key, nullable=False, unique=True)
    return None


_ENCRYPTED_ATTRS: dict = {}
_ENCRYPTED_BY_CLASS: dict = {}  # model class -> encrypted_attributes of its mapper (the load event's fast path)


def encrypted_attributes(mapper) -> tuple[tuple[str, EncryptedText], ...]:
    """(attribute name, column type) of every EncryptedText column the mapper maps."""
    if mapper not in _ENCRYPTED_ATTRS:
        _ENCRYPTED_ATTRS[mapper] = tuple(
            (prop.key, column.type) for prop in mapper.column_attrs for column in prop.columns
            if isinstance(column.type, EncryptedText))
    return _ENCRYPTED_ATTRS[mapper]


def defer_encrypted(model, keep: tuple = ()) -> list:
    """Loader options leaving model's encrypted columns (but those named in keep) out of a query: a list page
    that does not show them decrypts nothing. Reading one later loads and opens it, still bound to its row."""
    return [defer(getattr(model, key)) for key, _ in encrypted_attributes(inspect(model)) if key not in keep]


def _checked_tenant(tenant_id: int | None) -> int:
    current = current_tenant_id()
    if current is None:
        raise TenantScopeError("encrypted column used without a current tenant")
    if tenant_id != current:
        raise TenantScopeError("encrypted column of another tenant's row")
    return tenant_id


def _bind(type_: EncryptedText, value, tenant_id: int, row_key: str) -> BoundText:
    if type_.context is None:
        raise KeysetError("encrypted column was not labelled; call label_encrypted_columns")
    return BoundText(str(value), type_.context, tenant_id, row_key)


def bind_rows(model, rows) -> list[dict]:
    """Prepare plain dicts for a bulk ``session.execute(insert(model), rows)`` in the current tenant:
    each gets a tenant_id and a new row_key, and its encrypted values are bound to that row."""
    attrs = encrypted_attributes(inspect(model))
    tenant_id = _checked_tenant(current_tenant_id())
    prepared = []
    for row in rows:
        row = {**row, "row_key": new_row_key()}
        row["tenant_id"] = _checked_tenant(row.get("tenant_id", tenant_id))
        for key, type_ in attrs:
            if row.get(key) is not None:
                row[key] = _bind(type_, row[key], tenant_id, row["row_key"])
        prepared.append(row)
    return prepared


@event.listens_for(TenantScoped, "before_insert", propagate=True)
def _bind_new_row(mapper, connection, target) -> None:
    attrs = encrypted_attributes(mapper)
    if not attrs:
        return
    if target.row_key is None:
        target.row_key = new_row_key()
    tenant_id = _checked_tenant(target.tenant_id)
    for key, type_ in attrs:
        value = getattr(target, key)
        if value is not None:
            setattr(target, key, _bind(type_, value, tenant_id, target.row_key))


@event.listens_for(TenantScoped, "before_update", propagate=True)
def _bind_changed_values(mapper, connection, target) -> None:
    attrs = encrypted_attributes(mapper)
    if not attrs:
        return
    state = inspect(target)
    if state.attrs.row_key.history.deleted:
        raise RowBindingError("the row key of a stored row cannot change")
    changed = [(key, type_) for key, type_ in attrs if key in state.committed_state]
    if not changed:
        return
    tenant_id = _checked_tenant(target.tenant_id)
    for key, type_ in changed:
        value = getattr(target, key)
        if value is not None:
            setattr(target, key, _bind(type_, value, tenant_id, target.row_key))


@event.listens_for(TenantScoped, "after_insert", propagate=True)
@event.listens_for(TenantScoped, "after_update", propagate=True)
def _unbind_written_values(mapper, connection, target) -> None:
    values = inspect(target).dict
    for key, _ in encrypted_attributes(mapper):
        if isinstance(values.get(key), BoundText):
            values[key] = str(values[key])  # the object holds plain str again, as before the flush


# Execution option (passed to ``session.execute``): leave the encrypted values of the loaded rows sealed until ``open_row`` — for the session
# loader, whose one query is what tells it the tenant (the current tenant is set only once the rows are in).
OPEN_AFTER_LOAD = "kanri_open_after_load"


@event.listens_for(TenantScoped, "load", propagate=True, restore_load_context=True)
def _open_loaded_row(target, context) -> None:
    if context.execution_options.get(OPEN_AFTER_LOAD):
        return
    _open(target)


def open_row(target) -> None:
    """Decrypt a row loaded with ``OPEN_AFTER_LOAD``; its tenant must be the current one (as for any load)."""
    _open(target)


@event.listens_for(TenantScoped, "refresh", propagate=True, restore_load_context=True)
def _open_refreshed_row(target, context, attrs) -> None:
    _open(target)


def _open(target) -> None:
    # Runs for every loaded row of every tenant table (50 times on a list page): a class lookup and a look at
    # the row's dict, before anything else.
    attrs = _ENCRYPTED_BY_CLASS.get(type(target))
    if attrs is None:
        attrs = _ENCRYPTED_BY_CLASS[type(target)] = encrypted_attributes(inspect(target).mapper)
    if not attrs:
        return
    values = instance_dict(target)
    for key, _ in attrs:
        if isinstance(values.get(key), Sealed):
            break
    else:
        return
    # Reading these may load them (a query that left them out); that nested load opens what it can.
    tenant_id, row_key, keys = _checked_tenant(target.tenant_id), target.row_key, keyset()
    for key, type_ in attrs:
        if not isinstance(values.get(key), Sealed):
            continue
        if type_.context is None:
            raise KeysetError("encrypted column was not labelled; call label_encrypted_columns")
        try:
            values[key] = keys.decrypt(values[key].token, associated_data(type_.context, tenant_id, row_key))
        except DecryptionError:
            for name, _ in attrs:  # leave nothing sealed behind: a later access loads and fails again
                if isinstance(values.get(name), Sealed):
                    del values[name]
            raise


def label_encrypted_columns(metadata: sa.MetaData) -> list[tuple[str, str]]:
    """Attach 'table.column' to every EncryptedText column; return the list of them.

    Refuses a table with encrypted columns but no row_key (a model that is not TenantScoped).
    """
    found = []
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                if "row_key" not in table.columns or "tenant_id" not in table.columns:
                    raise RowBindingError(f"{table.name}.{column.name} is encrypted but the table has no "
                                          "tenant_id/row_key: mix TenantScoped into the model")
                column.type.context = f"{table.name}.{column.name}"
                found.append((table.name, column.name))
    return found
