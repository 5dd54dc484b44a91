"""Key services: rotate the keyset's primary AEAD key and re-encrypt every encrypted column."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm.attributes import flag_modified

from . import audit
from .crypto import EncryptedText, Keyset, save_keyset
from .extensions import db
from .mailer import MailOutbox, reseal_outbox
from .models import Tenant
from .tenancy import TenantScoped, tenant_scope


class KeysError(RuntimeError):
    """A key operation cannot run with this configuration; the message is Japanese and safe to show."""


def encrypted_models() -> list[tuple[type, list[str]]]:
    """Return every tenant-scoped model with its encrypted attribute names."""
    found = []
    for mapper in db.Model.registry.mappers:
        cls = mapper.class_
        if not issubclass(cls, TenantScoped):
            continue
        attrs = [prop.key for prop in mapper.column_attrs
                 if any(isinstance(col.type, EncryptedText) for col in prop.columns)]
        if attrs:
            found.append((cls, attrs))
    return sorted(found, key=lambda item: item[0].__tablename__)


def count_encrypted_rows() -> int:
    """Return how many rows re-encryption will visit (for a progress bar)."""
    total = db.session.execute(sa.select(sa.func.count()).select_from(MailOutbox)).scalar_one()
    for tenant_id in db.session.execute(sa.select(Tenant.id).order_by(Tenant.id)).scalars().all():
        with tenant_scope(db.session.get(Tenant, tenant_id)):
            for cls, _ in encrypted_models():
                total += db.session.execute(sa.select(sa.func.count()).select_from(cls)).scalar_one()
    return total


def reencrypt_all(batch_size: int = 200, progress: Callable[[int], None] | None = None) -> dict[int, int]:
    """Re-encrypt every encrypted column of every tenant under the primary key; returns rows done per tenant id.

    Works tenant by tenant in batches, committing each batch; ``progress(n)`` is told of each batch. The mail
    outbox (addresses and bodies of mail waiting, sent or failed) is re-encrypted too, so that no stored
    ciphertext needs the old key any more.
    """
    tenant_ids = db.session.execute(sa.select(Tenant.id).order_by(Tenant.id)).scalars().all()
    models = encrypted_models()
    done: dict[int, int] = {}
    for tenant_id in tenant_ids:
        done[tenant_id] = 0
        with tenant_scope(db.session.get(Tenant, tenant_id)):
            for cls, attrs in models:
                last_id = 0
                while True:
                    rows = db.session.execute(
                        sa.select(cls).where(cls.id > last_id).order_by(cls.id).limit(batch_size)
                    ).scalars().all()
                    if not rows:
                        break
                    for row in rows:
                        for attr in attrs:
                            flag_modified(row, attr)
                    db.session.commit()
                    last_id = rows[-1].id
                    done[tenant_id] += len(rows)
                    if progress is not None:
                        progress(len(rows))
                    # One session across tenants must not hand back another tenant's rows from its identity map.
                    db.session.expunge_all()
    reseal_outbox(batch_size, progress)
    return done


def rotate_keyset(operator: str = "operator") -> Keyset:
    """Write a keyset with a new primary key to KANRI_KEYSET_FILE and use it; audited. Re-encrypt afterwards."""
    config = current_app.config
    if config.get("KANRI_KEYSET"):
        raise KeysError("鍵セットが環境変数 KANRI_KEYSET で与えられています。"
                        "ローテーションには KANRI_KEYSET_FILE を使ってください。")
    new = current_app.extensions["kanri_keyset"].rotated()
    save_keyset(Path(config["KANRI_KEYSET_FILE"]), new)
    current_app.extensions["kanri_keyset"] = new
    audit.record("keys.rotate", actor_login=operator, target="keyset", new_primary=new.primary)
    db.session.commit()
    return new
