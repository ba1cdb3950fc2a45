"""The order in which a sealer takes audit events (docs/audit.md, "Sealing").

Row ids on PostgreSQL are handed out at insert, not at commit: a slow transaction may hold an
early id (and an early transaction id, `xid`) while later events commit around it. A sealer that
took events in id order as they became visible would either seal past the slow one (which then
commits *behind* the sealed part) or skip it. So an event is only sealable once every
transaction with a smaller `xid` has ended: `xid < pg_snapshot_xmin(pg_current_snapshot())`,
evaluated in the same statement (the same snapshot) as the read, so a transaction below that
bound has committed, and its rows are visible, or rolled back, and they never will be. Events
come in (xid, id) order, after the cursor: a transaction's events are contiguous, no later
read can produce an event before the cursor, and none is returned twice.

SQLite serialises writers, so ids are in commit order there and `xid` stays NULL. Events of the
legacy hash chain (seq set) are never returned: the sealer seals them first, in seq order.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import BigInteger, Row, Select, Table, func, literal_column, select, tuple_

from idp.domain.audit_chain import CHAINED_FIELDS
from idp.extensions import db
from idp.models.audit import AuditEvent

Cursor = tuple[int, int]  # (xid, id) of the last sealed event; xid is 0 on SQLite
EVENTS = cast(Table, AuditEvent.__table__)
# Plain rows, not ORM objects: loading a batch as objects was a fifth of sealing's time
# (bench/README.md). A row has the chained fields plus id and xid, by attribute.
COLUMNS = [EVENTS.c.id, EVENTS.c.xid, *(EVENTS.c[name] for name in CHAINED_FIELDS)]

# Every transaction with a smaller id has ended (committed or rolled back) in this snapshot.
SNAPSHOT_XMIN = literal_column("pg_snapshot_xmin(pg_current_snapshot())::text::bigint", BigInteger)


def sealable_events(after: Cursor | None, limit: int) -> list[Row[Any]]:
    """Up to `limit` committed events that may be sealed next, in sealing order, after `after`."""
    if limit < 1:
        raise ValueError("limit must be positive")
    dialect = db.session.get_bind().dialect.name
    query = _postgres(after) if dialect == "postgresql" else _in_id_order(after)
    return list(db.session.connection().execute(query.limit(limit)).all())


def cursor_of(event: Any) -> Cursor:
    """The cursor after `event`, to pass as `after` for the next batch."""
    return (event.xid or 0, event.id)


def _postgres(after: Cursor | None) -> Select[Any]:
    query = select(*COLUMNS).where(AuditEvent.seq.is_(None), AuditEvent.xid < SNAPSHOT_XMIN)
    if after is not None:
        query = query.where(tuple_(AuditEvent.xid, AuditEvent.id) > tuple_(*after))
    return query.order_by(AuditEvent.xid, AuditEvent.id)


def _in_id_order(after: Cursor | None) -> Select[Any]:
    query = select(*COLUMNS).where(AuditEvent.seq.is_(None))
    if after is not None:
        query = query.where(AuditEvent.id > after[1])
    return query.order_by(AuditEvent.id)


def unsealed(after: Cursor | None, cap: int) -> tuple[int, datetime | None]:
    """How many events follow `after` in sealing order (at most `cap`: a range of the
    (xid, id) index, or of the primary key on SQLite) and the time of the oldest of them."""
    query = select(AuditEvent.occurred_at).where(AuditEvent.seq.is_(None))
    if db.session.get_bind().dialect.name == "postgresql":
        if after is not None:
            query = query.where(tuple_(AuditEvent.xid, AuditEvent.id) > tuple_(*after))
        query = query.order_by(AuditEvent.xid, AuditEvent.id)
    else:
        if after is not None:
            query = query.where(AuditEvent.id > after[1])
        query = query.order_by(AuditEvent.id)
    waiting = query.limit(cap).subquery()
    count, oldest = db.session.execute(select(func.count(), func.min(waiting.c.occurred_at))).one()
    return count, oldest
