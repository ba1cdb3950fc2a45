"""`idp audit verify` and `idp audit head` through Click's test runner, on a chain built by
real commits and then tampered with by direct SQL."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select, text

from idp.cli import cli
from idp.domain.audit_chain import GENESIS_HASH
from idp.extensions import db
from idp.models import AuditEvent, AuditTag
from idp.services.platform import audit

EVENTS = 5


def build(app: Flask) -> dict[int, tuple[int, str]]:
    """Five committed events (and one rolled back); seq -> (row id, hash)."""
    with app.app_context():
        for number in range(1, EVENTS + 1):
            audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=number)
            db.session.commit()
        audit.record(AuditTag.ACCOUNT_DELETE, account_id=1)
        db.session.rollback()
        rows = db.session.execute(select(AuditEvent.seq, AuditEvent.id, AuditEvent.hash)).all()
        return {seq: (row_id, digest) for seq, row_id, digest in rows}


def sql(app: Flask, statement: str, **params: object) -> None:
    with app.app_context():
        db.session.execute(text(statement), params)
        db.session.commit()


def verify(runner, *args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(cli, ["audit", "verify", *args])


def test_an_intact_chain_exits_0_with_a_one_line_summary(app, runner):
    chain = build(app)
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"audit chain intact: {EVENTS} events checked, "
                             f"head seq {EVENTS} hash {chain[EVENTS][1]}\n")
    assert result.stderr == ""


def test_an_intact_chain_as_json(app, runner):
    chain = build(app)
    result = verify(runner, "--json")
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "ok": True, "events_checked": EVENTS, "head_seq": EVENTS, "head_hash": chain[EVENTS][1],
        "bad_seq": None, "bad_row_id": None, "reason": None, "detail": None}


def test_an_empty_chain_is_intact(app, runner):
    result = verify(runner)
    assert result.exit_code == 0
    assert result.stdout == f"audit chain intact: 0 events checked, head seq 0 hash {GENESIS_HASH}\n"


@pytest.mark.parametrize(("statements", "seq", "row_seq", "reason"), [
    (["UPDATE audit_event SET tag = 'account.logout' WHERE seq = 2"], 2, 2, "hash_mismatch"),
    (["UPDATE audit_event SET account_id = 42 WHERE seq = 4"], 4, 4, "hash_mismatch"),
    (["DELETE FROM audit_event WHERE seq = 3"], 4, 4, "seq_gap"),
    (["DELETE FROM audit_event WHERE seq = 1"], 2, 2, "chain_start"),
    (["DELETE FROM audit_event WHERE seq = 5"], 5, None, "truncated"),
    (["UPDATE audit_event SET seq = -1 WHERE seq = 2", "UPDATE audit_event SET seq = 2 WHERE seq = 3",
      "UPDATE audit_event SET seq = 3 WHERE seq = -1"], 2, 2, "prev_hash_mismatch"),
    (["INSERT INTO audit_event (seq, tag, occurred_at, channel, data, prev_hash, hash) "
      "SELECT 6, tag, occurred_at, channel, data, hash, hash FROM audit_event WHERE seq = 5"],
     6, 6, "hash_mismatch"),
    (["UPDATE audit_chain_head SET hash = 'ffff' WHERE id = 1"], 5, 5, "head_mismatch"),
    (["UPDATE audit_chain_head SET seq = 4 WHERE id = 1"], 4, 4, "head_mismatch"),
    (["UPDATE audit_chain_head SET seq = 4, hash = (SELECT hash FROM audit_event WHERE seq = 4)"],
     5, 5, "beyond_head"),
    (["DELETE FROM audit_chain_head"], None, None, "head_missing"),
], ids=["edit-tag", "edit-account", "delete-middle", "delete-first", "delete-last", "swap",
        "insert-forged", "head-hash", "head-seq", "head-moved-back", "head-deleted"])
def test_tampering_exits_1_naming_the_first_bad_event(app, runner, statements, seq, row_seq, reason):
    build(app)
    for statement in statements:
        sql(app, statement)
    with app.app_context():  # the row found at row_seq after tampering
        row_id = db.session.scalar(select(AuditEvent.id).where(AuditEvent.seq == row_seq)) if row_seq else None
    result = verify(runner)
    assert result.exit_code == 1 and result.stdout == ""
    lines = result.stderr.splitlines()
    where = f"seq {seq}" if seq is not None else "the chain head"
    row = f" (row id {row_id})" if row_id is not None else ""
    assert len(lines) == 1 and lines[0].startswith(f"Error: audit chain broken at {where}{row}: {reason}: ")

    as_json = verify(runner, "--json")
    assert as_json.exit_code == 1
    data = json.loads(as_json.stdout)
    assert (data["ok"], data["bad_seq"], data["bad_row_id"], data["reason"]) == (False, seq, row_id, reason)


def test_witnesses(app, runner):
    chain = build(app)
    result = verify(runner, "--witness", f"{EVENTS}:{chain[EVENTS][1]}", "--witness", f"2:{chain[2][1].upper()}")
    assert result.exit_code == 0
    assert result.stdout.endswith(", 2 witness(es) matched\n")
    # Remove the last event and move the head back: consistent, but the witness remembers.
    sql(app, "DELETE FROM audit_event WHERE seq = 5")
    sql(app, "UPDATE audit_chain_head SET seq = 4, hash = :h", h=chain[4][1])
    assert verify(runner).exit_code == 0
    result = verify(runner, "--witness", f"{EVENTS}:{chain[EVENTS][1]}")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: audit chain broken at seq 5: witness_missing: ")
    result = verify(runner, "--witness", f"3:{chain[4][1]}")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: audit chain broken at seq 3 (row id {chain[3][0]}): "
                                    "witness_mismatch: ")


@pytest.mark.parametrize("witness", ["", "5", "abc", "5:xyz", f"-1:{'a' * 64}", f"5:{'a' * 63}",
                                     f"5:{'a' * 65}", f"5:{'g' * 64}", f"5 :{'a' * 64}",
                                     f"{'9' * 20}:{'a' * 64}", f"٥:{'a' * 64}"])
def test_a_malformed_witness_is_a_usage_error(app, runner, witness):
    build(app)
    result = verify(runner, "--witness", witness)
    assert result.exit_code == 2 and result.stdout == ""
    assert "Invalid value for '--witness'" in result.stderr and "SEQ:HASH" in result.stderr


def test_head_for_an_external_witness(app, runner):
    empty = runner.invoke(cli, ["audit", "head", "--json"])
    assert empty.exit_code == 0
    assert json.loads(empty.stdout) == {"seq": 0, "hash": GENESIS_HASH, "updated_at": None}
    chain = build(app)
    result = runner.invoke(cli, ["audit", "head", "--json"])
    assert result.exit_code == 0
    head = json.loads(result.stdout)
    assert set(head) == {"seq", "hash", "updated_at"}
    assert (head["seq"], head["hash"]) == (EVENTS, chain[EVENTS][1])
    assert head["updated_at"].endswith("+00:00")
    text_result = runner.invoke(cli, ["audit", "head"])
    assert text_result.exit_code == 0
    assert text_result.stdout == f"seq {EVENTS} hash {chain[EVENTS][1]} at {head['updated_at']}\n"
    # What head printed is a witness verify accepts.
    assert verify(runner, "--witness", f"{head['seq']}:{head['hash']}").exit_code == 0


def test_help_needs_no_database():
    from click.testing import CliRunner

    result = CliRunner().invoke(cli, ["audit", "--help"])
    assert result.exit_code == 0 and "verify" in result.stdout and "head" in result.stdout
