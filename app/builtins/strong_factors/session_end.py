"""A removed stronger factor ends the sessions whose login passed it, at removal time (no per-request check).

The sessions record which factor (and which passkey) their login passed. The person removing a factor keeps
their own session unless it was opened with that very credential; a browser whose session ended is told why
on the login page (``session_end_messages``).
"""
from __future__ import annotations

import sqlalchemy as sa

from app.auth.sessions import end_session
from app.extensions import db
from app.models import PendingLoginRecord, UserSession
from app.timeutil import utcnow

PASSKEY_REMOVED = "passkey_removed"
TOTP_REMOVED = "totp_removed"
RECOVERY_REPLACED = "recovery_replaced"
FACTORS_RESET = "factors_reset"
AGAIN = "もう一度ログインしてください。"
MESSAGES = {
    PASSKEY_REMOVED: "ログインに使ったパスキーが削除されたため、ログアウトしました。" + AGAIN,
    TOTP_REMOVED: "ログインに使った認証アプリの登録が削除されたため、ログアウトしました。" + AGAIN,
    RECOVERY_REPLACED: "ログインに使ったリカバリーコードが無効になったため、ログアウトしました。" + AGAIN,
    FACTORS_RESET: "管理者が強い認証要素をリセットしたため、ログアウトしました。" + AGAIN,
}


def _passed(model, methods: tuple[str, ...], credential_id: int | None):
    """The rows whose login passed one of ``methods`` (with ``credential_id``, or a credential not recorded)."""
    clause = model.stronger_factor.in_(methods)
    if credential_id is not None:
        # Sessions opened before the credential was recorded cannot tell which passkey: they end too.
        clause &= sa.or_(model.stronger_credential_id == credential_id, model.stronger_credential_id.is_(None))
    return clause


def end_factor_sessions(user, reason: str, methods: tuple[str, ...], credential_id: int | None = None,
                        keep: UserSession | None = None, actor=None) -> list[int]:
    """End the user's open sessions (except ``keep``) and void the pending logins that passed the removed factor;
    each ending is audited (``session.end``). Returns the ids of the sessions ended. Caller commits."""
    db.session.execute(
        sa.update(PendingLoginRecord)
        .where(PendingLoginRecord.user_id == user.id, PendingLoginRecord.consumed_at.is_(None),
               _passed(PendingLoginRecord, methods, credential_id))
        .values(consumed_at=utcnow(), consumed_reason=reason)
        .execution_options(synchronize_session=False))
    rows = db.session.execute(sa.select(UserSession).where(
        UserSession.user_id == user.id, UserSession.ended_at.is_(None),
        _passed(UserSession, methods, credential_id))).scalars().all()
    ended = []
    for record in rows:
        if keep is not None and record.id == keep.id:
            continue
        end_session(record, reason, actor=actor or user)
        ended.append(record.id)
    return ended


def opened_with(record: UserSession | None, method: str, credential_id: int | None = None) -> bool:
    """True when this session's login passed ``method`` (and exactly the credential ``credential_id``)."""
    if record is None or record.stronger_factor != method:
        return False
    return credential_id is None or record.stronger_credential_id == credential_id
