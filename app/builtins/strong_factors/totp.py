"""TOTP (RFC 6238, 30-second steps, ±1 step): secrets, the enrolment QR code and replay-safe checking."""
from __future__ import annotations

import base64
import io
import re
import unicodedata
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps either side: clocks a little off still work
_CODE = re.compile(r"\d{6}")


def new_secret() -> str:
    """A fresh 160-bit base32 secret (RFC 4226 recommends at least 128 bits)."""
    return pyotp.random_base32(length=32)


def grouped(secret: str) -> str:
    """The secret in groups of four characters, for typing into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def provisioning_uri(secret: str, account: str, issuer: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(name=account, issuer_name=issuer)


def qr_data_uri(text: str) -> str:
    """The QR code of text as an SVG data: URI, drawn here (no outside service sees the secret)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def normalize(typed: str | None) -> str:
    """The typed code without spaces or hyphens, full-width digits made ASCII."""
    text = unicodedata.normalize("NFKC", typed or "")
    return re.sub(r"[\s\-]", "", text)


def is_well_formed(typed: str | None) -> bool:
    """True for six digits (after normalising)."""
    return bool(_CODE.fullmatch(normalize(typed)))


def matching_step(secret: str, typed: str, now: datetime, last_step: int | None) -> int | None:
    """The time step (within ±1 of now) whose code is ``typed`` and is newer than ``last_step``; None otherwise.

    A step at or before ``last_step`` was already used (or an earlier one was): refusing it stops a
    code that was seen over a shoulder or in a log from working a second time.
    """
    code = normalize(typed)
    if not _CODE.fullmatch(code):
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = int(now.timestamp()) // STEP_SECONDS
    found = None
    for step in range(current - WINDOW, current + WINDOW + 1):
        if pyotp.utils.strings_equal(totp.generate_otp(step), code):
            found = step  # keep looping: same work whichever step matches
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found
