"""Password hashing (HMAC pre-hash + bcrypt), the password policy and temporary passwords."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import unicodedata

import bcrypt
import zxcvbn
from flask import current_app

from .crypto import keyset

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_STRENGTH = 3  # zxcvbn score 0..4
TEMPORARY_LENGTH = 16
# No 0/O, 1/l/I: temporary passwords are read off a screen or an e-mail and typed.
TEMPORARY_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def normalize(password: str) -> str:
    """Return the NFKC form of a password, as it is hashed and checked."""
    return unicodedata.normalize("NFKC", password)


def _prehash(password: str) -> bytes:
    # bcrypt reads only 72 bytes; a keyed SHA-256 first means no password is silently cut.
    digest = hmac.new(keyset().pepper, normalize(password).encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


def hash_password(password: str) -> str:
    """Hash a password with the pepper and bcrypt at the configured cost."""
    rounds = current_app.config.get("BCRYPT_ROUNDS", 12)
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds=rounds)).decode("ascii")


def verify_password(password: str, password_hash: str | None) -> bool:
    """Check a password against its hash; an absent hash still costs one bcrypt."""
    if not password_hash:
        burn_equivalent_work(password)
        return False
    return bcrypt.checkpw(_prehash(password), password_hash.encode("ascii"))


def burn_equivalent_work(password: str) -> None:
    """Spend the same bcrypt work as a real check, so unknown ids reveal nothing by timing."""
    dummy = current_app.extensions.get("kanri_dummy_hash")
    if dummy is None:
        dummy = hash_password(secrets.token_urlsafe(16))
        current_app.extensions["kanri_dummy_hash"] = dummy
    bcrypt.checkpw(_prehash(password), dummy.encode("ascii"))


def generate_temporary_password(length: int = TEMPORARY_LENGTH) -> str:
    """Return a random temporary password from the CSPRNG."""
    return "".join(secrets.choice(TEMPORARY_ALPHABET) for _ in range(length))


_WARNINGS_JA = {
    "passwords": "よく使われるパスワードの一覧に含まれています。",
    "repeat": "同じ文字や並びの繰り返しは推測されやすいため使用できません。",
    "sequence": "「abcd」「1234」のような連続した並びは推測されやすいため使用できません。",
    "spatial": "キーボードの並び（qwerty など）は推測されやすいため使用できません。",
    "date": "日付や年は推測されやすいため使用できません。",
}


def policy_errors(password: str, context_words: list[str] | tuple[str, ...] = (), min_length: int = MIN_LENGTH) -> list[str]:
    """Return the reasons (in Japanese) why a password is refused; empty when it is acceptable.

    ``min_length`` is a tenant's own minimum (never below MIN_LENGTH, the baseline's)."""
    text = normalize(password or "")
    min_length = max(min_length, MIN_LENGTH)
    if len(text) < min_length:
        return [f"パスワードは{min_length}文字以上にしてください（現在{len(text)}文字）。"]
    if len(text) > MAX_LENGTH:
        return [f"パスワードは{MAX_LENGTH}文字以内にしてください。"]
    lowered = text.lower()
    words = [normalize(w).lower() for w in context_words if w and len(normalize(w)) >= 3]
    for word in words:
        if word in lowered:
            return ["会社コード・ログインID・製品名などの推測されやすい語を含むパスワードは使用できません。"]
    result = zxcvbn.zxcvbn(text, user_inputs=words, max_length=MAX_LENGTH)
    if result["score"] >= MIN_STRENGTH:
        return []
    for match in result["sequence"]:
        key = match.get("dictionary_name") if match["pattern"] == "dictionary" else match["pattern"]
        if key in _WARNINGS_JA:
            return [_WARNINGS_JA[key] + "別のパスワードにしてください。"]
    return ["推測されやすいパスワードです。無関係な単語を3つ以上つなげるなど、長く推測されにくいものにしてください。"]
