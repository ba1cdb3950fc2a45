"""The audit hash chain (docs/architecture.md §11): built by real commits, verified, then tampered with by
direct SQL; each edit, deletion, insertion or reordering is detected and the first bad event
is named. The head row, witnesses and concurrency: test_audit_chain_head.py."""

from __future__ import annotations

import pytest
from sqlalchemy import JSON, bindparam, select, text

from idp.domain.audit_chain import GENESIS_HASH, chain_hash
from idp.extensions import db
from idp.models import AuditChainHead, AuditEvent, AuditTag
from idp.services.platform import audit
from idp.services.platform.audit_verify import ChainReport, Witness, chain_head
from tests.services.platform.audit_chain_helpers import (
    EVENTS,
    ON_POSTGRES,
    assert_broken,
    build_chain,
    build_hash_at,
    fields_of,
    forge,
    tamper,
    verify,
)

# --- an intact chain ------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_a_chain_built_by_real_commits_verifies(app, batch_size):
    rows = build_chain(app)
    assert [r.seq for r in rows] == list(range(1, EVENTS + 1))
    report = verify(app, batch_size=batch_size)
    assert report == ChainReport(True, EVENTS, EVENTS, rows[-1].hash)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
        # The rolled-back failures left no event; the chain links each event to the one before.
        assert AuditTag.ACCOUNT_LOGIN_FAILURE.value not in {e.tag for e in events}
        assert [e.prev_hash for e in events] == [GENESIS_HASH] + [e.hash for e in events[:-1]]
        head = db.session.get(AuditChainHead, 1)
        assert (head.seq, head.hash) == (EVENTS, rows[-1].hash)


def test_an_empty_chain_verifies_with_or_without_its_head_row(app):
    assert verify(app) == ChainReport(True, 0, 0, GENESIS_HASH)
    tamper(app, "INSERT INTO audit_chain_head (id, seq, hash, updated_at) "
                "VALUES (1, 0, :h, CURRENT_TIMESTAMP)", h=GENESIS_HASH)
    assert verify(app) == ChainReport(True, 0, 0, GENESIS_HASH)
    assert verify(app, witnesses=[Witness(0, GENESIS_HASH)]).ok


def test_verification_continues_as_the_chain_grows(app):
    build_chain(app)
    assert verify(app).ok
    with app.app_context():
        audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=1)
        db.session.commit()
        head = chain_head()
    report = verify(app, witnesses=[Witness(EVENTS, build_hash_at(app, EVENTS))])
    assert report.ok and report.events_checked == EVENTS + 1 == head.seq


# --- edits ------------------------------------------------------------------------------------


@pytest.mark.parametrize("assignment", [
    "tag = 'account.logout'",
    "account_id = 999",
    "actor_id = 5",
    "channel = 'cli'",
    "occurred_at = :moment",
])
def test_an_edited_column_is_a_hash_mismatch_at_that_event(app, assignment):
    rows = build_chain(app)
    params = {"moment": "2020-01-01 00:00:00"} if ":moment" in assignment else {}
    if ON_POSTGRES and params:
        assignment = "occurred_at = occurred_at - interval '1 second'"
        params = {}
    tamper(app, f"UPDATE audit_event SET {assignment} WHERE seq = 3", **params)
    assert_broken(verify(app), "hash_mismatch", 3, rows[2].id)


def test_edited_data_is_a_hash_mismatch(app):
    rows = build_chain(app)
    with app.app_context():
        db.session.execute(text("UPDATE audit_event SET data = :data WHERE seq = 6")
                           .bindparams(bindparam("data", type_=JSON)),
                           {"data": {"alg": "RS256", "next_kid": "forged"}})
        db.session.commit()
    report = verify(app)
    assert_broken(report, "hash_mismatch", 6, rows[5].id)
    assert report.events_checked == 5 and report.head_seq == EVENTS


def test_an_edit_with_a_recomputed_hash_breaks_the_next_link(app):
    rows = build_chain(app)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == 4))
        event.data = {"forged": True}
        event.hash = chain_hash(event.prev_hash, fields_of(event))
        db.session.commit()
    assert_broken(verify(app), "prev_hash_mismatch", 5, rows[4].id)


@pytest.mark.parametrize("value", ['[1, 2]', '"text"', "null-ish not json"])
def test_unreadable_data_is_reported_not_raised(app, value):
    if ON_POSTGRES and value.startswith("null-ish"):
        pytest.skip("PostgreSQL refuses invalid JSON itself")
    rows = build_chain(app)
    cast = "CAST(:v AS json)" if ON_POSTGRES else ":v"
    tamper(app, f"UPDATE audit_event SET data = {cast} WHERE seq = 2", v=value)
    report = verify(app)
    assert_broken(report, "unreadable", 2, rows[1].id)
    assert report.detail.startswith("the event cannot be read")


@pytest.mark.skipif(ON_POSTGRES, reason="PostgreSQL refuses a malformed timestamp itself")
def test_an_unreadable_timestamp_is_reported_not_raised(app):
    rows = build_chain(app)
    tamper(app, "UPDATE audit_event SET occurred_at = 'yesterday' WHERE seq = 7")
    assert_broken(verify(app), "unreadable", 7, rows[6].id)


# --- deletions, insertions, reordering -------------------------------------------------------


def test_a_deleted_middle_event_is_a_seq_gap_at_the_next_one(app):
    rows = build_chain(app)
    tamper(app, "DELETE FROM audit_event WHERE seq = 3")
    report = verify(app)
    assert_broken(report, "seq_gap", 4, rows[3].id)
    assert report.detail == ("a seq is missing (events deleted, inserted or renumbered): "
                             "expected seq 3, found seq 4") and report.events_checked == 2


def test_a_deleted_first_event_means_the_chain_does_not_start_at_one(app):
    rows = build_chain(app)
    tamper(app, "DELETE FROM audit_event WHERE seq = 1")
    assert_broken(verify(app), "chain_start", 2, rows[1].id)


def test_a_deleted_last_event_is_truncation(app):
    build_chain(app)
    tamper(app, "DELETE FROM audit_event WHERE seq = :s", s=EVENTS)
    report = verify(app)
    assert_broken(report, "truncated", EVENTS, None)
    assert report.events_checked == EVENTS - 1 and report.head_seq == EVENTS


def test_truncation_with_a_matching_head_is_caught_by_the_witness(app):
    rows = build_chain(app)
    witness = Witness(EVENTS, rows[-1].hash)
    tamper(app, "DELETE FROM audit_event WHERE seq = :s", s=EVENTS)
    tamper(app, "UPDATE audit_chain_head SET seq = :s, hash = :h", s=EVENTS - 1, h=rows[-2].hash)
    assert verify(app).ok  # consistent again: only an outside witness can tell
    assert_broken(verify(app, witnesses=[witness]), "witness_missing", EVENTS, None)


def test_a_forged_event_after_the_head_is_detected(app):
    rows = build_chain(app)
    forged = forge(app, EVENTS + 1, rows[-1].hash)
    report = verify(app)
    assert_broken(report, "beyond_head", EVENTS + 1, forged)
    assert report.events_checked == EVENTS + 1  # its link is fine; the head does not cover it


def test_a_forged_event_with_a_wrong_hash_is_a_hash_mismatch(app):
    rows = build_chain(app)
    forged = forge(app, EVENTS + 1, rows[-1].hash, good_hash=False)
    assert_broken(verify(app), "hash_mismatch", EVENTS + 1, forged)


def test_a_forged_event_inserted_in_the_middle_breaks_the_next_link(app):
    rows = build_chain(app)
    for seq in range(EVENTS, 2, -1):  # renumber from the end: seq is unique
        tamper(app, "UPDATE audit_event SET seq = seq + 1 WHERE seq = :s", s=seq)
    forge(app, 3, rows[1].hash)
    assert_broken(verify(app), "prev_hash_mismatch", 4, rows[2].id)


def test_two_swapped_events_are_detected_at_the_first(app):
    rows = build_chain(app)
    tamper(app, "UPDATE audit_event SET seq = -1 WHERE seq = 4")
    tamper(app, "UPDATE audit_event SET seq = 4 WHERE seq = 5")
    tamper(app, "UPDATE audit_event SET seq = 5 WHERE seq = -1")
    assert_broken(verify(app), "prev_hash_mismatch", 4, rows[4].id)
