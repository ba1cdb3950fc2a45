"""The audit log's sealer: appends committed events, in batches, as leaves of one RFC 9162 Merkle
tree and signs a C2SP checkpoint after each batch (docs/audit.md).

`seal_once` seals one batch in one transaction: under a try-advisory-lock on PostgreSQL (another
sealer at work: it seals nothing), it reads the last checkpoint's frontier and cursor, takes the
next events (first the legacy hash chain, in seq order, each checked against its chain hash; then
`audit_order.sealable_events`, in commit order), inserts their leaves, extends the frontier, signs
the new tree head and inserts the checkpoint. The leaf of the event at leaf index i is
leaf_hash(canonical_event(event with seq = i + 1)): a legacy event's canonical bytes are exactly
those its chain hash covered. Leaves and checkpoints are append-only, like the events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Row, Table, func, insert, select, text
from sqlalchemy.exc import IntegrityError

from idp.domain import merkle
from idp.domain.audit_chain import CHAINED_FIELDS, GENESIS_HASH, canonical_event, chain_hash
from idp.domain.checkpoint import Checkpoint, sign, time_line
from idp.extensions import db
from idp.models.audit import AuditChainHead, AuditCheckpoint, AuditEvent, AuditLeaf
from idp.models.base import utcnow
from idp.services.platform import audit_key, audit_order, locks
from idp.services.platform.metrics import BACKLOG_CAP, Backlog

# Measured (bench/audit_chain.py, PostgreSQL, after the batch work went to plain rows and one
# leaf statement): batches of 1,024 sealed ~15,000-19,000 events/s, 2,048 ~27,000 and 4,096
# ~31,000 (each commit, checkpoint and head read is paid per batch); the oldest unsealed event
# stayed under 0.25 s at p99 for all three.
BATCH_SIZE = 4096
EMPTY_ROOT = merkle.EMPTY_ROOT.hex()
LOCK = "postid.audit.seal"
LEAVES = cast(Table, AuditLeaf.__table__)
CHECKPOINTS = cast(Table, AuditCheckpoint.__table__)
# A batch's leaves in one statement on PostgreSQL (the event ids as an array, the hashes as one
# comma-separated text), instead of an executemany of a row per leaf: that was a sixth of sealing's
# time (bench/README.md). SQLite's executemany is a loop in C and stays.
INSERT_LEAVES_PG = text(
    "INSERT INTO audit_leaf (leaf_index, event_id, leaf_hash) "
    "SELECT :start + n - 1, event_id, leaf_hash FROM unnest("
    "CAST(:event_ids AS bigint[]), string_to_array(:leaf_hashes, ',')) "
    "WITH ORDINALITY AS leaf(event_id, leaf_hash, n)")


class LegacyChainBroken(Exception):
    """The hash chain of events written before sealing is broken: it is not sealed."""

    def __init__(self, seq: int, row_id: int | None, detail: str) -> None:
        super().__init__(f"legacy audit chain broken at seq {seq}: {detail}")
        self.seq, self.row_id, self.detail = seq, row_id, detail


@dataclass(frozen=True)
class Head:
    """The last checkpoint's tree and cursor (an empty tree before the first)."""

    frontier: merkle.Frontier
    cursor: audit_order.Cursor | None


def leaf_of(fields: Mapping[str, Any], leaf_index: int) -> bytes:
    """The leaf hash of an event (its chained fields, by name) at `leaf_index`."""
    return merkle.leaf_hash(canonical_event({**fields, "seq": leaf_index + 1}))


def fields_of(event: Any) -> dict[str, Any]:
    """The chained fields of an event (a row or an AuditEvent), by attribute."""
    return {name: getattr(event, name) for name in CHAINED_FIELDS}


def latest_checkpoint() -> AuditCheckpoint | None:
    return db.session.scalars(select(AuditCheckpoint)
                              .order_by(AuditCheckpoint.tree_size.desc()).limit(1)).first()


def read_head() -> Head:
    last = latest_checkpoint()
    if last is None:
        return Head(merkle.Frontier(), None)
    cursor = (last.cursor_xid or 0, last.cursor_id) if last.cursor_id is not None else None
    return Head(merkle.Frontier.from_json(last.frontier), cursor)


def backlog() -> Backlog:
    """Events committed but not sealed yet (counted up to BACKLOG_CAP) and the age of the
    oldest: those after the last checkpoint's cursor, read along the sealer's own order, never
    the whole log. Reads in the caller's transaction."""
    last = db.session.execute(select(AuditCheckpoint.cursor_xid, AuditCheckpoint.cursor_id)
                              .order_by(AuditCheckpoint.tree_size.desc()).limit(1)).first()
    cursor = (last.cursor_xid or 0, last.cursor_id) if last and last.cursor_id is not None else None
    count, oldest = audit_order.unsealed(cursor, BACKLOG_CAP)
    return Backlog.of(count, oldest, utcnow())


def seal_once(limit: int = BATCH_SIZE) -> int:
    """Seal the next batch of up to `limit` events; the number sealed (0: nothing to seal, or
    another sealer is at work). Raises LegacyChainBroken rather than seal a broken chain."""
    if limit < 1:
        raise ValueError("limit must be positive")
    audit_key.ensure_key()  # commits if it creates the key: before the sealing transaction
    try:
        if not locks.try_advisory_xact_lock(LOCK):
            db.session.rollback()
            return 0
        head = read_head()
        legacy = _legacy_batch(head.frontier.size, limit)
        events = legacy or audit_order.sealable_events(head.cursor, limit)
        if not events:
            db.session.rollback()
            return 0
        cursor = head.cursor if legacy else audit_order.cursor_of(events[-1])
        _append(head.frontier, events, cursor)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()  # another sealer (SQLite, another process) sealed this batch
        return 0
    except BaseException:
        db.session.rollback()
        raise
    return len(events)


def seal_all(limit: int = BATCH_SIZE) -> int:
    """Seal until nothing is left (or another sealer has taken over); the number sealed."""
    total = 0
    while (sealed := seal_once(limit)) > 0:
        total += sealed
    return total


def _append(frontier: merkle.Frontier, events: Sequence[Any],
            cursor: audit_order.Cursor | None) -> None:
    start = frontier.size
    leaves = [leaf_of(_chained(event), start + n) for n, event in enumerate(events)]
    _insert_leaves(start, [event.id for event in events], leaves)
    frontier = frontier.extend(leaves)
    now, root = utcnow(), frontier.root()
    signer = audit_key.current_signer()
    checkpoint = Checkpoint(signer.name, frontier.size, root, (time_line(now),))
    db.session.execute(insert(CHECKPOINTS).values(
        tree_size=frontier.size, root_hash=root.hex(),
        note=sign(checkpoint, signer.name, signer.private_key), kid=signer.kid,
        cursor_xid=cursor[0] if cursor else None, cursor_id=cursor[1] if cursor else None,
        frontier=frontier.to_json(), created_at=now))


def _chained(event: Any) -> Mapping[str, Any]:
    """A row's own mapping (no copy: it is most of a batch's events) or an AuditEvent's fields."""
    return cast(Mapping[str, Any], event._mapping) if isinstance(event, Row) else fields_of(event)


def _insert_leaves(start: int, event_ids: list[int], leaves: list[bytes]) -> None:
    hashes = [leaf.hex() for leaf in leaves]
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.connection().execute(INSERT_LEAVES_PG, {
            "start": start, "event_ids": event_ids, "leaf_hashes": ",".join(hashes)})
        return
    db.session.connection().execute(insert(LEAVES), [
        {"leaf_index": start + n, "event_id": event_id, "leaf_hash": leaf_hash}
        for n, (event_id, leaf_hash) in enumerate(zip(event_ids, hashes, strict=True))])


def _legacy_batch(sealed: int, limit: int) -> list[AuditEvent]:
    """The next events of the legacy hash chain, checked link by link (leaf i is seq i + 1)."""
    last_seq = db.session.scalar(select(func.max(AuditEvent.seq)))
    if last_seq is None or last_seq <= sealed:
        return []
    prev = GENESIS_HASH if sealed == 0 else db.session.scalar(
        select(AuditEvent.hash).where(AuditEvent.seq == sealed))
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.seq > sealed)
                                     .order_by(AuditEvent.seq).limit(limit)))
    for expected, event in enumerate(events, start=sealed + 1):
        if event.seq != expected:
            raise LegacyChainBroken(expected, event.id, f"found seq {event.seq}")
        if event.prev_hash != prev or chain_hash(prev or "", fields_of(event)) != event.hash:
            raise LegacyChainBroken(expected, event.id, "the event does not match its chain hash")
        prev = event.hash
    if events[-1].seq == last_seq:
        head = db.session.get(AuditChainHead, 1)
        if head is None or (head.seq, head.hash) != (last_seq, prev):
            raise LegacyChainBroken(last_seq, events[-1].id,
                                    "the chain does not end at its head row")
    return events
