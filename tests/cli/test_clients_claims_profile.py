"""`idp clients ... --claims-profile` and `set-claims-profile` through Click's test runner."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from idp.cli import cli
from idp.extensions import db
from idp.models import AuditEvent, ClaimsProfile, OAuthClient
from idp.services.portals.clients import get_client

CREATE = ["clients", "create", "--name", "Cổng dịch vụ công Hà Nội",
          "--redirect-uri", "https://portal.example.vn/callback"]


def create(runner, *extra: str) -> dict:
    result = runner.invoke(cli, [*CREATE, *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stored(app, client_id: str) -> ClaimsProfile:
    with app.app_context():
        return get_client(client_id).claims_profile


def count(app, model=OAuthClient) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


@pytest.mark.parametrize("spelling", ["dvcqg", "DVCQG"])
def test_create_with_the_dvcqg_profile(app, runner, spelling):
    data = create(runner, "--claims-profile", spelling)
    assert data["claims_profile"] == "dvcqg"
    assert stored(app, data["client_id"]) is ClaimsProfile.DVCQG
    shown = json.loads(runner.invoke(cli, ["clients", "show", data["client_id"], "--json"]).stdout)
    assert shown["claims_profile"] == "dvcqg"
    plain = runner.invoke(cli, ["clients", "show", data["client_id"]]).stdout
    assert "claims_profile                dvcqg" in plain
    listed = runner.invoke(cli, ["clients", "list"]).stdout
    assert "  dvcqg  Cổng dịch vụ công Hà Nội" in listed
    assert json.loads(runner.invoke(cli, ["clients", "list", "--json"]).stdout)[0][
        "claims_profile"] == "dvcqg"


def test_create_is_standard_by_default(app, runner):
    data = create(runner)
    assert data["claims_profile"] == "standard"
    assert stored(app, data["client_id"]) is ClaimsProfile.STANDARD
    assert "  standard  " in runner.invoke(cli, ["clients", "list"]).stdout


@pytest.mark.parametrize("value", ["dvcqg2", "", "vneid", "đvcqg", "x" * 5000])
def test_create_with_an_unknown_profile_is_refused_and_stores_nothing(app, runner, value):
    result = runner.invoke(cli, [*CREATE, "--claims-profile", value])
    assert result.exit_code == 2
    assert "Invalid value for '--claims-profile'" in result.stderr
    assert "'standard', 'dvcqg'" in result.stderr  # the message names the choices
    assert result.stdout == ""
    assert count(app) == 0 and count(app, AuditEvent) == 0


def test_set_claims_profile_changes_it_and_is_audited(app, runner):
    data = create(runner)
    result = runner.invoke(cli, ["clients", "set-claims-profile", data["client_id"], "dvcqg"])
    assert result.exit_code == 0, result.output
    assert result.stdout == f"Client {data['client_id']} now uses the claims profile dvcqg.\n"
    again = runner.invoke(cli, ["clients", "set-claims-profile", data["client_id"], "DVCQG"])
    assert again.exit_code == 0  # the same profile again: nothing to change, not an error
    assert stored(app, data["client_id"]) is ClaimsProfile.DVCQG
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "client.update")).all()
        assert [(e.channel, e.data) for e in events] == [
            ("cli", {"client": data["client_id"], "claims_profile": "dvcqg",
                     "previous_claims_profile": "standard"})]


def test_set_claims_profile_refusals(app, runner):
    data = create(runner, "--claims-profile", "dvcqg")
    unknown = runner.invoke(cli, ["clients", "set-claims-profile", data["client_id"], "oidc"])
    assert unknown.exit_code == 2 and "'oidc' is not one of" in unknown.stderr
    missing = runner.invoke(cli, ["clients", "set-claims-profile", data["client_id"]])
    assert missing.exit_code == 2
    nobody = runner.invoke(cli, ["clients", "set-claims-profile", "no-such-client", "standard"])
    assert nobody.exit_code == 1 and nobody.stdout == ""
    assert "[client.not_found]" in nobody.stderr
    assert stored(app, data["client_id"]) is ClaimsProfile.DVCQG
    with app.app_context():
        assert db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == "client.update")).all() == []


def test_help_names_the_profiles(runner):
    for command in (["clients", "create", "--help"], ["clients", "set-claims-profile", "--help"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 0 and "dvcqg" in result.stdout
