"""Password hashing: argon2id with parameters from settings (docs/architecture.md §7).

Passwords are NFKC-normalised before hashing so that the same password typed on two keyboards
(composed or decomposed Vietnamese, full-width digits) verifies the same.
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app

EXTENSION_KEY = "idp.password_hasher"


def init_app(app: Flask) -> None:
    settings = app.config["IDP_SETTINGS"]
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost,
        memory_cost=settings.argon2_memory_cost,
        parallelism=settings.argon2_parallelism,
        type=Type.ID,
    )
    app.extensions[EXTENSION_KEY] = hasher
    # A real hash with the current parameters: verifying against it costs what a real check
    # costs, so an unknown account is not answered faster than a known one.
    app.extensions[EXTENSION_KEY + ".dummy"] = hasher.hash("postid-timing-equaliser")


def _hasher() -> PasswordHasher:
    hasher: PasswordHasher = current_app.extensions[EXTENSION_KEY]
    return hasher


def normalize(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    return _hasher().hash(normalize(password))


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(stored_hash, normalize(password))
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    try:
        return _hasher().check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def spend_verification_time(password: str) -> None:
    """Do the work of a failed verification without an account to verify against."""
    verify_password(current_app.extensions[EXTENSION_KEY + ".dummy"], password + "\x00")
