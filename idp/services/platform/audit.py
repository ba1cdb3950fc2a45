"""Audit trail: an append-only, hash-chained log (docs/architecture.md §11).

`record` queues an event on the caller's transaction; the events are chained and inserted just
before that transaction commits, so an event is stored exactly when the action it describes is,
and never when it rolls back. Chaining takes the chain-head row lock as the *last* lock of the
transaction: the lock is held only for the final inserts and the commit, and no transaction
waits for it while holding it, so it cannot deadlock with the locks taken by the action.

Events carry ids and codes, not personal data. No code path updates or deletes audit rows.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Connection,
    Insert,
    Table,
    bindparam,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from idp.domain.audit_chain import GENESIS_HASH, chain_hash
from idp.extensions import db
from idp.models.audit import AuditChainHead, AuditEvent, AuditTag
from idp.models.base import utcnow

PENDING = "idp.audit.pending"
HEAD_ID = 1
# A declarative model's __table__ is a Table; SQLAlchemy types it as the wider FromClause.
EVENTS = cast(Table, AuditEvent.__table__)
HEAD = cast(Table, AuditChainHead.__table__)
# Built once: statement construction cost more than executing these small statements.
LOCK_HEAD = update(HEAD).where(HEAD.c.id == HEAD_ID).values(updated_at=bindparam("now"))
READ_HEAD = select(HEAD.c.seq, HEAD.c.hash).where(HEAD.c.id == HEAD_ID)
MOVE_HEAD = update(HEAD).where(HEAD.c.id == HEAD_ID).values(seq=bindparam("new_seq"),
                                                          hash=bindparam("new_hash"))
INSERT_EVENTS = insert(EVENTS)
# On PostgreSQL each event also records its transaction's id (64 bits, never wraps): the order
# in which a sealer may take events (idp/services/platform/audit_order.py, docs/audit.md).
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
    """Queue an event on the current transaction; it is chained and stored at commit."""
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


def _lock_head(connection: Connection) -> tuple[int, str]:
    """Lock the head row (UPDATE first: a row lock on PostgreSQL, the write lock on SQLite)."""
    now = {"now": utcnow()}
    if connection.execute(LOCK_HEAD, now).rowcount == 0:
        # A database emptied by hand (tests): start a new chain. Concurrent first appends all
        # get here; ON CONFLICT makes the losers wait for the winner's row, then lock it.
        connection.execute(_insert_missing_head(connection.dialect.name))
        connection.execute(LOCK_HEAD, now)
    row = connection.execute(READ_HEAD).one()
    return row.seq, row.hash


def _insert_missing_head(dialect: str) -> Insert:
    values = {"id": HEAD_ID, "seq": 0, "hash": GENESIS_HASH, "updated_at": utcnow()}
    if dialect == "postgresql":
        return postgresql.insert(HEAD).values(values).on_conflict_do_nothing()
    if dialect == "sqlite":
        return sqlite.insert(HEAD).values(values).on_conflict_do_nothing()
    return insert(HEAD).values(values)


def _fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "seq": event.seq, "tag": event.tag, "occurred_at": event.occurred_at,
        "account_id": event.account_id, "actor_id": event.actor_id,
        "session_id": event.session_id, "staff_id": event.staff_id,
        "office_id": event.office_id, "channel": event.channel, "data": event.data,
    }


def append_pending(session: Session) -> None:
    """Chain and insert the transaction's queued events (SQLAlchemy `before_commit`).

    Core statements on the session's connection, not ORM units of work: this runs on every
    audited commit (each sign-in), and the ORM path cost several times more than the SQL."""
    pending: list[AuditEvent] = session.info.pop(PENDING, [])
    if not pending:
        return
    # SQLAlchemy flushes *after* before_commit: flush the action's own changes now, so their
    # row locks are taken before the head lock and the head lock really is the last one.
    session.flush()
    connection = session.connection()
    seq, prev = _lock_head(connection)
    rows = []
    for event in pending:
        seq += 1
        event.seq, event.prev_hash = seq, prev
        event.hash = prev = chain_hash(prev, _fields(event))
        rows.append(dict(_fields(event), prev_hash=event.prev_hash, hash=event.hash))
    postgres = connection.dialect.name == "postgresql"
    connection.execute(INSERT_EVENTS_PG if postgres else INSERT_EVENTS, rows)
    connection.execute(MOVE_HEAD, {"new_seq": seq, "new_hash": prev})


def _discard_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended: commit wrote them
        session.info.pop(PENDING, None)


def install(session_factory: Any) -> None:
    """Hook the chain into every commit of the application's sessions."""
    if not sa_event.contains(session_factory, "before_commit", append_pending):
        sa_event.listen(session_factory, "before_commit", append_pending)
        sa_event.listen(session_factory, "after_transaction_end", _discard_pending)
