"""Verify the audit log's hash chain (docs/architecture.md §11; docs/audit.md).

`verify_chain` walks every event in seq order by keyset pagination (constant memory, one indexed
range scan per batch), recomputes each hash with `idp.domain.audit_chain` and reports the FIRST
event that breaks the chain, then checks the chain's end against the head row and any externally
witnessed heads. Appends may continue while it runs: every append commits its events and the new
head together, so rows past a head read earlier are only suspect once a later head read still
does not cover them.

Rows are read without SQLAlchemy's result processing and converted one by one, so a row
tampered into an unreadable value is reported as bad instead of crashing the walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, type_coerce
from sqlalchemy.sql.sqltypes import NullType

from idp.domain.audit_chain import GENESIS_HASH, chain_hash
from idp.extensions import db
from idp.models.audit import AuditChainHead, AuditEvent
from idp.services.platform.audit import HEAD_ID

BATCH_SIZE = 1000

# Reason codes (stable: scripts match on them) and what each one means.
REASONS = {
    "chain_start": "the chain does not start at seq 1 (its first events were deleted or renumbered)",
    "seq_gap": "a seq is missing (events deleted, inserted or renumbered)",
    "prev_hash_mismatch": "prev_hash is not the previous event's hash "
                          "(events deleted, inserted or reordered)",
    "hash_mismatch": "the event does not match its hash (edited)",
    "unreadable": "the event cannot be read (edited)",
    "truncated": "the chain ends before the head's seq (events at the end deleted)",
    "beyond_head": "events after the head's seq (inserted, or the head was rolled back)",
    "head_mismatch": "the head's hash is not the hash of the event at its seq (head tampered)",
    "head_missing": "events exist but the chain head row is missing (head tampered)",
    "witness_mismatch": "the event at a witnessed seq no longer has the witnessed hash "
                        "(history rewritten)",
    "witness_missing": "a witnessed seq is not in the chain (events at the end deleted)",
}


@dataclass(frozen=True)
class Witness:
    """A head recorded earlier outside the database (e.g. from `idp audit head --json`)."""

    seq: int
    hash: str


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str
    updated_at: datetime | None


@dataclass(frozen=True)
class ChainReport:
    """The verdict. When not ok, `bad_seq` is the first position that cannot be trusted and
    `bad_row_id` the stored row found there (None when there is none, e.g. truncation)."""

    ok: bool
    events_checked: int
    head_seq: int | None
    head_hash: str | None
    bad_seq: int | None = None
    bad_row_id: int | None = None
    reason: str | None = None
    detail: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events_checked": self.events_checked, "head_seq": self.head_seq,
                "head_hash": self.head_hash, "bad_seq": self.bad_seq,
                "bad_row_id": self.bad_row_id, "reason": self.reason, "detail": self.detail}


class _Broken(Exception):
    def __init__(self, reason: str, seq: int | None, row_id: int | None, specifics: str = "") -> None:
        super().__init__(reason)
        self.reason, self.seq, self.row_id = reason, seq, row_id
        self.detail = f"{REASONS[reason]}: {specifics}" if specifics else REASONS[reason]


def read_head() -> ChainHead | None:
    """The head row, or None when it is missing (a chain with no event yet, or tampering)."""
    row = db.session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash, AuditChainHead.updated_at)
        .where(AuditChainHead.id == HEAD_ID)
    ).one_or_none()
    return ChainHead(row.seq, row.hash, row.updated_at) if row is not None else None


def chain_head() -> ChainHead:
    """The head to hand to an external witness; seq 0 and the genesis hash before any event."""
    try:
        return read_head() or ChainHead(0, GENESIS_HASH, None)
    finally:
        db.session.rollback()  # read-only: end the transaction


def verify_chain(*, witnesses: Sequence[Witness] = (), batch_size: int = BATCH_SIZE) -> ChainReport:
    """Check the whole chain, the head row and `witnesses`; never writes, never raises for
    tampered data (database errors propagate). Reports the first bad event."""
    walk = _Walk({w.seq: w.hash.lower() for w in witnesses}, batch_size)
    head: ChainHead | None = None
    try:
        head = read_head()
        walk.advance()
        while True:  # each pass: `head` was read before the walk last advanced
            if head is None and walk.last_seq == 0:
                break  # no event and no head: an empty chain
            if head is not None:
                if walk.last_seq < head.seq:
                    raise _Broken("truncated", walk.last_seq + 1, None,
                                  f"the chain ends at seq {walk.last_seq}, the head says {head.seq}")
                walk.expect_hash(head.seq, head.hash, "head_mismatch")
                if walk.last_seq == head.seq:
                    break
            # Rows past the head (or no head) when it was read: appends made meanwhile commit
            # their events and the head together, so a head read now must cover them.
            head = read_head()
            if head is None:
                raise _Broken("head_missing", None, None)
            if head.seq < walk.last_seq:
                walk.expect_hash(head.seq, head.hash, "head_mismatch")
                raise _Broken("beyond_head", head.seq + 1, walk.row_id_at(head.seq + 1),
                              f"events up to seq {walk.last_seq}, the head says {head.seq}")
            walk.advance()
        walk.check_witnesses_reached()
    except _Broken as broken:
        return ChainReport(False, walk.checked, head.seq if head else None,
                           head.hash if head else None, broken.seq, broken.row_id,
                           broken.reason, broken.detail)
    finally:
        db.session.rollback()  # read-only: end the transaction
    return ChainReport(True, walk.checked, head.seq if head else 0,
                       head.hash if head else GENESIS_HASH)


class _Walk:
    """The chain read so far: the last (seq, hash) and the rows checked."""

    def __init__(self, witnesses: dict[int, str], batch_size: int) -> None:
        if batch_size < 1:
            raise ValueError("batch_size must be positive")
        self.witnesses = witnesses
        self.batch_size = batch_size
        self.last_seq, self.last_hash, self.checked = 0, GENESIS_HASH, 0

    def advance(self) -> None:
        """Check every row after the last one, up to the end of the table as it is now."""
        convert = _converters()
        for row in _rows_after(self.last_seq, self.batch_size):
            self._check(row, convert)

    def _check(self, row: Any, convert: dict[str, Callable[[Any], Any]]) -> None:
        expected = self.last_seq + 1
        if row.seq != expected:
            reason = "chain_start" if self.last_seq == 0 else "seq_gap"
            raise _Broken(reason, row.seq, row.id, f"expected seq {expected}, found seq {row.seq}")
        if row.prev_hash != self.last_hash:
            raise _Broken("prev_hash_mismatch", row.seq, row.id)
        try:
            fields = _fields(row, convert)
            digest = chain_hash(row.prev_hash, fields)
        except (TypeError, ValueError, AttributeError, UnicodeError) as exc:
            raise _Broken("unreadable", row.seq, row.id, type(exc).__name__) from None
        if digest != row.hash:
            raise _Broken("hash_mismatch", row.seq, row.id)
        witnessed = self.witnesses.get(row.seq)
        if witnessed is not None and witnessed != row.hash:
            raise _Broken("witness_mismatch", row.seq, row.id,
                          f"witnessed hash {witnessed}, the chain has {row.hash}")
        self.last_seq, self.last_hash = row.seq, row.hash
        self.checked += 1

    def expect_hash(self, seq: int, expected: str, reason: str) -> None:
        """The event at `seq` (already checked) must have hash `expected`."""
        actual = self.last_hash if seq == self.last_seq else _hash_at(seq)
        if actual != expected:
            raise _Broken(reason, seq, self.row_id_at(seq) if seq else None,
                          f"expected {expected}, found {actual}")

    def row_id_at(self, seq: int) -> int | None:
        return db.session.scalar(select(AuditEvent.id).where(AuditEvent.seq == seq))

    def check_witnesses_reached(self) -> None:
        for seq in sorted(self.witnesses):
            if seq == 0 and self.witnesses[0] != GENESIS_HASH:
                raise _Broken("witness_mismatch", 0, None, "seq 0 only has the genesis hash")
            if seq > self.last_seq:
                raise _Broken("witness_missing", seq, None,
                              f"witnessed seq {seq}, the chain ends at seq {self.last_seq}")


def _hash_at(seq: int) -> str | None:
    if seq == 0:
        return GENESIS_HASH
    return db.session.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seq))


_RAW = ("occurred_at", "data")  # read raw, converted per row (see the module docstring)
_COLUMNS = ("id", "seq", "prev_hash", "hash", "tag", "account_id", "actor_id", "session_id",
            "staff_id", "office_id", "channel")


def _rows_after(seq: int, batch_size: int) -> Iterator[Any]:
    """Rows with a larger seq, in seq order, one keyset batch at a time."""
    table = AuditEvent.__table__
    columns = [table.c[name] for name in _COLUMNS]
    columns += [type_coerce(table.c[name], NullType()).label(name) for name in _RAW]
    while True:
        batch = db.session.execute(
            select(*columns).where(table.c.seq > seq).order_by(table.c.seq).limit(batch_size)
        ).all()
        yield from batch
        if len(batch) < batch_size:
            return
        seq = batch[-1].seq


def _fields(row: Any, convert: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """The chained fields of a raw row, converted as the ORM would convert them."""
    fields = {name: getattr(row, name) for name in _COLUMNS if name not in ("id", "prev_hash", "hash")}
    for name in _RAW:
        fields[name] = convert[name](getattr(row, name))
    if not isinstance(fields["occurred_at"], datetime):
        raise TypeError("occurred_at is not a timestamp")
    if fields["data"] is not None and not isinstance(fields["data"], dict):
        raise TypeError("data is not an object")
    return fields


def _converters() -> dict[str, Callable[[Any], Any]]:
    dialect = db.session.get_bind().dialect
    table = AuditEvent.__table__
    converters: dict[str, Callable[[Any], Any]] = {}
    for name in _RAW:
        column_type = table.c[name].type
        process = column_type.dialect_impl(dialect).result_processor(dialect, None)
        converters[name] = process or (lambda value: value)
    return converters
