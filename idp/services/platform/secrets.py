"""New secret values and how they are stored. A bearer value (a session cookie, a link in an
e-mail, an access or refresh token, a client secret) has 256 bits from the operating system's
CSPRNG and is stored only as its SHA-256: a stolen database yields no usable value, and a
lookup by hash needs no slow hashing because the value is not guessable (unlike a password)."""

from __future__ import annotations

import hashlib
import secrets

# A cookie value longer than this is refused before any lookup (new_token makes 43 characters).
MAX_COOKIE_TOKEN_LENGTH = 64


def new_token() -> str:
    """256 random bits, URL-safe (43 characters)."""
    return secrets.token_urlsafe(32)


def new_public_id() -> str:
    """128 random bits, URL-safe: an identifier shown in links that must not be enumerable."""
    return secrets.token_urlsafe(16)


def token_hash(value: str) -> str:
    """What the database keeps of a bearer value (hex SHA-256)."""
    return hashlib.sha256(value.encode()).hexdigest()
