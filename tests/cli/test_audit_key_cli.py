"""`idp audit key` and `idp audit key rotate` through Click's test runner."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from idp.cli import cli
from idp.domain.checkpoint import Checkpoint, open_note, parse_verifier_key, sign
from idp.extensions import db
from idp.models import AuditEvent, SigningKey
from idp.services.platform import audit_key


def invoke(runner, *args: str):  # type: ignore[no-untyped-def]
    result = runner.invoke(cli, ["audit", "key", *args])
    assert result.exit_code == 0, result.output
    return result


def test_key_creates_the_key_once_and_prints_its_verifier_key(app, runner):
    first = invoke(runner).stdout
    assert invoke(runner).stdout == first
    (line,) = first.splitlines()
    name, _, _ = parse_verifier_key(line)
    assert name == "localhost/audit"
    with app.app_context():
        assert audit_key.verifier_keys() == [line]
        note = sign(Checkpoint(name, 3, b"\x01" * 32), *audit_key.signer())
    assert open_note(note, line).size == 3


def test_key_json(app, runner):
    data = json.loads(invoke(runner, "--json").stdout)
    assert data == {"origin": "localhost/audit", "verifier_keys": data["verifier_keys"]}
    assert len(data["verifier_keys"]) == 1
    with app.app_context():
        assert data["verifier_keys"] == audit_key.verifier_keys()


def test_rotate_prints_the_new_verifier_key_and_key_lists_both(app, runner):
    (old,) = invoke(runner).stdout.splitlines()
    new = invoke(runner, "rotate").stdout
    assert new.endswith("\n") and new.strip() != old
    assert invoke(runner).stdout.splitlines() == [new.strip(), old]
    data = json.loads(invoke(runner, "rotate", "--json").stdout)
    with app.app_context():
        current = db.session.scalars(select(SigningKey).where(SigningKey.kid == data["kid"])).one()
        assert current.alg == "Ed25519" and current.state.value == "current"
        assert audit_key.verifier_keys() == [data["verifier_key"], new.strip(), old]
        tags = db.session.scalars(select(AuditEvent.tag)).all()
    assert tags == ["audit.key.rotate", "audit.key.rotate"]


def test_the_audit_key_is_not_in_idp_keys_list(app, runner):
    invoke(runner, "rotate")
    invoke(runner, "rotate")
    listed = runner.invoke(cli, ["keys", "list"])
    assert listed.stdout == "No signing keys yet; run `idp keys rotate`.\n"
    assert runner.invoke(cli, ["keys", "list", "--json"]).stdout == "[]\n"
    rotated = json.loads(runner.invoke(cli, ["keys", "rotate", "--json"]).stdout)
    listed_json = json.loads(runner.invoke(cli, ["keys", "list", "--json"]).stdout)
    assert {k["alg"] for k in listed_json} == {"RS256"}
    assert {k["kid"] for k in listed_json} == {rotated["current"], rotated["next"]}


def test_help_needs_no_database():
    result = CliRunner().invoke(cli, ["audit", "key", "--help"])
    assert result.exit_code == 0 and "rotate" in result.stdout
    assert "key" in CliRunner().invoke(cli, ["audit", "--help"]).stdout
