"""The audit log's hash chain (docs/architecture.md §11): hash = SHA-256(prev_hash || canonical event).

Pure functions with no Flask or database imports, so the migration that chains events written
before the chain existed and `idp audit verify` compute exactly the same bytes. The canonical
form is frozen: changing it would make every stored hash unverifiable.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
# Every column of an event except the chain's own prev_hash/hash, the row id and the transaction
# id xid (implementation details: seq is the event's place in the chain).
CHAINED_FIELDS = ("seq", "tag", "occurred_at", "account_id", "actor_id", "session_id",
                  "staff_id", "office_id", "channel", "data")


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:  # SQLite hands back naive UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_event(event: Mapping[str, Any]) -> bytes:
    """Deterministic bytes of an event: sorted-key compact ASCII JSON of CHAINED_FIELDS."""
    body = {name: event.get(name) for name in CHAINED_FIELDS}
    body["occurred_at"] = _timestamp(event["occurred_at"])
    body["data"] = dict(event.get("data") or {})
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def chain_hash(prev_hash: str, event: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical_event(event)).hexdigest()
