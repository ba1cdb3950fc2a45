"""`idp audit seal|verify|head|checkpoint|prove|consistency` through Click's test runner, on a
log built by real commits, sealed, then tampered with by direct SQL; the proofs are checked the
way a witness would, with the verifier key alone."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select

from idp.cli import cli
from idp.domain import merkle
from idp.domain.checkpoint import open_note
from idp.extensions import db
from idp.models import AuditLeaf, AuditTag
from idp.services.platform import audit, audit_key
from tests.services.platform.audit_chain_helpers import tamper

EVENTS = 5


def build(app: Flask, runner, batch: int = 2) -> dict[int, int]:  # type: ignore[no-untyped-def]
    """Five committed events (and one rolled back), sealed by the CLI; seq -> event id."""
    with app.app_context():
        for number in range(1, EVENTS + 1):
            audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=number)
            db.session.commit()
        audit.record(AuditTag.ACCOUNT_DELETE, account_id=1)
        db.session.rollback()
    result = runner.invoke(cli, ["audit", "seal", "--batch", str(batch)])
    assert result.exit_code == 0 and result.stdout == f"sealed {EVENTS} events\n", result.output
    with app.app_context():
        rows = db.session.execute(select(AuditLeaf.leaf_index, AuditLeaf.event_id)).all()
        return {index + 1: event_id for index, event_id in rows}


def verify(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, ["audit", "verify", *args])


def verifier(app: Flask) -> str:
    with app.app_context():
        return audit_key.verifier_keys()[0]


def test_an_intact_log_exits_0_with_a_one_line_summary(app, runner):
    build(app, runner)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"audit log intact: {EVENTS} events checked, 3 checkpoints, "
                                    f"tree size {EVENTS} root ")
    assert result.stdout.endswith("; 0 unsealed\n") and result.stderr == ""


def test_an_intact_log_as_json_reports_the_backlog(app, runner):
    build(app, runner)
    with app.app_context():
        audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=1)
        db.session.commit()
    result = verify(runner, "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("ok", "events_checked", "tree_size", "checkpoints_checked",
                                 "bad_seq", "bad_row_id", "reason", "detail", "unsealed")} == {
        "ok": True, "events_checked": EVENTS, "tree_size": EVENTS, "checkpoints_checked": 3,
        "bad_seq": None, "bad_row_id": None, "reason": None, "detail": None, "unsealed": 1}
    assert data["unsealed_oldest_age_seconds"] >= 0 and len(data["root_hash"]) == 64


def test_an_empty_log_is_intact(app, runner):
    result = verify(runner)
    assert result.exit_code == 0
    assert result.stdout == (f"audit log intact: 0 events checked, 0 checkpoints, tree size 0 "
                             f"root {merkle.EMPTY_ROOT.hex()}; 0 unsealed\n")


@pytest.mark.parametrize(("statements", "seq", "row_seq", "reason"), [
    (["UPDATE audit_event SET tag = 'account.logout' WHERE id = {e2}"], 2, 2, "leaf_mismatch"),
    (["UPDATE audit_event SET account_id = 42 WHERE id = {e4}"], 4, 4, "leaf_mismatch"),
    (["DELETE FROM audit_event WHERE id = {e1}"], 1, 1, "event_missing"),
    (["DELETE FROM audit_event WHERE id = {e3}"], 3, 3, "event_missing"),
    (["DELETE FROM audit_event WHERE id = {e5}"], 5, 5, "event_missing"),
    (["DELETE FROM audit_leaf WHERE leaf_index = 2"], 3, None, "leaf_missing"),
    (["DELETE FROM audit_leaf WHERE leaf_index = 4"], 5, None, "truncated"),
    (["UPDATE audit_leaf SET leaf_hash = (SELECT leaf_hash FROM audit_leaf WHERE leaf_index = 0) "
      "WHERE leaf_index = 1"], 2, 2, "leaf_mismatch"),
    (["UPDATE audit_checkpoint SET note = (SELECT note FROM audit_checkpoint WHERE tree_size = 2) "
      "WHERE tree_size = 4"], 4, 4, "root_mismatch"),
    (["UPDATE audit_checkpoint SET note = replace(note, '\u2014', '-') WHERE tree_size = 2"],
     2, 2, "bad_signature"),
], ids=["edit-tag", "edit-account", "delete-first", "delete-middle", "delete-last",
        "delete-leaf", "delete-last-leaf", "copied-leaf-hash", "copied-checkpoint", "forged-note"])
def test_tampering_exits_1_naming_the_first_bad_event(app, runner, statements, seq, row_seq, reason):
    events = build(app, runner)
    names = {f"e{n}": event_id for n, event_id in events.items()}
    for statement in statements:
        tamper(app, statement.format(**names))
    row_id = events[row_seq] if row_seq else None
    result = verify(runner)
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    row = f" (event id {row_id})" if row_id is not None else ""
    assert len(lines) == 1 and lines[0].startswith(f"Error: audit log broken at seq {seq}{row}: {reason}: ")
    as_json = verify(runner, "--json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert (data["ok"], data["bad_seq"], data["bad_row_id"], data["reason"]) == (False, seq, row_id, reason)


def test_a_kept_checkpoint_is_a_witness(app, runner, tmp_path):
    build(app, runner)
    kept = tmp_path / "checkpoint.txt"
    kept.write_text(runner.invoke(cli, ["audit", "checkpoint"]).stdout, encoding="utf-8")
    result = verify(runner, "--witness", str(kept))
    assert result.exit_code == 0 and result.stdout.endswith(", 1 witness(es) matched\n")
    tamper(app, "DELETE FROM audit_checkpoint WHERE tree_size = 5")
    tamper(app, "DELETE FROM audit_leaf WHERE leaf_index = 4")
    assert verify(runner).exit_code == 0  # consistent again, but the witness remembers
    result = verify(runner, "--witness", str(kept))
    assert result.exit_code == 1 and "witness_missing" in result.stderr


def test_checkpoint_prove_and_consistency_check_with_the_verifier_key_alone(app, runner):
    build(app, runner)
    key = verifier(app)
    note = runner.invoke(cli, ["audit", "checkpoint"]).stdout
    checkpoint = open_note(note, key)
    assert checkpoint.size == EVENTS and checkpoint.origin == key.split("+")[0]
    head = json.loads(runner.invoke(cli, ["audit", "head", "--json"]).stdout)
    assert (head["tree_size"], head["root_hash"]) == (EVENTS, checkpoint.root.hex())

    proof = json.loads(runner.invoke(cli, ["audit", "prove", "3"]).stdout)
    signed = open_note(proof["checkpoint"], key)
    assert (proof["leaf_index"], proof["tree_size"]) == (2, signed.size)
    assert merkle.verify_inclusion(bytes.fromhex(proof["leaf_hash"]), proof["leaf_index"],
                                   proof["tree_size"], [bytes.fromhex(h) for h in proof["proof"]],
                                   signed.root)

    result = runner.invoke(cli, ["audit", "consistency", "2", "5"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    old, new = open_note(data["old_checkpoint"], key), open_note(data["new_checkpoint"], key)
    assert merkle.verify_consistency(old.size, new.size, old.root, new.root,
                                     [bytes.fromhex(h) for h in data["proof"]])
    assert not merkle.verify_consistency(old.size, new.size, new.root, new.root,
                                         [bytes.fromhex(h) for h in data["proof"]])


def test_proofs_refuse_what_is_not_there(app, runner):
    assert runner.invoke(cli, ["audit", "checkpoint"]).exit_code == 1
    build(app, runner)
    assert runner.invoke(cli, ["audit", "prove", str(EVENTS + 1)]).exit_code == 1
    assert runner.invoke(cli, ["audit", "consistency", "3", "5"]).exit_code == 1  # no checkpoint 3
    assert runner.invoke(cli, ["audit", "consistency", "4", "2"]).exit_code == 1


def test_seal_with_nothing_to_seal_and_head_of_an_empty_log(app, runner):
    assert runner.invoke(cli, ["audit", "seal"]).stdout == "sealed 0 events\n"
    head = json.loads(runner.invoke(cli, ["audit", "head", "--json"]).stdout)
    assert head == {"tree_size": 0, "root_hash": merkle.EMPTY_ROOT.hex(), "created_at": None}


def test_help_needs_no_database():
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["audit", "--help"])
    assert result.exit_code == 0
    assert all(name in result.stdout for name in ("seal", "verify", "checkpoint", "prove", "consistency"))
