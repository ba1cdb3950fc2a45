"""The sealer's order (idp/services/platform/audit_order.py; docs/audit.md, "Sealing"): every
committed event is returned exactly once, never one past a transaction that may still commit."""

from __future__ import annotations

import random
import threading
import time

import pytest
from sqlalchemy import Connection, select

from idp.extensions import db
from idp.models import AuditEvent, AuditTag
from idp.services.platform import audit
from idp.services.platform.audit_order import Cursor, cursor_of, sealable_events
from tests.services.platform.audit_chain_helpers import ON_POSTGRES


def plain_insert(connection: Connection, marker: str) -> AuditEvent:
    """An event inserted as an append is: a bare INSERT with the transaction's id."""
    statement = audit.INSERT_EVENTS_PG if connection.dialect.name == "postgresql" else audit.INSERT_EVENTS
    connection.execute(statement, [{
        "tag": AuditTag.ACCOUNT_LOGIN_SUCCESS.value,
        "occurred_at": audit.utcnow(), "channel": "web", "data": {"marker": marker}}])
    row = connection.execute(select(AuditEvent.id, AuditEvent.xid)
                             .where(AuditEvent.data["marker"].as_string() == marker)).one()
    return AuditEvent(id=row.id, xid=row.xid, data={"marker": marker})


def commit_events(*markers: str) -> None:
    """One audited transaction through the real path (audit.record, stored at commit)."""
    for marker in markers:
        audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, marker=marker)
    db.session.commit()


class Sealer:
    """Takes batches as a sealer would, remembering (marker, cursor) of everything it sealed."""

    def __init__(self, batch: int = 2) -> None:
        self.cursor: Cursor | None = None
        self.sealed: list[tuple[str, Cursor]] = []
        self.batch = batch

    def run(self) -> list[str]:
        """Seal until nothing is sealable now; the markers sealed by this run."""
        new: list[tuple[str, Cursor]] = []
        while batch := sealable_events(self.cursor, self.batch):
            self.cursor = cursor_of(batch[-1])
            new += [(event.data["marker"], cursor_of(event)) for event in batch]
        db.session.rollback()  # read-only: end the snapshot
        self.sealed += new
        return [marker for marker, _ in new]

    def markers(self) -> list[str]:
        return [marker for marker, _ in self.sealed]

    def cursors(self) -> list[Cursor]:
        return [cursor for _, cursor in self.sealed]


def test_sqlite_and_postgres_seal_committed_events_once_in_batches(app):
    with app.app_context():
        sealer = Sealer(batch=2)
        assert sealer.run() == []
        commit_events("a")
        commit_events("b", "c")
        audit.record(AuditTag.ACCOUNT_LOGIN_FAILURE, marker="rolled back")
        db.session.execute(select(1))
        db.session.rollback()
        assert sealer.run() == ["a", "b", "c"]
        commit_events("d")
        assert sealer.run() == ["d"]
        assert sealer.run() == []
        ids = [event_id for _, event_id in sealer.cursors()]
        assert ids == sorted(ids) and len(set(ids)) == 4


def test_a_non_positive_limit_is_refused(app):
    with app.app_context(), pytest.raises(ValueError):
        sealable_events(None, 0)


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="transaction ids need PostgreSQL (IDP_TEST_DATABASE_URL)")
def test_a_slow_transaction_holds_back_sealing_and_is_sealed_once_it_commits(app):
    """The slow transaction takes an early id and xid, later ones commit around it: nothing at or
    past its xid is sealed while it runs, it is sealed once after it commits, nothing twice."""
    with app.app_context():
        sealer = Sealer(batch=2)
        commit_events("before")
        with db.engine.connect() as slow, db.engine.connect() as doomed:
            slow.begin()
            held = plain_insert(slow, "slow")  # early id, early xid, not committed
            commit_events("after-1")
            commit_events("after-2", "after-3")
            doomed.begin()
            plain_insert(doomed, "doomed")
            doomed.rollback()
            audit.record(AuditTag.ACCOUNT_LOGIN_FAILURE, marker="rolled back")
            db.session.execute(select(1))
            db.session.rollback()
            later = db.session.scalars(select(AuditEvent).where(AuditEvent.id > held.id)).all()
            assert len(later) == 3 and all(event.xid > held.xid for event in later)

            assert _run_until(sealer, {"before"}) == ["before"]
            assert all(xid < held.xid for xid, _ in sealer.cursors())
            commit_events("after-4")
            assert sealer.run() == []  # still running: nothing past it
            slow.commit()

        everything = {"before", "slow", "after-1", "after-2", "after-3", "after-4"}
        _run_until(sealer, everything)
        assert sealer.markers() == ["before", "slow", "after-1", "after-2", "after-3", "after-4"]
        order = sealer.cursors()
        assert order == sorted(order) and len(set(order)) == len(order)
        assert sealer.run() == []


WRITERS, TRANSACTIONS = 6, 12


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="transaction ids need PostgreSQL (IDP_TEST_DATABASE_URL)")
def test_a_sealer_racing_writers_takes_every_committed_event_once(app):
    """Writers hold their transactions open for random times after inserting (some roll back)
    while a sealer keeps advancing its cursor: at the end it has every committed event exactly
    once and no rolled-back one; a miss would be final, as the cursor never moves back."""
    barrier = threading.Barrier(WRITERS + 1)
    done = threading.Event()
    errors: list[BaseException] = []
    committed: list[str] = []
    sealer = Sealer(batch=3)

    def write(number: int) -> None:
        rng = random.Random(number)
        try:
            with app.app_context():
                barrier.wait()
                for i in range(TRANSACTIONS):
                    with db.engine.connect() as connection:
                        connection.begin()
                        marker = f"w{number}-{i}"
                        plain_insert(connection, marker)
                        time.sleep(rng.uniform(0, 0.03))
                        if i % 4 == 3:
                            connection.rollback()
                        else:
                            connection.commit()
                            committed.append(marker)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def seal() -> None:
        try:
            with app.app_context():
                barrier.wait()
                while not done.is_set():
                    sealer.run()
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    sealing = threading.Thread(target=seal)
    for thread in [*writers, sealing]:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    done.set()
    sealing.join(timeout=120)
    assert errors == []
    with app.app_context():
        _run_until(sealer, set(committed))
        db.session.remove()
    assert sorted(sealer.markers()) == sorted(committed)
    assert sealer.cursors() == sorted(set(sealer.cursors()))
    assert len(committed) == WRITERS * TRANSACTIONS * 3 // 4


def _run_until(sealer: Sealer, expected: set[str], timeout: float = 30.0) -> list[str]:
    """Run the sealer until it has sealed `expected`. The snapshot's xmin is server-wide, so a
    writing transaction in another database on the same server may delay (never reorder) it."""
    deadline = time.monotonic() + timeout
    got: list[str] = []
    while True:
        got += sealer.run()
        if expected <= set(sealer.markers()) or time.monotonic() > deadline:
            return got
        time.sleep(0.05)
