"""Audit trail: an append-only log, sealed in batches into a Merkle tree (docs/audit.md).

`record` queues an event on the caller's transaction; the events are inserted just before that
transaction commits, so an event is stored exactly when the action it describes is, and never
when it rolls back. The insert is a plain INSERT: no shared lock, no chain position. The sealer
(idp/services/platform/audit_seal.py) later gives each event its place in the tree; on
PostgreSQL each row records its transaction's id, the sealer's order (audit_order.py).

Events carry ids and codes, not personal data. No code path updates or deletes audit rows.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import BigInteger, Table, insert, literal_column
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session, SessionTransaction

from idp.extensions import db
from idp.models.audit import AuditEvent, AuditTag
from idp.models.base import utcnow

PENDING = "idp.audit.pending"
WROTE = "idp.audit.wrote"  # set on the session once a commit stored events (in-process sealing)
# A declarative model's __table__ is a Table; SQLAlchemy types it as the wider FromClause.
EVENTS = cast(Table, AuditEvent.__table__)
INSERT_EVENTS = insert(EVENTS)
# On PostgreSQL each event also records its transaction's id (64 bits, never wraps): the order
# in which the sealer takes events (idp/services/platform/audit_order.py, docs/audit.md).
CURRENT_XID = literal_column("pg_current_xact_id()::text::bigint", BigInteger)
INSERT_EVENTS_PG = insert(EVENTS).values(xid=CURRENT_XID)


def record(
    tag: AuditTag,
    *,
    account_id: int | None = None,
    actor_id: int | None = None,
    session_id: int | None = None,
    staff_id: int | None = None,
    office_id: int | None = None,
    channel: str = "web",
    **data: Any,
) -> AuditEvent:
    """Queue an event on the current transaction; it is stored at commit."""
    event = AuditEvent(
        tag=tag.value,
        occurred_at=utcnow(),
        account_id=account_id,
        actor_id=actor_id,
        session_id=session_id,
        staff_id=staff_id,
        office_id=office_id,
        channel=channel,
        data=data,
    )
    session = db.session()
    if session.get_transaction() is None:
        # Begin now: a rollback before any database work must still end a transaction (and so
        # drop this event in _discard_pending) instead of leaving it for the next commit.
        session.begin()
    session.info.setdefault(PENDING, []).append(event)
    return event


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "tag": event.tag, "occurred_at": event.occurred_at,
        "account_id": event.account_id, "actor_id": event.actor_id,
        "session_id": event.session_id, "staff_id": event.staff_id,
        "office_id": event.office_id, "channel": event.channel, "data": event.data,
    }


def append_pending(session: Session) -> None:
    """Insert the transaction's queued events (SQLAlchemy `before_commit`).

    One Core INSERT on the session's connection, not an ORM unit of work: this runs on every
    audited commit (each sign-in). No lock is taken beyond the rows inserted."""
    pending: list[AuditEvent] = session.info.pop(PENDING, [])
    if not pending:
        return
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    connection.execute(INSERT_EVENTS_PG if postgres else INSERT_EVENTS,
                       [_fields(event) for event in pending])
    session.info[WROTE] = True


def _discard_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: commit wrote them
        session.info.pop(PENDING, None)


def install(session_factory: Any) -> None:
    """Hook the insert of queued events into every commit of the application's sessions."""
    if not sa_event.contains(session_factory, "before_commit", append_pending):
        sa_event.listen(session_factory, "before_commit", append_pending)
        sa_event.listen(session_factory, "after_transaction_end", _discard_pending)
