"""Verify the sealed audit log (docs/audit.md): every leaf against its event, the tree against
every signed checkpoint, and the events the sealer has not reached yet.

`verify_log` walks the leaves in index order by keyset pagination (constant memory apart from
the checkpoints), recomputes each leaf from its event, rebuilds the tree with a Merkle frontier
and, at each checkpoint's size, compares the root with the checkpoint's signed note, checked
with the log's verifier keys. It reports the FIRST bad leaf or checkpoint. Checkpoints kept by a
witness outside the database (`witnesses`, signed notes) pin the tree at their sizes.

Event rows are read without SQLAlchemy's result processing and converted one by one, so a row
tampered into an unreadable value is reported as bad instead of crashing the walk.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, tuple_, type_coerce
from sqlalchemy.sql.sqltypes import NullType

from idp.domain import merkle
from idp.domain.audit_chain import CHAINED_FIELDS
from idp.domain.checkpoint import Checkpoint, open_note
from idp.extensions import db
from idp.models.audit import AuditCheckpoint, AuditEvent, AuditLeaf
from idp.models.base import utcnow
from idp.services.platform import audit_key
from idp.services.platform.audit_seal import leaf_of

BATCH_SIZE = 1000

# Reason codes (stable: scripts match on them) and what each one means.
REASONS = {
    "leaf_mismatch": "the event does not give its leaf hash (edited, or moved to another place)",
    "unreadable": "the event cannot be read (edited)",
    "event_missing": "a sealed event is gone (deleted)",
    "leaf_missing": "a leaf index is missing (leaf deleted)",
    "out_of_order": "sealed events are not in commit order (reordered)",
    "root_mismatch": "the tree's root at a checkpoint's size is not the checkpoint's "
                     "(leaves edited, inserted, deleted or reordered)",
    "bad_signature": "a checkpoint's note is not signed by the log's key (forged or rewritten)",
    "truncated": "the tree ends before the last checkpoint's size (leaves at the end deleted)",
    "unsigned_leaf": "leaves past the last checkpoint (inserted: the sealer signs every batch)",
    "unsealed_behind_cursor": "an event the sealer has passed has no leaf (inserted afterwards)",
    "witness_mismatch": "the tree at a witnessed size has another root (history rewritten)",
    "witness_missing": "the tree is smaller than a witnessed checkpoint (leaves deleted)",
    "witness_unreadable": "a witnessed checkpoint does not open with the log's verifier keys",
}


@dataclass(frozen=True)
class LogReport:
    """The verdict. When not ok, `bad_seq` is the first leaf position (leaf index + 1) that
    cannot be trusted and `bad_row_id` the event found there (None when there is none)."""

    ok: bool
    events_checked: int
    tree_size: int
    root_hash: str
    checkpoints_checked: int = 0
    bad_seq: int | None = None
    bad_row_id: int | None = None
    reason: str | None = None
    detail: str | None = None
    unsealed: int = 0
    unsealed_oldest_age_seconds: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "events_checked": self.events_checked,
                "tree_size": self.tree_size, "root_hash": self.root_hash,
                "checkpoints_checked": self.checkpoints_checked, "bad_seq": self.bad_seq,
                "bad_row_id": self.bad_row_id, "reason": self.reason, "detail": self.detail,
                "unsealed": self.unsealed,
                "unsealed_oldest_age_seconds": self.unsealed_oldest_age_seconds}


class _Broken(Exception):
    def __init__(self, reason: str, seq: int | None, row_id: int | None, specifics: str = "") -> None:
        super().__init__(reason)
        self.reason, self.seq, self.row_id = reason, seq, row_id
        self.detail = f"{REASONS[reason]}: {specifics}" if specifics else REASONS[reason]


@dataclass
class _Walk:
    """The tree rebuilt so far and the checkpoints it must meet."""

    checkpoints: list[tuple[int, str, int]]  # (size, note, row id), by size
    witnesses: dict[int, bytes]
    verifiers: list[str]
    origin: str
    frontier: merkle.Frontier = field(default_factory=merkle.Frontier)
    last_order: tuple[int, int] | None = None
    checked_checkpoints: int = 0

    def add(self, index: int, row: Any, convert: dict[str, Callable[[Any], Any]]) -> None:
        seq = index + 1
        if row.leaf_index != index:
            raise _Broken("leaf_missing", seq, None, f"expected leaf {index}, found {row.leaf_index}")
        if row.id is None:
            raise _Broken("event_missing", seq, row.event_id, f"leaf {index} names event {row.event_id}")
        try:
            leaf = leaf_of(_fields(row, convert), index)
        except (TypeError, ValueError, AttributeError, UnicodeError) as exc:
            raise _Broken("unreadable", seq, row.id, type(exc).__name__) from None
        if leaf.hex() != row.leaf_hash or (row.seq is not None and row.seq != seq):
            raise _Broken("leaf_mismatch", seq, row.id)
        if row.seq is None:  # sealed in commit order: (xid, id) grows along the leaves
            order = (row.xid or 0, row.id)
            if self.last_order is not None and order <= self.last_order:
                raise _Broken("out_of_order", seq, row.id)
            self.last_order = order
        self.frontier = self.frontier.append(leaf)
        self.meet(seq, row.id)

    def meet(self, size: int, row_id: int | None) -> None:
        """Check the checkpoints and witnesses at `size`, the tree size just reached."""
        if not (self.checkpoints and self.checkpoints[0][0] == size) and size not in self.witnesses:
            return  # the root is only needed where a checkpoint or a witness names this size
        root = self.frontier.root()
        while self.checkpoints and self.checkpoints[0][0] == size:
            _, note, checkpoint_id = self.checkpoints.pop(0)
            opened = _open(note, self.verifiers)
            if opened is None:
                raise _Broken("bad_signature", size, row_id, f"checkpoint {checkpoint_id}")
            if (opened.origin, opened.size, opened.root) != (self.origin, size, root):
                raise _Broken("root_mismatch", size, row_id,
                              f"checkpoint {checkpoint_id} of size {opened.size}")
            self.checked_checkpoints += 1
        witnessed = self.witnesses.pop(size, None)
        if witnessed is not None and witnessed != root:
            raise _Broken("witness_mismatch", size, row_id, f"at tree size {size}")


def verify_log(*, witnesses: Sequence[str] = (), batch_size: int = BATCH_SIZE) -> LogReport:
    """Check every leaf, checkpoint and witnessed checkpoint note; never writes, never raises
    for tampered data (database errors propagate). Reports the first bad leaf."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    walk: _Walk | None = None
    checked = 0
    try:
        verifiers = audit_key.verifier_keys()
        rows = db.session.execute(select(AuditCheckpoint.tree_size, AuditCheckpoint.note,
                                         AuditCheckpoint.id, AuditCheckpoint.cursor_xid,
                                         AuditCheckpoint.cursor_id)
                                  .order_by(AuditCheckpoint.tree_size)).all()
        walk = _Walk([(r.tree_size, r.note, r.id) for r in rows], _witnessed(witnesses, verifiers),
                     verifiers, audit_key.key_name())
        walk.meet(0, None)
        convert = _converters()
        for row in _leaves(batch_size):
            walk.add(checked, row, convert)
            checked += 1
        if walk.checkpoints:
            raise _Broken("truncated", checked + 1, None,
                          f"{checked} leaves, a checkpoint says {walk.checkpoints[0][0]}")
        size = rows[-1].tree_size if rows else 0
        if checked > size:
            raise _Broken("unsigned_leaf", size + 1, _event_at(size),
                          f"{checked} leaves, the last checkpoint says {size}")
        if walk.witnesses:
            raise _Broken("witness_missing", min(walk.witnesses), None,
                          f"the tree has {checked} leaves")
        cursor = (rows[-1].cursor_xid, rows[-1].cursor_id) if rows else (None, None)
        behind = _unsealed_behind(cursor)
        if behind is not None:
            raise _Broken("unsealed_behind_cursor", None, behind, f"event {behind}")
        unsealed, oldest = _backlog()
    except _Broken as broken:
        size = walk.frontier.size if walk else 0
        root = walk.frontier.root().hex() if walk else merkle.EMPTY_ROOT.hex()
        return LogReport(False, checked, size, root,
                         walk.checked_checkpoints if walk else 0, broken.seq, broken.row_id,
                         broken.reason, broken.detail)
    finally:
        db.session.rollback()  # read-only: end the transaction
    return LogReport(True, checked, walk.frontier.size, walk.frontier.root().hex(),
                     walk.checked_checkpoints, unsealed=unsealed,
                     unsealed_oldest_age_seconds=oldest)


def _open(note: str, verifiers: Sequence[str]) -> Checkpoint | None:
    for verifier in verifiers:
        try:
            return open_note(note, verifier)
        except ValueError:
            continue
    return None


def _witnessed(notes: Sequence[str], verifiers: Sequence[str]) -> dict[int, bytes]:
    pinned: dict[int, bytes] = {}
    for note in notes:
        opened = _open(note, verifiers)
        if opened is None:
            raise _Broken("witness_unreadable", None, None)
        pinned[opened.size] = opened.root
    return pinned


def _backlog() -> tuple[int, float | None]:
    """How many events wait for the sealer, and the age of the oldest (seconds)."""
    unsealed = (select(func.count(), func.min(AuditEvent.occurred_at))
                .select_from(AuditEvent).outerjoin(AuditLeaf, AuditLeaf.event_id == AuditEvent.id)
                .where(AuditLeaf.event_id.is_(None)))
    count, oldest = db.session.execute(unsealed).one()
    if not count or oldest is None:
        return 0, None
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=utcnow().tzinfo)
    return count, max(0.0, (utcnow() - oldest).total_seconds())


def _unsealed_behind(cursor: tuple[int | None, int | None]) -> int | None:
    """An event with no leaf that the sealer has already passed (a legacy event, or one at or
    before the last checkpoint's cursor): only an insert after sealing puts one there."""
    no_leaf = (select(AuditEvent.id).outerjoin(AuditLeaf, AuditLeaf.event_id == AuditEvent.id)
               .where(AuditLeaf.event_id.is_(None)))
    legacy = db.session.scalar(no_leaf.where(AuditEvent.seq.is_not(None))
                               .order_by(AuditEvent.seq).limit(1))
    if legacy is not None and _has_unsealed_legacy_after_tree():
        legacy = None  # the sealer has not reached the legacy chain's end yet
    if legacy is not None:
        return legacy
    xid, last_id = cursor
    if last_id is None:
        return None
    passed = no_leaf.where(AuditEvent.seq.is_(None))
    if db.session.get_bind().dialect.name == "postgresql":
        passed = passed.where(tuple_(AuditEvent.xid, AuditEvent.id) <= tuple_(xid or 0, last_id))
    else:
        passed = passed.where(AuditEvent.id <= last_id)
    return db.session.scalar(passed.order_by(AuditEvent.id).limit(1))


def _has_unsealed_legacy_after_tree() -> bool:
    size = db.session.scalar(select(func.count()).select_from(AuditLeaf)) or 0
    return bool(db.session.scalar(select(func.count()).select_from(AuditEvent)
                                  .where(AuditEvent.seq > size)))


def _event_at(index: int) -> int | None:
    return db.session.scalar(select(AuditLeaf.event_id).where(AuditLeaf.leaf_index == index))


_RAW = ("occurred_at", "data")  # read raw, converted per row (see the module docstring)
_COLUMNS = ("id", "seq", "xid", "tag", "account_id", "actor_id", "session_id", "staff_id",
            "office_id", "channel")


def _leaves(batch_size: int) -> Iterator[Any]:
    """Leaves with their events (None columns when the event is gone), in leaf order."""
    leaf, event = AuditLeaf.__table__, AuditEvent.__table__
    columns = [leaf.c.leaf_index, leaf.c.event_id, leaf.c.leaf_hash]
    columns += [event.c[name] for name in _COLUMNS]
    columns += [type_coerce(event.c[name], NullType()).label(name) for name in _RAW]
    after = -1
    while True:
        batch = db.session.execute(
            select(*columns).select_from(leaf.outerjoin(event, event.c.id == leaf.c.event_id))
            .where(leaf.c.leaf_index > after).order_by(leaf.c.leaf_index).limit(batch_size)
        ).all()
        yield from batch
        if len(batch) < batch_size:
            return
        after = batch[-1].leaf_index


def _fields(row: Any, convert: dict[str, Callable[[Any], Any]]) -> dict[str, Any]:
    """The chained fields of a raw row, converted as the ORM would convert them."""
    fields = {name: getattr(row, name) for name in CHAINED_FIELDS if name not in _RAW}
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
