"""Field encryption (AES-256-GCM bound to table, column and tenant) and keyed blind indexes."""
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

from .tenancy import TenantScopeError, current_tenant_id

NONCE_BYTES = 12
KEY_BYTES = 32


class DecryptionError(RuntimeError):
    """A ciphertext failed authentication: wrong key, tampered, or moved to another row or tenant."""


class KeysetError(RuntimeError):
    """The keyset is missing or malformed."""


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


class EncryptedText(sa.types.TypeDecorator):
    """A text column stored encrypted; the associated data binds table, column and tenant.

    Declare it on a TenantScoped model: ``name = mapped_column(EncryptedText())``.
    The table and column names are attached by ``label_encrypted_columns`` at start-up.
    """

    impl = sa.Text
    cache_ok = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.context: str | None = None

    def _associated_data(self) -> str:
        tenant_id = current_tenant_id()
        if tenant_id is None:
            raise TenantScopeError("encrypted column used without a current tenant")
        if self.context is None:
            raise KeysetError("encrypted column was not labelled; call label_encrypted_columns")
        return f"{self.context}|tenant={tenant_id}"

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return keyset().encrypt(str(value), self._associated_data())

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return keyset().decrypt(value, self._associated_data())


def label_encrypted_columns(metadata: sa.MetaData) -> list[tuple[str, str]]:
    """Attach 'table.column' to every EncryptedText column; return the list of them."""
    found = []
    for table in metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, EncryptedText):
                column.type.context = f"{table.name}.{column.name}"
                found.append((table.name, column.name))
    return found
