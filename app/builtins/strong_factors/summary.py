"""factor_summary: per user of a tenant, passkeys, TOTP and recovery codes left (for the セキュリティ状況 overview)."""
from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import Tenant, User
from app.tenancy import tenant_scope

from .models import Passkey, RecoveryCode, TotpCredential


def factor_summary(tenant_id: int) -> dict[int, dict[str, object]]:
    """{user id: {"passkeys": int, "totp": bool, "recovery_codes_left": int}} for every user of the tenant."""
    tenant = db.session.get(Tenant, tenant_id)
    if tenant is None:
        return {}
    with tenant_scope(tenant):
        users = db.session.execute(sa.select(User.id)).scalars().all()
        keys = dict(db.session.execute(sa.select(Passkey.user_id, sa.func.count(Passkey.id))
                                       .group_by(Passkey.user_id)).all())
        totp = set(db.session.execute(sa.select(TotpCredential.user_id)
                                      .where(TotpCredential.confirmed_at.is_not(None))).scalars())
        codes = dict(db.session.execute(sa.select(RecoveryCode.user_id, sa.func.count(RecoveryCode.id))
                                        .where(RecoveryCode.used_at.is_(None)).group_by(RecoveryCode.user_id)).all())
    return {uid: {"passkeys": keys.get(uid, 0), "totp": uid in totp, "recovery_codes_left": codes.get(uid, 0)}
            for uid in users}
