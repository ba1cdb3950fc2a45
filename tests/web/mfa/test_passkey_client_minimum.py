"""A portal whose registered minimum requires phishing resistance (`idp clients set-min-acr ...
urn:vn:postid:phishing_resistant`, docs/architecture.md §9): every sign-in for it needs a passkey
proven in the session, with the passkey step-up in the same flow, as an essential acr asks."""

from __future__ import annotations

import json
from urllib.parse import unquote

import pytest
from flask import Flask
from sqlalchemy import select, update

from idp.cli import cli
from idp.extensions import db
from idp.models import AuditEvent, UserSession
from idp.services.portals.clients import get_client
from tests.conftest import csrf_token
from tests.factories import active_citizen
from tests.oidc.assurance import ACR
from tests.oidc.flow import (
    auth_request,
    authorize,
    consent_action,
    exchange,
    redirect_params,
    registered_portal,
    verify_id_token,
)
from tests.passkey_authenticator import SoftAuthenticator
from tests.web.mfa.passkey_helpers import add_passkey, post_json, session_amr, signed_in

PHR = "urn:vn:postid:phishing_resistant"
CREATE = ["clients", "create", "--name", "Cổng thuế", "--redirect-uri",
          "https://thue.example.vn/callback", "--json"]


@pytest.fixture
def citizen(app: Flask) -> int:
    with app.app_context():
        return active_citizen().id


def as_after_totp(app: Flask) -> None:
    """The session proved the password and a TOTP code, no passkey."""
    with app.app_context():
        db.session.execute(update(UserSession).values(amr="pwd otp mfa"))
        db.session.commit()


def test_the_portal_minimum_asks_for_a_passkey_step_up(app, citizen):
    device = SoftAuthenticator()
    client = signed_in(app)
    assert add_passkey(client, device).status_code == 200
    as_after_totp(app)
    portal = registered_portal(app, min_phishing_resistant=True)
    request = auth_request(portal)  # the portal asks nothing: its minimum does
    response = authorize(client, request)
    assert response.status_code == 302
    step_up_page = response.headers["Location"]
    assert step_up_page.startswith("/account/security/step-up/passkey?next=")
    started = post_json(client, "/account/security/step-up/passkey/options", {}, step_up_page)
    done = post_json(client, "/account/security/step-up/passkey",
                     {"ceremony": started.json["ceremony"],
                      "next": unquote(step_up_page.split("next=", 1)[1]),
                      "credential": device.get(started.json["publicKey"])}, step_up_page)
    assert done.status_code == 200 and session_amr(app, client) == "pwd hwk otp user mfa"
    response = authorize(client, request)
    if response.status_code == 200:
        response = client.post(consent_action(response.get_data(as_text=True)), data={
            "csrf_token": csrf_token(client, request.url), "decision": "allow"})
    code = redirect_params(response)["code"]
    claims = verify_id_token(client, exchange(client, portal, code, request.verifier).json["id_token"])[1]
    assert claims["acr"] == ACR[1] and "hwk" in claims["amr"]


def test_without_the_minimum_a_totp_session_goes_on(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    as_after_totp(app)
    portal = registered_portal(app)
    response = authorize(client, auth_request(portal, prompt="none"))
    assert redirect_params(response)["error"] == "consent_required"  # past the sign-in checks
    strict = registered_portal(app, min_phishing_resistant=True)
    response = authorize(client, auth_request(strict, prompt="none"))
    assert redirect_params(response)["error"] == "login_required"


def test_the_cli_sets_and_clears_the_phishing_resistant_minimum(app, runner):
    created = runner.invoke(cli, [*CREATE, "--min-acr", "LoA2", "--min-acr", PHR])
    assert created.exit_code == 0, created.output
    data = json.loads(created.stdout)
    assert data["min_acr"] == ACR[2] and data["min_phishing_resistant"] is True
    client_id = data["client_id"]
    listed = runner.invoke(cli, ["clients", "list"]).stdout
    assert "LoA2+ passkey" in listed
    cleared = runner.invoke(cli, ["clients", "set-min-acr", client_id, "LoA3"])
    assert cleared.exit_code == 0 and "phishing" not in cleared.stdout
    alone = runner.invoke(cli, ["clients", "set-min-acr", client_id, PHR])
    assert alone.exit_code == 0 and "LoA1" in alone.stdout and "phishing resistant" in alone.stdout
    with app.app_context():
        client = get_client(client_id)
        assert client.min_loa == 1 and client.min_phishing_resistant is True
        events = [e.data for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag.in_(("client.create", "client.update")))
            .order_by(AuditEvent.id))]
    assert events == [
        {"client": client_id, "min_phishing_resistant": True},
        {"client": client_id, "min_loa": 3, "previous_min_loa": 2,
         "min_phishing_resistant": False, "previous_min_phishing_resistant": True},
        {"client": client_id, "min_loa": 1, "previous_min_loa": 3,
         "min_phishing_resistant": True, "previous_min_phishing_resistant": False},
    ]
    bad = runner.invoke(cli, ["clients", "set-min-acr", client_id, "phishing_resistant"])
    assert bad.exit_code == 2
