"""The e-mail one-time code: issue, resend cooldown, verification, voiding (codes stored only as keyed hashes)."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from app import audit
from app.auth.factors import PendingLogin, SecondFactor, abandon_pending_login, extend_pending_login
from app.extensions import db
from app.mailer import send_mail
from app.timeutil import utcnow

from .models import JuchoLoginCode

FACTOR = SecondFactor("jucho-email-code", "メール認証コード", "jucho.login_code")
CODE_DIGITS = 6
CODE_LIFETIME = timedelta(minutes=10)
RESEND_COOLDOWN = timedelta(seconds=60)
MAX_FAILURES = 5
# Wrong codes one account may receive in an hour, across all its pending logins: someone who knows
# the password cannot turn "5 per login" into an unlimited number of guesses by logging in again.
ACCOUNT_FAILURES_PER_HOUR = 20
ACCOUNT_WINDOW = timedelta(hours=1)
LOCKED_OUT = ("認証コードの入力誤りが続いたため、しばらくログインできません。"
              "1時間ほどおいてから、もう一度パスワードからログインしてください。")
FINISHED = "このログインは終了しています。もう一度パスワードからログインしてください。"
_NOT_DIGITS = re.compile(r"[\s\-‐－ー]")


@dataclass
class SendOutcome:
    """What happened when a code was asked for: sent, too soon (wait seconds) or failed (message)."""

    sent: bool = False
    wait_seconds: int = 0
    error: str | None = None
    restart: bool = False


@dataclass
class CheckOutcome:
    """Result of checking a typed code: ok, or a message and whether the login must start over."""

    ok: bool = False
    message: str | None = None
    restart: bool = False


def _key() -> bytes:
    secret = current_app.config["SECRET_KEY"].encode("utf-8")
    return hmac.new(secret, b"kanri/jucho/email-code/v1", hashlib.sha256).digest()


def _mac(*parts) -> str:
    message = "|".join(str(part) for part in parts).encode("utf-8")
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def nonce_hash(pending: PendingLogin) -> str:
    """Keyed hash of the pending login's nonce (the nonce itself lives only in the signed session)."""
    return _mac("nonce", pending.tenant.id, pending.user.id, pending.nonce)


def code_hash(pending: PendingLogin, code: str) -> str:
    """Keyed hash of a code, bound to tenant, user and this pending login."""
    return _mac("code", pending.tenant.id, pending.user.id, pending.nonce, code)


def normalize_code(value: str | None) -> str:
    """Accept full-width digits, spaces and hyphens the way people type a code."""
    return _NOT_DIGITS.sub("", unicodedata.normalize("NFKC", value or ""))


def is_well_formed(value: str | None) -> bool:
    """True for exactly six ASCII digits after normalisation."""
    text = normalize_code(value)
    return len(text) == CODE_DIGITS and text.isascii() and text.isdigit()


def mask_email(address: str | None) -> str:
    """Show an address as 't***@example.co.jp'."""
    if not address or "@" not in address:
        return ""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}***@{domain}"


def _codes_of(pending: PendingLogin):
    return sa.select(JuchoLoginCode).where(JuchoLoginCode.user_id == pending.user.id,
                                      JuchoLoginCode.nonce_hash == nonce_hash(pending))


def latest_code(pending: PendingLogin) -> JuchoLoginCode | None:
    """The most recently sent code of this pending login, whatever its state."""
    return db.session.execute(_codes_of(pending).order_by(JuchoLoginCode.id.desc()).limit(1)).scalar_one_or_none()


def active_code(pending: PendingLogin) -> JuchoLoginCode | None:
    """The one code of this pending login that may still be entered, if any."""
    code = latest_code(pending)
    if code is None or code.used_at is not None or code.voided_at is not None:
        return None
    return code


def pending_finished(pending: PendingLogin) -> bool:
    """True once a code of this pending login was used or voided for wrong tries: it never gets another code."""
    finished = _codes_of(pending).where(sa.or_(JuchoLoginCode.used_at.is_not(None),
                                               JuchoLoginCode.void_reason == "too_many_failures"))
    return db.session.execute(sa.select(finished.exists())).scalar()


def recent_failures(pending: PendingLogin) -> int:
    """Wrong codes typed for this account in the last hour, over all its pending logins."""
    since = utcnow() - ACCOUNT_WINDOW
    return db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(JuchoLoginCode.failed_attempts), 0))
        .where(JuchoLoginCode.user_id == pending.user.id, JuchoLoginCode.created_at >= since)).scalar_one()


def _void(code: JuchoLoginCode, reason: str) -> None:
    code.voided_at = utcnow()
    code.void_reason = reason


def _target(pending: PendingLogin) -> str:
    return f"user:{pending.user.login_id}"


def send_code(pending: PendingLogin, resend: bool = False) -> SendOutcome:
    """Mail a fresh code for this pending login unless one went out less than a minute ago."""
    user = pending.user
    if not user.email:
        audit.record("jucho.code.send", outcome="failure", actor=user, target=_target(pending), reason="no_email")
        db.session.commit()
        return SendOutcome(error="メールアドレスが登録されていないため、認証コードを送信できません。管理者にお問い合わせください。")
    if pending_finished(pending):
        audit.record("jucho.code.send", outcome="failure", actor=user, target=_target(pending),
                     reason="login_finished", resend=resend)
        db.session.commit()
        abandon_pending_login()
        return SendOutcome(error=FINISHED, restart=True)
    if recent_failures(pending) >= ACCOUNT_FAILURES_PER_HOUR:
        audit.record("jucho.code.send", outcome="failure", actor=user, target=_target(pending),
                     reason="too_many_failures_per_hour", resend=resend)
        db.session.commit()
        abandon_pending_login()
        return SendOutcome(error=LOCKED_OUT, restart=True)
    now = utcnow()
    previous = latest_code(pending)
    if previous is not None and now - previous.created_at < RESEND_COOLDOWN:
        wait = int((previous.created_at + RESEND_COOLDOWN - now).total_seconds()) + 1
        if resend:
            audit.record("jucho.code.resend", outcome="failure", actor=user, target=_target(pending),
                         reason="cooldown", wait_seconds=wait)
            db.session.commit()
        return SendOutcome(wait_seconds=wait)
    if previous is not None and previous.used_at is None and previous.voided_at is None:
        _void(previous, "replaced")
    code = f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"
    # Wrong tries belong to the pending login, not to one code: a resend must not give 5 fresh tries.
    carried = previous.failed_attempts if previous is not None else 0
    row = JuchoLoginCode(user_id=user.id, nonce_hash=nonce_hash(pending), code_hash=code_hash(pending, code),
                    created_at=now, expires_at=now + CODE_LIFETIME, failed_attempts=carried)
    db.session.add(row)
    db.session.flush()
    send_mail(user.email, "ログイン認証コード", "jucho/email/login_code", secret=True, user=user, tenant=pending.tenant,
              code=code, expires_at=row.expires_at, minutes=int(CODE_LIFETIME.total_seconds() // 60))
    audit.record("jucho.code.send", actor=user, target=_target(pending), to=mask_email(user.email),
                 resend=resend, code_id=row.id, valid_minutes=int(CODE_LIFETIME.total_seconds() // 60))
    db.session.commit()
    extend_pending_login(row.expires_at)  # the mail promises 10 minutes
    return SendOutcome(sent=True)


def check_code(pending: PendingLogin, typed: str) -> CheckOutcome:
    """Check a typed code: single use, 10 minutes, void after 5 wrong tries (then the login starts over)."""
    user = pending.user
    if pending_finished(pending):
        audit.record("jucho.code.verify", outcome="failure", actor=user, target=_target(pending),
                     reason="login_finished")
        db.session.commit()
        abandon_pending_login()
        return CheckOutcome(restart=True, message=FINISHED)
    if recent_failures(pending) >= ACCOUNT_FAILURES_PER_HOUR:
        audit.record("jucho.code.verify", outcome="failure", actor=user, target=_target(pending),
                     reason="too_many_failures_per_hour")
        db.session.commit()
        abandon_pending_login()
        return CheckOutcome(restart=True, message=LOCKED_OUT)
    row = active_code(pending)
    if row is None:
        audit.record("jucho.code.verify", outcome="failure", actor=user, target=_target(pending),
                     reason="no_active_code")
        db.session.commit()
        return CheckOutcome(message="有効な認証コードがありません。「コードを再送」で新しいコードを受け取ってください。")
    now = utcnow()
    if now >= row.expires_at:
        _void(row, "expired")
        audit.record("jucho.code.verify", outcome="failure", actor=user, target=_target(pending),
                     reason="expired", code_id=row.id)
        db.session.commit()
        return CheckOutcome(message="認証コードの有効期限（10分）が切れました。「コードを再送」で新しいコードを受け取ってください。")
    if hmac.compare_digest(row.code_hash, code_hash(pending, normalize_code(typed))):
        row.used_at = now
        audit.record("jucho.code.verify", actor=user, target=_target(pending), code_id=row.id)
        db.session.commit()
        return CheckOutcome(ok=True)
    row.failed_attempts += 1
    audit.record("jucho.code.verify", outcome="failure", actor=user, target=_target(pending),
                 reason="wrong_code", code_id=row.id, attempts=row.failed_attempts)
    if row.failed_attempts >= MAX_FAILURES:
        _void(row, "too_many_failures")
        audit.record("jucho.code.void", outcome="failure", actor=user, target=_target(pending),
                     reason="too_many_failures", code_id=row.id)
        db.session.commit()
        abandon_pending_login()
        return CheckOutcome(restart=True, message="認証コードを5回まちがえたため、このログインは無効になりました。"
                                                  "もう一度パスワードからログインしてください。")
    db.session.commit()
    left = MAX_FAILURES - row.failed_attempts
    return CheckOutcome(message=f"認証コードが正しくありません（あと{left}回まで入力できます）。")


def void_open_codes(user, reason: str) -> int:
    """Void every unused, unexpired code of user (e.g. when their sessions are ended); returns how many."""
    now = utcnow()
    codes = db.session.execute(sa.select(JuchoLoginCode).where(
        JuchoLoginCode.user_id == user.id, JuchoLoginCode.used_at.is_(None), JuchoLoginCode.voided_at.is_(None),
        JuchoLoginCode.expires_at > now)).scalars().all()
    for code in codes:
        _void(code, reason)
    return len(codes)
