"""`idp clients create --accepts-delegation --procedure ...`, `set-delegation` and `show`
through Click's test runner: whom an agent or a guardian may sign in to (docs/architecture.md
§14), validated against idp.domain.procedures, audited, nothing changed on an error."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from idp.cli import cli
from idp.extensions import db
from idp.models import AuditEvent, OAuthClient
from idp.services.portals.clients import get_client

CREATE = ["clients", "create", "--name", "Cổng dịch vụ công Hà Nội",
          "--redirect-uri", "https://portal.example.vn/callback"]


def create(runner, *extra: str) -> dict:
    result = runner.invoke(cli, [*CREATE, *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stored(app, client_id: str) -> tuple[bool, list[str]]:
    with app.app_context():
        client = get_client(client_id)
        return client.accepts_delegation, list(client.procedures)


def count(app, model=OAuthClient, **where) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        query = select(func.count()).select_from(model)
        for name, value in where.items():
            query = query.where(getattr(model, name) == value)
        return db.session.scalar(query) or 0


def test_create_accepting_delegation_for_two_kinds(app, runner):
    data = create(runner, "--accepts-delegation", "--procedure", "social_insurance",
                  "--procedure", "health_insurance", "--procedure", "social_insurance")
    assert data["accepts_delegation"] is True
    assert data["procedures"] == ["social_insurance", "health_insurance"]  # once each, in order
    assert stored(app, data["client_id"]) == (True, ["social_insurance", "health_insurance"])
    shown = runner.invoke(cli, ["clients", "show", data["client_id"]]).stdout
    assert "accepts_delegation            True" in shown
    assert 'procedures                    ["social_insurance", "health_insurance"]' in shown
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "client.create"))
        assert event.data["accepts_delegation"] is True
        assert event.data["procedures"] == ["social_insurance", "health_insurance"]


def test_create_does_not_accept_delegation_by_default(app, runner):
    data = create(runner)
    assert (data["accepts_delegation"], data["procedures"]) == (False, [])
    shown = json.loads(runner.invoke(cli, ["clients", "show", data["client_id"], "--json"]).stdout)
    assert (shown["accepts_delegation"], shown["procedures"]) == (False, [])


@pytest.mark.parametrize(("kind", "code"), [("bảo_hiểm", "procedures.unknown"),
                                            ("Social_Insurance", "procedures.unknown"),
                                            ("", "procedures.unknown"),
                                            ("any_delegating_portal", "procedures.any_not_a_kind")])
def test_create_with_an_unknown_kind_is_refused_and_stores_nothing(app, runner, kind, code):
    result = runner.invoke(cli, [*CREATE, "--accepts-delegation", "--procedure", kind])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: ") and f"(procedures) [{code}]" in result.stderr
    assert count(app) == 0 and count(app, AuditEvent) == 0


def test_set_delegation_on_with_procedures_then_off_keeps_them(app, runner):
    client_id = create(runner)["client_id"]
    on = runner.invoke(cli, ["clients", "set-delegation", client_id, "on",
                             "--procedure", "land_housing"])
    assert on.exit_code == 0, on.output
    assert on.stdout == (f"Client {client_id} accepts delegated sign-in; procedures: "
                         "land_housing.\n")
    assert stored(app, client_id) == (True, ["land_housing"])
    off = runner.invoke(cli, ["clients", "set-delegation", client_id, "off"])
    assert off.exit_code == 0
    assert "does not accept delegated sign-in; procedures: land_housing." in off.stdout
    assert stored(app, client_id) == (False, ["land_housing"])
    cleared = runner.invoke(cli, ["clients", "set-delegation", client_id, "off", "--no-procedures"])
    assert cleared.exit_code == 0 and stored(app, client_id) == (False, [])
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).where(AuditEvent.tag == "client.update")
                                    .order_by(AuditEvent.id)).all()
        assert [(e.data["accepts_delegation"], e.data["procedures"],
                 e.data["previous_accepts_delegation"]) for e in events] == [
            (True, ["land_housing"], False), (False, ["land_housing"], True), (False, [], False)]
    again = runner.invoke(cli, ["clients", "set-delegation", client_id, "off"])
    assert again.exit_code == 0 and count(app, AuditEvent, tag="client.update") == 3  # no change


@pytest.mark.parametrize(("args", "code"), [
    (["on", "--procedure", "social_insurance", "--procedure", "lottery"], "[procedures.unknown]"),
    (["on", "--procedure", "any_delegating_portal"], "[procedures.any_not_a_kind]"),
    (["on", "--procedure", "land_housing", "--no-procedures"], "exclude each other"),
])
def test_set_delegation_refusals_change_nothing(app, runner, args, code):
    client_id = create(runner)["client_id"]
    result = runner.invoke(cli, ["clients", "set-delegation", client_id, *args])
    assert result.exit_code == 1 and code in result.stderr and result.stdout == ""
    assert stored(app, client_id) == (False, [])
    assert count(app, AuditEvent, tag="client.update") == 0


def test_set_delegation_of_an_unknown_client(app, runner):
    result = runner.invoke(cli, ["clients", "set-delegation", "no-such-client", "on"])
    assert result.exit_code == 1 and "[client.not_found]" in result.stderr


def test_set_delegation_needs_on_or_off(app, runner):
    client_id = create(runner)["client_id"]
    result = runner.invoke(cli, ["clients", "set-delegation", client_id, "yes"])
    assert result.exit_code == 2 and stored(app, client_id) == (False, [])
