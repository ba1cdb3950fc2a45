"""Encryption at rest under the key-encryption key (KEK) from settings (docs/architecture.md §7).

AES-256-GCM: a fresh 96-bit random nonce per message (NIST SP 800-38D §8.2.2 allows 2^32
random nonces per key; we seal a handful of keys and secrets, far below that). The associated
data binds a blob to its owner (a key's kid, an account id), so a sealed value copied onto
another row fails to open instead of silently becoming that row's secret.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from idp.settings import current_settings

NONCE_BYTES = 12
TAG_BYTES = 16


class UnsealError(Exception):
    """A sealed blob failed authentication: tampered or truncated, other aad, or other KEK.

    Deliberately not an IdpError: it means corrupted storage or a wrong server setting, never
    bad user input, so it must surface as a server error rather than a 400.
    """


def _cipher() -> AESGCM:
    return AESGCM(current_settings().key_encryption_key_bytes)


def seal(plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt and authenticate `plaintext`; returns nonce (12 bytes) || ciphertext+tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher().encrypt(nonce, plaintext, aad)


def unseal(sealed: bytes, *, aad: bytes) -> bytes:
    """Open a blob made by `seal` with the same `aad`. Raises UnsealError on any mismatch."""
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise UnsealError("sealed data is truncated")
    try:
        return _cipher().decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], aad)
    except InvalidTag:
        raise UnsealError(
            "sealed data failed authentication (tampered, wrong associated data, "
            "or a different key-encryption key)"
        ) from None
