"""Transaction-scoped advisory locks: serialise a rare change (a key ring's rotation, the first
key of a ring) across nodes until the transaction ends.

PostgreSQL only: SQLite is the single-node embedded default, and its writers are serialised by
the database file lock anyway, so there the lock is a no-op.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import text

from idp.extensions import db


def lock_id(name: str) -> int:
    """The signed 64-bit id of the advisory lock called `name` (first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def advisory_xact_lock(name: str) -> None:
    """Wait for the lock `name`, held until the current transaction commits or rolls back."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id(name)})


def try_advisory_xact_lock(name: str) -> bool:
    """Take the lock `name` until the transaction ends if it is free; False if another holds it.
    Always True on SQLite (its writers are serialised by the database file lock)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    return bool(db.session.scalar(text("SELECT pg_try_advisory_xact_lock(:id)"),
                                  {"id": lock_id(name)}))
