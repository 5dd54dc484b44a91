"""An administrator removes every stronger factor of a user who lost them (the user is told by mail)."""
from __future__ import annotations

import sqlalchemy as sa

from app import audit
from app.extensions import db
from app.mailer import send_mail
from app.timeutil import utcnow

from .models import Passkey, RecoveryCode, TotpCredential
from .session_end import FACTORS_RESET, end_factor_sessions


def reset_factors(user, actor) -> dict[str, int]:
    """Delete the user's TOTP, passkeys and recovery codes and end the sessions opened with them; audited and
    mailed. Caller commits."""
    removed = {}
    for label, model in (("authenticator_apps", TotpCredential), ("passkeys", Passkey), ("recovery_codes", RecoveryCode)):
        removed[label] = db.session.execute(sa.delete(model).where(model.user_id == user.id)
                                            .execution_options(synchronize_session=False)).rowcount
    audit.record("strong_factors.reset", actor=actor, target=f"user:{user.login_id}", **removed)
    end_factor_sessions(user, FACTORS_RESET, ("passkey", "totp", "recovery"), actor=actor)
    if user.email:
        send_mail(user.email, "強い認証要素がリセットされました", "strong_factors/email/factors_reset", user=user,
                  tenant=user.tenant, reset_at=utcnow(), actor=actor)
    return removed
