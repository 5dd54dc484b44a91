"""Passkeys (WebAuthn): registration and login ceremonies, the relying party taken from KANRI_BASE_URL."""
from __future__ import annotations

import json
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, session
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from app import audit
from app.extensions import db
from app.timeutil import utcnow

from .models import Passkey

CHALLENGE_KEY = "strong_factors_webauthn"
MAX_PASSKEYS = 10
MAX_RESPONSE_BYTES = 64 * 1024
_TRANSPORTS = {t.value for t in AuthenticatorTransport}


class PasskeyError(ValueError):
    """A WebAuthn response that cannot be accepted; ``message`` is the Japanese text to show."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def relying_party() -> tuple[str, str]:
    """(RP id, origin) from KANRI_BASE_URL: the host name, and scheme://host[:port]."""
    parts = urlsplit(current_app.config["KANRI_BASE_URL"])
    return parts.hostname or "localhost", f"{parts.scheme}://{parts.netloc}"


def user_passkeys(user) -> list[Passkey]:
    """The user's passkeys, oldest first."""
    return list(db.session.execute(sa.select(Passkey).where(Passkey.user_id == user.id)
                                   .order_by(Passkey.created_at, Passkey.id)).scalars())


def _descriptors(user) -> list[PublicKeyCredentialDescriptor]:
    out = []
    for key in user_passkeys(user):
        transports = [AuthenticatorTransport(t) for t in key.transports.split(",") if t in _TRANSPORTS]
        out.append(PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id), transports=transports))
    return out


def _remember(purpose: str, challenge: bytes, user) -> None:
    session[CHALLENGE_KEY] = {"purpose": purpose, "challenge": bytes_to_base64url(challenge), "user": user.id}


def _take(purpose: str, user) -> bytes:
    """The challenge issued for this ceremony (single use: removed from the session)."""
    data = session.pop(CHALLENGE_KEY, None)
    if not isinstance(data, dict) or data.get("purpose") != purpose or data.get("user") != user.id \
            or not isinstance(data.get("challenge"), str):
        raise PasskeyError("パスキーの手続きの有効期限が切れました。もう一度お試しください。")
    return base64url_to_bytes(data["challenge"])


def registration_options(user) -> str:
    """The JSON options for navigator.credentials.create (platform or roaming authenticators)."""
    rp_id, _ = relying_party()
    options = generate_registration_options(
        rp_id=rp_id, rp_name="kanri", user_id=f"{user.tenant_id}:{user.id}".encode(), user_name=user.login_id,
        user_display_name=str(user.name), exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED, user_verification=UserVerificationRequirement.REQUIRED))
    _remember("register", options.challenge, user)
    return options_to_json(options)


def _parse(raw: str) -> dict:
    if not isinstance(raw, str) or len(raw) > MAX_RESPONSE_BYTES:
        raise PasskeyError("パスキーの応答が正しくありません。")
    try:
        data = json.loads(raw)
    except ValueError:
        raise PasskeyError("パスキーの応答が正しくありません。") from None
    if not isinstance(data, dict):
        raise PasskeyError("パスキーの応答が正しくありません。")
    return data


def register(user, name: str, raw: str) -> Passkey:
    """Verify a registration response and store the passkey under ``name``; audited. Caller commits."""
    challenge = _take("register", user)
    if len(user_passkeys(user)) >= MAX_PASSKEYS:
        raise PasskeyError(f"パスキーは{MAX_PASSKEYS}個まで登録できます。使わないものを削除してください。")
    data = _parse(raw)
    rp_id, origin = relying_party()
    try:
        verified = verify_registration_response(credential=data, expected_challenge=challenge, expected_rp_id=rp_id,
                                                expected_origin=origin, require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        audit.record("strong_factors.passkey_added", outcome="failure", actor=user, target=f"user:{user.login_id}",
                     reason=type(exc).__name__)
        raise PasskeyError("パスキーを登録できませんでした。もう一度お試しください。") from None
    credential_id = bytes_to_base64url(verified.credential_id)
    taken = db.session.execute(sa.select(Passkey.id).where(Passkey.credential_id == credential_id)
                               .execution_options(all_tenants=True)).first()
    if taken is not None:
        raise PasskeyError("このパスキーは既に登録されています。")
    transports = data.get("response", {}).get("transports") if isinstance(data.get("response"), dict) else None
    kept = [t for t in transports if t in _TRANSPORTS] if isinstance(transports, list) else []
    key = Passkey(user_id=user.id, name=name, credential_id=credential_id, public_key=verified.credential_public_key,
                  sign_count=verified.sign_count, transports=",".join(kept)[:200], created_at=utcnow())
    db.session.add(key)
    db.session.flush()
    audit.record("strong_factors.passkey_added", actor=user, target=f"passkey:{key.id}", name=name,
                 kind=verified.credential_device_type.value if verified.credential_device_type else None)
    return key


def authentication_options(user) -> str:
    """The JSON options for navigator.credentials.get, allowing the user's own passkeys only."""
    rp_id, _ = relying_party()
    options = generate_authentication_options(rp_id=rp_id, allow_credentials=_descriptors(user),
                                              user_verification=UserVerificationRequirement.REQUIRED)
    _remember("login", options.challenge, user)
    return options_to_json(options)


def authenticate(user, raw: str) -> Passkey:
    """Verify a login assertion against the user's passkey (signature, origin, RP id, sign counter)."""
    challenge = _take("login", user)
    data = _parse(raw)
    credential_id = data.get("id") if isinstance(data.get("id"), str) else ""
    key = db.session.execute(sa.select(Passkey).where(Passkey.user_id == user.id,
                                                      Passkey.credential_id == credential_id)).scalar_one_or_none()
    if key is None:
        raise PasskeyError("このパスキーはこのアカウントに登録されていません。")
    rp_id, origin = relying_party()
    try:
        verified = verify_authentication_response(
            credential=data, expected_challenge=challenge, expected_rp_id=rp_id, expected_origin=origin,
            credential_public_key=key.public_key, credential_current_sign_count=key.sign_count,
            require_user_verification=True)
    except (WebAuthnException, ValueError, KeyError, TypeError) as exc:
        raise PasskeyError("パスキーで認証できませんでした。") from exc
    # A counter that did not grow (when the authenticator keeps one) means a cloned authenticator.
    if key.sign_count and verified.new_sign_count <= key.sign_count:
        raise PasskeyError("パスキーで認証できませんでした。")
    key.sign_count = verified.new_sign_count
    key.last_used_at = utcnow()
    return key


def remove(user, key: Passkey) -> None:
    """Delete one of the user's passkeys; audited. Caller commits."""
    db.session.delete(key)
    audit.record("strong_factors.passkey_removed", actor=user, target=f"passkey:{key.id}", name=key.name)
