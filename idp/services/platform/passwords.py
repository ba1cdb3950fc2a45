"""Password hashing: argon2id with parameters from settings (docs/architecture.md §7).

Passwords are NFKC-normalised before hashing so that the same password typed on two keyboards
(composed or decomposed Vietnamese, full-width digits) verifies the same.

Hashing yields the CPU to everything else: argon2id runs on a few threads of its own whose
scheduling priority is lowered (nice +HASHING_NICE; argon2's lane threads inherit it), while
the request waits for the result. A burst of sign-ins then slows sign-ins, not the portals'
token, userinfo and introspection calls running beside them on the same cores (measured in
bench/README.md). On an idle machine a hash takes as long as before.
"""

from __future__ import annotations

import os
import threading
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app

EXTENSION_KEY = "idp.password_hasher"
# Hashes computed at once per process, and how much lower their priority is than the requests'.
HASHING_THREADS = 2
HASHING_NICE = 10

T = TypeVar("T")
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _lower_priority() -> None:
    # Linux keeps a nice value per thread: this lowers the hashing thread only. Where it cannot
    # be lowered, hashing still works, at the requests' priority.
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)
    except (AttributeError, OSError):
        pass


def _hashing_pool() -> ThreadPoolExecutor:
    global _pool
    pid = os.getpid()
    if _pool is None or _pool[0] != pid:  # threads do not survive a fork: one pool per process
        with _pool_lock:
            if _pool is None or _pool[0] != pid:
                _pool = (pid, ThreadPoolExecutor(HASHING_THREADS, "argon2",
                                                 initializer=_lower_priority))
    return _pool[1]


def _hashed(work: Callable[..., T], *args: str) -> T:
    return _hashing_pool().submit(work, *args).result()


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
    return _hashed(_hasher().hash, normalize(password))


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hashed(_hasher().verify, stored_hash, normalize(password))
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
