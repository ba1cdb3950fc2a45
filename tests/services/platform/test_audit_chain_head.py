"""The audit chain's head row, external witnesses, and concurrent appends (docs/architecture.md §11)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from idp.domain.audit_chain import GENESIS_HASH
from idp.extensions import db
from idp.models import AuditChainHead, AuditEvent, AuditTag
from idp.services.platform import audit, audit_verify
from idp.services.platform.audit_verify import ChainHead, ChainReport, Witness, chain_head, verify_chain
from tests.services.platform.audit_chain_helpers import (
    EVENTS,
    ON_POSTGRES,
    assert_broken,
    build_chain,
    build_hash_at,
    rewrite_history,
    stored,
    tamper,
    verify,
)

# --- the head row and witnesses ---------------------------------------------------------------


def test_an_edited_head_hash_is_a_head_mismatch(app):
    rows = build_chain(app)
    tamper(app, "UPDATE audit_chain_head SET hash = :h", h="f" * 64)
    report = verify(app)
    assert_broken(report, "head_mismatch", EVENTS, rows[-1].id)
    assert report.head_hash == "f" * 64 and report.events_checked == EVENTS


def test_a_head_moved_back_leaves_events_beyond_it(app):
    rows = build_chain(app)
    tamper(app, "UPDATE audit_chain_head SET seq = :s, hash = :h", s=EVENTS - 2, h=rows[-3].hash)
    assert_broken(verify(app), "beyond_head", EVENTS - 1, rows[-2].id)


def test_a_head_moved_forward_is_truncation(app):
    build_chain(app)
    tamper(app, "UPDATE audit_chain_head SET seq = :s", s=EVENTS + 5)
    assert_broken(verify(app), "truncated", EVENTS + 1, None)


def test_a_deleted_head_row_is_detected(app):
    build_chain(app)
    tamper(app, "DELETE FROM audit_chain_head")
    report = verify(app)
    assert_broken(report, "head_missing", None, None)
    assert report.head_seq is None and report.head_hash is None


def test_a_rewritten_history_is_caught_only_by_a_witness(app):
    rows = build_chain(app)
    rewrite_history(app, 2)
    assert verify(app).ok
    assert_broken(verify(app, witnesses=[Witness(EVENTS, rows[-1].hash)]),
                  "witness_mismatch", EVENTS, rows[-1].id)
    # With several witnesses the earliest broken one is named.
    report = verify(app, witnesses=[Witness(1, rows[0].hash), Witness(5, rows[4].hash),
                                    Witness(EVENTS, rows[-1].hash)])
    assert_broken(report, "witness_mismatch", 5, rows[4].id)
    assert report.events_checked == 4


def test_a_matching_witness_passes_and_a_witness_is_case_insensitive(app):
    rows = build_chain(app)
    report = verify(app, witnesses=[Witness(3, rows[2].hash.upper()), Witness(EVENTS, rows[-1].hash)])
    assert report.ok and report.events_checked == EVENTS


def test_a_witness_of_seq_zero_must_be_the_genesis_hash(app):
    build_chain(app)
    assert_broken(verify(app, witnesses=[Witness(0, "1" * 64)]), "witness_mismatch", 0, None)


def test_verify_rejects_a_zero_batch(app):
    with app.app_context(), pytest.raises(ValueError):
        verify_chain(batch_size=0)


def test_chain_head_reports_genesis_before_any_event(app):
    with app.app_context():
        head = chain_head()
    assert (head.seq, head.hash, head.updated_at) == (0, GENESIS_HASH, None)
    rows = build_chain(app)
    with app.app_context():
        head = chain_head()
    assert (head.seq, head.hash) == (EVENTS, rows[-1].hash) and head.updated_at is not None


def test_events_appended_after_the_head_was_read_are_not_tampering(app, monkeypatch):
    """The walk may pass a head read just before appends committed: it re-reads the head."""
    rows = build_chain(app)
    real = audit_verify.read_head
    stale = iter([ChainHead(EVENTS - 2, rows[-3].hash, None)])
    monkeypatch.setattr(audit_verify, "read_head", lambda: next(stale, None) or real())
    assert verify(app) == ChainReport(True, EVENTS, EVENTS, rows[-1].hash)


# --- concurrency (PostgreSQL) -----------------------------------------------------------------

WRITERS, COMMITS = 8, 15


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="concurrency needs PostgreSQL (IDP_TEST_DATABASE_URL)")
def test_concurrent_audited_commits_make_one_gap_free_valid_chain(app):
    """8 writers commit audited transactions at once (some of two events, some rolled back)
    while a verifier runs: the chain stays linear, gap-free and valid throughout. The database
    starts without a head row, so the first appends also race to create it."""
    with app.app_context():
        assert db.session.get(AuditChainHead, 1) is None
    barrier = threading.Barrier(WRITERS + 1)
    done = threading.Event()
    errors: list[BaseException] = []
    reports: list[ChainReport] = []

    def write(number: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                for i in range(COMMITS):
                    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=number, n=i)
                    if i % 3 == 0:
                        audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=number, n=i)
                    db.session.execute(select(1))
                    if i % 5 == 4:
                        db.session.rollback()
                    else:
                        db.session.commit()
                db.session.remove()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    def check() -> None:
        try:
            with app.app_context():
                barrier.wait()
                while not done.is_set():
                    reports.append(verify_chain(batch_size=7))
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(n,)) for n in range(1, WRITERS + 1)]
    checker = threading.Thread(target=check)
    for thread in [*writers, checker]:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    done.set()
    checker.join(timeout=120)
    assert errors == []
    assert reports and all(report.ok for report in reports), [r for r in reports if not r.ok][:1]

    committed = [i for i in range(COMMITS) if i % 5 != 4]
    expected = WRITERS * sum(2 if i % 3 == 0 else 1 for i in committed)
    with app.app_context():
        assert [row.seq for row in stored()] == list(range(1, expected + 1))
        per_writer = db.session.execute(select(AuditEvent.account_id, func.count())
                                        .group_by(AuditEvent.account_id)).all()
        assert dict(per_writer) == {n: expected // WRITERS for n in range(1, WRITERS + 1)}
    assert verify(app) == ChainReport(True, expected, expected, build_hash_at(app, expected))
