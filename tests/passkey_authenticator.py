"""A software WebAuthn authenticator for tests: it builds real attestation ("none" format) and
assertion objects with a P-256 key from `cryptography`, as a browser and its authenticator would
send them (WebAuthn L3 §6.1 authenticator data, §6.5 attestation, §8.7 "none"), so that the
server's py_webauthn checks run on genuine bytes. Its knobs make the bad cases: another origin
or RP ID, no user verification, a sign count that goes back."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40
AAGUID = bytes(16)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class SoftAuthenticator:
    origin: str = "http://localhost"
    rp_id: str = "localhost"
    synced: bool = False  # backup eligible (and backed up): a synced passkey
    user_verification: bool = True
    sign_count: int = 0
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    credential_id: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    user_handle: bytes | None = None

    def _flags(self, extra: int = 0) -> int:
        return UP | extra | (UV if self.user_verification else 0) | ((BE | BS) if self.synced else 0)

    def _client_data(self, kind: str, challenge: str, origin: str | None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"),
                            -3: numbers.y.to_bytes(32, "big")})

    def create(self, options: dict[str, Any], *, origin: str | None = None,
               rp_id: str | None = None) -> str:
        """The JSON a browser sends back from navigator.credentials.create(options)."""
        self.user_handle = unb64url(options["user"]["id"])
        rp_hash = hashlib.sha256((rp_id or options["rp"]["id"]).encode()).digest()
        attested = AAGUID + struct.pack(">H", len(self.credential_id)) + self.credential_id \
            + self._cose_key()
        auth_data = rp_hash + bytes([self._flags(AT)]) + struct.pack(">I", self.sign_count) + attested
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(client_data),
                         "attestationObject": b64url(attestation),
                         "transports": ["internal", "hybrid"]},
        })

    def get(self, options: dict[str, Any], *, origin: str | None = None, rp_id: str | None = None,
            count: int | None = None) -> str:
        """The JSON a browser sends back from navigator.credentials.get(options)."""
        self.sign_count = self.sign_count + 1 if count is None else count
        rp_hash = hashlib.sha256((rp_id or options["rpId"]).encode()).digest()
        auth_data = rp_hash + bytes([self._flags()]) + struct.pack(">I", self.sign_count)
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        signature = self.key.sign(auth_data + hashlib.sha256(client_data).digest(),
                                  ec.ECDSA(hashes.SHA256()))
        return json.dumps({
            "id": b64url(self.credential_id), "rawId": b64url(self.credential_id),
            "type": "public-key", "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(client_data),
                         "authenticatorData": b64url(auth_data), "signature": b64url(signature),
                         "userHandle": b64url(self.user_handle) if self.user_handle else None},
        })
