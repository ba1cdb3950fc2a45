"""`idp clients create --service-scope` and `set-service-scope`: the client_credentials grant
registered, changed and cleared from the command line; refusals write nothing."""

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
USER_ONLY = ["authorization_code", "refresh_token"]
WITH_SERVICE = [*USER_ONLY, "client_credentials"]
# Each is refused with its code: RFC 6749 §3.3 syntax, a person's scope, too long.
REFUSED = [
    ("openid", "client.service_scope_user"),
    ("tax.read profile", "client.service_scope_user"),
    ("OpenID", "client.service_scope_user"),
    ("Offline_Access", "client.service_scope_user"),
    ("organization", "client.service_scope_user"),
    ('tax"read', "client.service_scope_syntax"),
    ("tax\\read", "client.service_scope_syntax"),
    ("thuế.đọc", "client.service_scope_syntax"),
    ("tax.read\ttax.write", "client.service_scope_syntax"),
    ("tax.read\ntax.write", "client.service_scope_syntax"),
    ("tax.read\x00", "client.service_scope_syntax"),
    ("a" * 256, "client.service_scope_length"),
    (" ".join(f"s{n:03d}" for n in range(60)), "client.service_scope_length"),
]


def create(runner, *extra: str) -> dict:
    result = runner.invoke(cli, [*CREATE, *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def stored(app, client_id: str) -> tuple[str, list[str]]:
    with app.app_context():
        client = get_client(client_id)
        return client.service_scope, client.grant_types


def count(app, model=OAuthClient) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def updates(app) -> list[dict]:
    with app.app_context():
        return [event.data for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == "client.update").order_by(AuditEvent.id))]


def assert_refused(result, code: str) -> None:
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and f"[{code}]" in lines[0], result.stderr
    assert "(service_scope)" in lines[0]


def test_create_with_a_service_scope_registers_the_grant(app, runner):
    data = create(runner, "--service-scope", " tax.read  tax.write tax.read ")
    assert data["service_scope"] == "tax.read tax.write"  # duplicates dropped, order kept
    assert data["grant_types"] == WITH_SERVICE
    assert stored(app, data["client_id"]) == ("tax.read tax.write", WITH_SERVICE)
    shown = json.loads(runner.invoke(cli, ["clients", "show", data["client_id"], "--json"]).stdout)
    assert shown["service_scope"] == "tax.read tax.write"
    plain = runner.invoke(cli, ["clients", "show", data["client_id"]]).stdout
    assert "service_scope                 tax.read tax.write" in plain


@pytest.mark.parametrize("extra", [(), ("--service-scope", ""), ("--service-scope", "   ")])
def test_create_without_a_service_scope_has_no_grant(app, runner, extra):
    data = create(runner, *extra)
    assert data["service_scope"] == "" and data["grant_types"] == USER_ONLY


@pytest.mark.parametrize("value, code", REFUSED)
def test_create_with_a_refused_service_scope_writes_nothing(app, runner, value, code):
    assert_refused(runner.invoke(cli, [*CREATE, "--service-scope", value]), code)
    assert count(app) == 0 and count(app, AuditEvent) == 0


def test_a_public_client_cannot_have_a_service_scope(app, runner):
    result = runner.invoke(cli, [*CREATE, "--auth-method", "none", "--service-scope", "tax.read"])
    assert_refused(result, "client.service_scope_public")
    assert count(app) == 0
    public = create(runner, "--auth-method", "none")
    assert_refused(runner.invoke(cli, ["clients", "set-service-scope", public["client_id"],
                                       "tax.read"]), "client.service_scope_public")
    assert stored(app, public["client_id"]) == ("", USER_ONLY) and updates(app) == []
    # Clearing is a no-op, hence fine.
    assert runner.invoke(cli, ["clients", "set-service-scope", public["client_id"], ""]).exit_code == 0


def test_set_change_and_clear_the_service_scope_each_audited(app, runner):
    client_id = create(runner)["client_id"]
    result = runner.invoke(cli, ["clients", "set-service-scope", client_id, "tax.read tax.write"])
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"Client {client_id} may use client_credentials with the service "
                             "scope: tax.read tax.write\n")
    assert stored(app, client_id) == ("tax.read tax.write", WITH_SERVICE)
    # The same again changes nothing and records nothing.
    assert runner.invoke(cli, ["clients", "set-service-scope", client_id,
                               "tax.read  tax.write"]).exit_code == 0
    assert runner.invoke(cli, ["clients", "set-service-scope", client_id, "tax.read"]).exit_code == 0
    cleared = runner.invoke(cli, ["clients", "set-service-scope", client_id, ""])
    assert cleared.exit_code == 0
    assert cleared.stdout == (f"Client {client_id} may no longer use client_credentials "
                              "(no service scope).\n")
    assert stored(app, client_id) == ("", USER_ONLY)
    assert updates(app) == [
        {"client": client_id, "service_scope": "tax.read tax.write", "previous_service_scope": "",
         "revoked_tokens": 0},
        {"client": client_id, "service_scope": "tax.read",
         "previous_service_scope": "tax.read tax.write", "revoked_tokens": 0},
        {"client": client_id, "service_scope": "", "previous_service_scope": "tax.read",
         "revoked_tokens": 0},
    ]


@pytest.mark.parametrize("value, code", REFUSED)
def test_set_a_refused_service_scope_changes_nothing(app, runner, value, code):
    client_id = create(runner, "--service-scope", "tax.read")["client_id"]
    result = runner.invoke(cli, ["clients", "set-service-scope", client_id, value])
    assert_refused(result, code)
    assert stored(app, client_id) == ("tax.read", WITH_SERVICE) and updates(app) == []


def test_set_on_an_unknown_client_is_refused(app, runner):
    result = runner.invoke(cli, ["clients", "set-service-scope", "no-such-client", "tax.read"])
    assert result.exit_code == 1 and "[client.not_found]" in result.stderr
    assert updates(app) == []


@pytest.mark.parametrize("args", [[], ["some-client"], ["a", "b", "c"]])
def test_set_service_scope_usage_errors_exit_2(app, runner, args):
    assert runner.invoke(cli, ["clients", "set-service-scope", *args]).exit_code == 2
