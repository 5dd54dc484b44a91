"""A software passkey (P-256, attestation "none") that answers the WebAuthn ceremonies of the pages' options."""
from __future__ import annotations

import hashlib
import json
import os

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from webauthn.helpers import bytes_to_base64url

FLAG_UP, FLAG_UV, FLAG_AT = 0x01, 0x04, 0x40


class SoftPasskey:
    """One credential of an authenticator with user verification, bound to ``origin`` (the tests' base URL)."""

    def __init__(self, origin: str = "http://localhost", rp_id: str = "localhost"):
        self.origin, self.rp_id = origin, rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(16)
        self.sign_count = 0

    @property
    def id(self) -> str:
        """The credential id as the pages see it (base64url)."""
        return bytes_to_base64url(self.credential_id)

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _auth_data(self, flags: int, attested: bytes = b"") -> bytes:
        self.sign_count += 1
        return (hashlib.sha256(self.rp_id.encode()).digest() + bytes([flags])
                + self.sign_count.to_bytes(4, "big") + attested)

    def _client_data(self, kind: str, options: dict) -> bytes:
        return json.dumps({"type": kind, "challenge": options["challenge"], "origin": self.origin,
                           "crossOrigin": False}).encode()

    def create(self, options: dict) -> str:
        """The registration response (JSON) to navigator.credentials.create(options)."""
        attested = (b"\0" * 16 + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose_key())
        auth_data = self._auth_data(FLAG_UP | FLAG_UV | FLAG_AT, attested)
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return json.dumps({"id": self.id, "rawId": self.id, "type": "public-key", "clientExtensionResults": {},
                           "response": {"clientDataJSON": bytes_to_base64url(self._client_data("webauthn.create", options)),
                                        "attestationObject": bytes_to_base64url(attestation),
                                        "transports": ["internal"]}})

    def get(self, options: dict) -> str:
        """The assertion (JSON) to navigator.credentials.get(options), signed with the credential's key."""
        client_data = self._client_data("webauthn.get", options)
        auth_data = self._auth_data(FLAG_UP | FLAG_UV)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))
        return json.dumps({"id": self.id, "rawId": self.id, "type": "public-key", "clientExtensionResults": {},
                           "response": {"clientDataJSON": bytes_to_base64url(client_data),
                                        "authenticatorData": bytes_to_base64url(auth_data),
                                        "signature": bytes_to_base64url(signature)}})
