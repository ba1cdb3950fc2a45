"""The sealed audit log (docs/audit.md): events committed by real transactions, sealed into one
Merkle tree with signed checkpoints, verified, then tampered with by direct SQL; each edit,
deletion, insertion, reordering or rewrite is detected and the first bad leaf is named."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, text

from idp.domain import merkle
from idp.domain.checkpoint import Checkpoint, sign
from idp.extensions import db
from idp.models import AuditCheckpoint, AuditEvent, AuditLeaf, AuditTag
from idp.services.platform import audit, audit_key, audit_seal
from idp.services.platform.audit_verify import verify_log
from tests.services.platform.audit_chain_helpers import (
    EVENTS,
    assert_broken,
    build_log,
    commit_events,
    seal,
    tamper,
    unguard,
    verify,
)

# --- an intact log --------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_a_log_built_by_real_commits_and_sealed_verifies(app, batch_size):
    rows = build_log(app, limit=3)
    assert [r.seq for r in rows] == list(range(1, EVENTS + 1))
    report = verify(app, batch_size=batch_size)
    assert (report.ok, report.events_checked, report.tree_size, report.checkpoints_checked,
            report.unsealed) == (True, EVENTS, EVENTS, 3, 0), report
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        # Rolled-back failures left no event; new events carry no chain columns.
        assert AuditTag.ACCOUNT_LOGIN_FAILURE.value not in {e.tag for e in events}
        assert {(e.seq, e.prev_hash, e.hash) for e in events} == {(None, None, None)}
        assert [r.event_id for r in rows] == [e.id for e in events]  # sealed in commit order
        sizes = db.session.scalars(select(AuditCheckpoint.tree_size)
                                   .order_by(AuditCheckpoint.tree_size)).all()
        assert sizes == [3, 6, 8]
        leaves = [bytes.fromhex(r.leaf_hash) for r in rows]
        assert report.root_hash == merkle.root(leaves).hex()


def test_an_empty_log_verifies_and_sealing_nothing_makes_no_checkpoint(app):
    assert seal(app) == 0
    report = verify(app)
    assert (report.ok, report.tree_size, report.root_hash) == (True, 0, merkle.EMPTY_ROOT.hex())


def test_unsealed_events_are_reported_as_backlog_then_sealed(app):
    build_log(app)
    with app.app_context():
        audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=1)
        audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=2)
        db.session.commit()
    report = verify(app)
    assert report.ok and report.unsealed == 2 and report.unsealed_oldest_age_seconds is not None
    assert seal(app) == 2
    report = verify(app)
    assert (report.ok, report.events_checked, report.unsealed) == (True, EVENTS + 2, 0)


def test_checkpoints_signed_before_a_key_rotation_still_verify(app):
    build_log(app)
    with app.app_context():
        audit_key.rotate()  # audited: one more event
    assert seal(app) == 1
    report = verify(app)
    assert report.ok and report.checkpoints_checked == 4
    with app.app_context():  # each checkpoint names the key that signed it
        kids = list(db.session.scalars(select(AuditCheckpoint.kid).order_by(AuditCheckpoint.id)))
        current, previous = (row.kid for row in audit_key.keys())
        assert kids == [previous] * 3 + [current]


def test_the_sealer_seals_nothing_while_another_holds_the_lock(app):
    commit_events(app)
    with app.app_context():
        audit_key.ensure_key()
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the sealing lock is a PostgreSQL advisory lock")
        from idp.services.platform.locks import lock_id
        with db.engine.connect() as other:
            other.execute(text("SELECT pg_advisory_lock(:id)"), {"id": lock_id(audit_seal.LOCK)})
            assert audit_seal.seal_once() == 0
            other.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id(audit_seal.LOCK)})
        assert audit_seal.seal_all() == EVENTS


# --- tampering --------------------------------------------------------------------------------


def test_an_edited_event_is_named(app):
    rows = build_log(app)
    tamper(app, "UPDATE audit_event SET account_id = 999 WHERE id = :id", id=rows[4].event_id)
    assert_broken(verify(app), "leaf_mismatch", 5, rows[4].event_id)


def test_an_unreadable_event_is_named(app):
    rows = build_log(app)
    tamper(app, "UPDATE audit_event SET data = '[1, 2]' WHERE id = :id", id=rows[2].event_id)
    assert_broken(verify(app), "unreadable", 3, rows[2].event_id)


@pytest.mark.parametrize("position", [0, 4, EVENTS - 1])
def test_a_deleted_sealed_event_is_named(app, position):
    rows = build_log(app)
    tamper(app, "DELETE FROM audit_event WHERE id = :id", id=rows[position].event_id)
    assert_broken(verify(app), "event_missing", position + 1, rows[position].event_id)


def test_a_deleted_leaf_in_the_middle_is_named(app):
    build_log(app)
    tamper(app, "DELETE FROM audit_leaf WHERE leaf_index = 3")
    assert_broken(verify(app), "leaf_missing", 4, None)


def test_deleted_leaves_at_the_end_are_caught_by_the_last_checkpoint(app):
    build_log(app)
    tamper(app, "DELETE FROM audit_leaf WHERE leaf_index = :last", last=EVENTS - 1)
    assert_broken(verify(app), "truncated", EVENTS, None)


def test_an_inserted_leaf_past_the_last_checkpoint_is_named(app):
    build_log(app)
    with app.app_context():
        audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=1)
        db.session.commit()
        event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        leaf = audit_seal.leaf_of(audit_seal.fields_of(event), EVENTS)
        db.session.add(AuditLeaf(leaf_index=EVENTS, event_id=event.id, leaf_hash=leaf.hex()))
        db.session.commit()
        event_id = event.id
    assert_broken(verify(app), "unsigned_leaf", EVENTS + 1, event_id)


def test_an_event_inserted_behind_the_sealers_cursor_is_named(app):
    # A back-dated event given an id (and, on PostgreSQL, a transaction id) the sealer has
    # already passed: it will never be sealed, so verify must name it rather than wait for it.
    build_log(app)
    tamper(app, "INSERT INTO audit_event (id, xid, tag, occurred_at, channel, data) "
                "VALUES (0, 1, 'account.logout', CURRENT_TIMESTAMP, 'web', '{}')")
    report = verify(app)
    assert_broken(report, "unsealed_behind_cursor", None, 0)
    assert report.events_checked == EVENTS


def test_a_leaf_pointed_at_a_forged_event_is_caught(app):
    rows = build_log(app)
    with app.app_context():
        audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=1)
        db.session.commit()
        forged = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        leaf = audit_seal.leaf_of(audit_seal.fields_of(forged), 3)
        forged_id = forged.id
    tamper(app, "UPDATE audit_leaf SET event_id = :e, leaf_hash = :h WHERE leaf_index = 3",
           e=forged_id, h=leaf.hex())
    # The forged event came later than the next sealed one; were it not, the root would differ.
    assert_broken(verify(app), "out_of_order", 5, rows[4].event_id)


def test_reordered_events_are_named(app):
    rows = build_log(app)
    # Swap the events of leaves 2 and 3, leaf hashes recomputed for their new places.
    with app.app_context():
        second, third = (db.session.get(AuditEvent, rows[i].event_id) for i in (1, 2))
        new = {2: (third.id, audit_seal.leaf_of(audit_seal.fields_of(third), 1).hex()),
               3: (second.id, audit_seal.leaf_of(audit_seal.fields_of(second), 2).hex())}
    tamper(app, "UPDATE audit_leaf SET event_id = -1 - leaf_index WHERE leaf_index IN (1, 2)")
    for seq, (event_id, leaf) in new.items():
        tamper(app, "UPDATE audit_leaf SET event_id = :e, leaf_hash = :h WHERE leaf_index = :i",
               e=event_id, h=leaf, i=seq - 1)
    assert_broken(verify(app), "out_of_order", 3, rows[1].event_id)


def test_swapped_events_without_new_leaf_hashes_are_named(app):
    rows = build_log(app)
    tamper(app, "UPDATE audit_leaf SET event_id = -1 WHERE leaf_index = 1")
    tamper(app, "UPDATE audit_leaf SET event_id = :e WHERE leaf_index = 2", e=rows[1].event_id)
    tamper(app, "UPDATE audit_leaf SET event_id = :e WHERE leaf_index = 1", e=rows[2].event_id)
    assert_broken(verify(app), "leaf_mismatch", 2, rows[2].event_id)


def _rewrite(app, from_index: int, *, resign: bool) -> None:
    """The strongest forger: edit an event, recompute every leaf, frontier and root after it,
    and (resign) sign the checkpoints again with a key of its own."""
    with app.app_context():
        unguard()
        rows = db.session.scalars(select(AuditLeaf).order_by(AuditLeaf.leaf_index)).all()
        event = db.session.get(AuditEvent, rows[from_index].event_id)
        db.session.execute(text("UPDATE audit_event SET data = :d WHERE id = :id"),
                           {"d": '{"rewritten": true}', "id": event.id})
        db.session.expire_all()
        frontier = merkle.Frontier()
        forger = Ed25519PrivateKey.generate()
        checkpoints = {c.tree_size: c for c in db.session.scalars(select(AuditCheckpoint))}
        for row in db.session.scalars(select(AuditLeaf).order_by(AuditLeaf.leaf_index)).all():
            event = db.session.get(AuditEvent, row.event_id)
            leaf = audit_seal.leaf_of(audit_seal.fields_of(event), row.leaf_index)
            frontier = frontier.append(leaf)
            db.session.execute(text("UPDATE audit_leaf SET leaf_hash = :h WHERE leaf_index = :i"),
                               {"h": leaf.hex(), "i": row.leaf_index})
            checkpoint = checkpoints.get(frontier.size)
            if checkpoint is not None:
                values = {"r": frontier.root().hex(), "f": frontier.to_json(), "id": checkpoint.id,
                          "n": checkpoint.note}
                if resign:
                    values["n"] = sign(Checkpoint(audit_key.key_name(), frontier.size,
                                                  frontier.root()), audit_key.key_name(), forger)
                db.session.execute(text("UPDATE audit_checkpoint SET root_hash = :r, note = :n "
                                        "WHERE id = :id"), values)
        db.session.commit()


def test_a_rewrite_with_recomputed_leaves_and_roots_fails_the_signed_root(app):
    build_log(app)
    _rewrite(app, 4, resign=False)
    report = verify(app)
    assert (report.ok, report.reason, report.bad_seq) == (False, "root_mismatch", 6)


def test_a_rewrite_signed_with_another_key_fails_the_signature(app):
    build_log(app)
    _rewrite(app, 4, resign=True)
    report = verify(app)
    assert (report.ok, report.reason, report.bad_seq) == (False, "bad_signature", 3)  # the first


def test_a_witnessed_checkpoint_catches_a_truncated_and_resealed_log(app):
    build_log(app)
    with app.app_context():
        note = db.session.scalar(select(AuditCheckpoint.note).where(AuditCheckpoint.tree_size == 8))
    assert verify(app, witnesses=[note]).ok
    tamper(app, "DELETE FROM audit_checkpoint WHERE tree_size = 8")
    tamper(app, "DELETE FROM audit_leaf WHERE leaf_index >= 6")
    assert verify(app).ok  # consistent again without the witness
    assert_broken(verify(app, witnesses=[note]), "witness_missing", 8, None)


# --- append-only in the database --------------------------------------------------------------


@pytest.mark.parametrize("statement", [
    "UPDATE audit_event SET tag = 'x'", "DELETE FROM audit_event", "TRUNCATE audit_event CASCADE",
    "UPDATE audit_leaf SET leaf_hash = 'x'", "DELETE FROM audit_leaf", "TRUNCATE audit_leaf",
    "UPDATE audit_checkpoint SET note = 'x'", "DELETE FROM audit_checkpoint",
    "TRUNCATE audit_checkpoint",
])
def test_the_application_connection_cannot_update_delete_or_truncate_audit_tables(app, statement):
    build_log(app)
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the append-only trigger is PostgreSQL's")
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
        assert verify_log().ok


def test_in_process_sealing_seals_what_a_context_stored_as_it_ends(app, make_app, database_url, tmp_path):
    from tests.conftest import make_settings

    sealing = make_app(make_settings(database_url, tmp_path / "sealing", audit_seal_in_process=True))
    with sealing.app_context():
        audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=1)
        db.session.commit()
    with app.app_context():
        assert db.session.scalar(select(AuditLeaf.event_id)) is not None
    report = verify(app)
    assert (report.ok, report.events_checked, report.unsealed) == (True, 1, 0)
