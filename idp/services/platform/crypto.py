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


def _previous_cipher() -> AESGCM | None:
    """The key-encryption key being replaced, if any (docs/operations.md): it opens what it
    sealed until `idp keys rewrap` has re-sealed everything; it never seals."""
    previous = current_settings().previous_key_encryption_key_bytes
    return AESGCM(previous) if previous else None


def seal(plaintext: bytes, *, aad: bytes) -> bytes:
    """Encrypt and authenticate `plaintext`; returns nonce (12 bytes) || ciphertext+tag."""
    nonce = os.urandom(NONCE_BYTES)
    return nonce + _cipher().encrypt(nonce, plaintext, aad)


def unseal(sealed: bytes, *, aad: bytes) -> bytes:
    """Open a blob made by `seal` with the same `aad`, under the key-encryption key or, while
    one is being replaced, the previous one. Raises UnsealError on any mismatch."""
    return unseal_reporting(sealed, aad=aad)[0]


def unseal_reporting(sealed: bytes, *, aad: bytes) -> tuple[bytes, bool]:
    """`unseal`, also telling whether the previous key-encryption key opened it."""
    if len(sealed) < NONCE_BYTES + TAG_BYTES:
        raise UnsealError("sealed data is truncated")
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    try:
        return _cipher().decrypt(nonce, body, aad), False
    except InvalidTag:
        previous = _previous_cipher()
        if previous is not None:
            try:
                return previous.decrypt(nonce, body, aad), True
            except InvalidTag:
                pass
    raise UnsealError(
        "sealed data failed authentication (tampered, wrong associated data, "
        "or a different key-encryption key)"
    )
