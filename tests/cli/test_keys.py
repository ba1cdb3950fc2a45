"""`idp keys rotate` and `idp keys list` through Click's test runner."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from idp.cli import cli
from idp.extensions import db
from idp.models import SigningKey
from idp.services.portals import keys

FIELDS = ["kid", "alg", "state", "created", "activated", "deactivated", "expires"]


def states(app) -> dict[str, tuple[str, str]]:
    """kid -> (alg, state) straight from the database."""
    with app.app_context():
        return {k.kid: (k.alg, k.state.value) for k in db.session.scalars(select(SigningKey))}


def rotate(runner, *args: str) -> dict[str, str]:
    result = runner.invoke(cli, ["keys", "rotate", "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_rotate_json_on_an_empty_database_creates_the_ring(app, runner):
    data = rotate(runner)
    assert set(data) == {"alg", "current", "next"} and data["alg"] == "RS256"
    assert states(app) == {data["current"]: ("RS256", "current"), data["next"]: ("RS256", "next")}


def test_rotate_promotes_next_and_prints_both_kids(app, runner):
    first = rotate(runner)
    result = runner.invoke(cli, ["keys", "rotate"])
    assert result.exit_code == 0
    found = states(app)
    new_next = next(kid for kid, (_, state) in found.items() if state == "next")
    assert result.stdout == f"RS256: current {first['next']}, next {new_next}\n"
    assert found[first["current"]] == ("RS256", "previous")
    assert found[first["next"]] == ("RS256", "current")
    assert len(found) == 3


def test_rotate_es256_leaves_rs256_alone(app, runner):
    rs = rotate(runner)
    es = rotate(runner, "--alg", "ES256")
    assert es["alg"] == "ES256"
    assert states(app) == {
        rs["current"]: ("RS256", "current"), rs["next"]: ("RS256", "next"),
        es["current"]: ("ES256", "current"), es["next"]: ("ES256", "next"),
    }


@pytest.mark.parametrize("args", [["keys", "rotate", "--alg", "HS256"], ["keys", "rotate", "--alg", "rs256"],
                                  ["keys", "rotate", "--alg"], ["keys", "list", "--bogus"]])
def test_usage_errors_exit_2_and_write_nothing(app, runner, args):
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert "Error" in result.stderr and result.stdout == ""
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(SigningKey)) == 0


def test_list_json_has_every_key_in_ring_order_with_iso_times(app, runner):
    with app.app_context():
        keys.ensure_keys()
    rotated = rotate(runner)
    result = runner.invoke(cli, ["keys", "list", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert [list(r) for r in rows] == [FIELDS] * 5
    assert [(r["alg"], r["state"]) for r in rows] == [
        ("ES256", "next"), ("ES256", "current"),
        ("RS256", "next"), ("RS256", "current"), ("RS256", "previous"),
    ]
    previous = rows[4]
    assert rows[3]["kid"] == rotated["current"] and rows[2]["kid"] == rotated["next"]
    deactivated = datetime.fromisoformat(previous["deactivated"])
    assert datetime.fromisoformat(previous["expires"]) - deactivated == timedelta(seconds=900)
    assert deactivated.utcoffset() == timedelta(0)
    assert rows[0]["activated"] is None and rows[0]["deactivated"] is None and rows[0]["expires"] is None
    assert rows[1]["activated"] is not None and rows[1]["expires"] is None


def test_list_table(app, runner):
    data = rotate(runner, "--alg", "ES256")
    result = runner.invoke(cli, ["keys", "list"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == FIELDS
    assert len(lines) == 3
    assert lines[1].split()[:3] == [data["next"], "ES256", "next"]
    assert lines[1].split()[4:] == ["-", "-", "-"]
    current = lines[2].split()
    assert current[:3] == [data["current"], "ES256", "current"] and current[5:] == ["-", "-"]
    assert datetime.fromisoformat(current[4]).utcoffset() == timedelta(0)


def test_list_empty(runner):
    result = runner.invoke(cli, ["keys", "list"])
    assert result.exit_code == 0
    assert result.stdout == "No signing keys yet; run `idp keys rotate`.\n"
    assert runner.invoke(cli, ["keys", "list", "--json"]).stdout == "[]\n"


def test_list_output_has_no_key_material(app, runner):
    rotate(runner)
    with app.app_context():
        moduli = [k.public_jwk["n"] for k in keys.list_keys()]
    for args in (["keys", "list"], ["keys", "list", "--json"]):
        out = runner.invoke(cli, args).stdout
        assert all(n[:40] not in out for n in moduli) and "PRIVATE" not in out


@pytest.mark.parametrize("command, option", [("rotate", "--alg [RS256|ES256]"), ("list", "--json")])
def test_help(runner, command, option):
    result = runner.invoke(cli, ["keys", command, "--help"])
    assert result.exit_code == 0 and option in result.stdout

