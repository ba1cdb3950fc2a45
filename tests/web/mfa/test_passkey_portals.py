"""What a portal receives after a passkey sign-in (acr, amr: docs/architecture.md §9,
docs/portal-integration.md), and portals that require phishing resistance."""

from __future__ import annotations

from urllib.parse import unquote

import pytest
from flask import Flask
from sqlalchemy import update

from idp.extensions import db
from idp.models import UserSession
from tests.conftest import csrf_token
from tests.factories import active_citizen
from tests.oidc.assurance import ACR, counter_verified, essential
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
from tests.web.mfa.passkey_helpers import (
    add_passkey,
    id_token,
    passkey_alone,
    post_json,
    session_amr,
    signed_in,
)


@pytest.fixture
def citizen(app: Flask) -> int:
    with app.app_context():
        return active_citizen().id


# --- what a portal receives ------------------------------------------------------------------------

def test_a_verified_citizen_with_a_passkey_alone_reaches_loa3(app, citizen):
    counter_verified(app, citizen)
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    client, response, _, _ = passkey_alone(app, device)
    claims = id_token(app, client, claims=essential(ACR[3]))
    assert claims["acr"] == ACR[3] and claims["amr"] == ["hwk", "user", "mfa"]


def test_a_passkey_does_not_lift_an_unverified_identity(app, citizen):
    device = SoftAuthenticator(synced=True)
    assert add_passkey(signed_in(app), device).status_code == 200
    client, response, _, _ = passkey_alone(app, device)
    claims = id_token(app, client, acr_values="LoA3")
    assert claims["acr"] == ACR[1] and claims["amr"] == ["swk", "user", "mfa"]

# --- portals asking for phishing resistance ------------------------------------------------------

PHR = "urn:vn:postid:phishing_resistant"


def test_discovery_lists_phishing_resistance(app):
    metadata = app.test_client().get("/.well-known/openid-configuration").json
    assert PHR in metadata["acr_values_supported"]


def test_a_passkey_sign_in_meets_phishing_resistance_at_once(app, citizen):
    counter_verified(app, citizen)
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    client, _, _, _ = passkey_alone(app, device)
    claims = id_token(app, client, claims=essential(PHR, ACR[3]))
    assert claims["acr"] == ACR[3] and claims["amr"] == ["hwk", "user", "mfa"]


def test_a_session_without_a_passkey_steps_up_with_one_in_the_same_flow(app, citizen):
    device = SoftAuthenticator()
    client = signed_in(app)
    assert add_passkey(client, device).status_code == 200
    with app.app_context():  # as after the password and a TOTP code
        db.session.execute(update(UserSession).values(amr="pwd otp mfa"))
        db.session.commit()
    portal = registered_portal(app)
    request = auth_request(portal, claims=essential(PHR))
    response = authorize(client, request)
    assert response.status_code == 302
    step_up_page = response.headers["Location"]
    assert step_up_page.startswith("/account/security/step-up/passkey?next=")
    assert "data-passkey-second-factor" in client.get(step_up_page).get_data(as_text=True)
    started = post_json(client, "/account/security/step-up/passkey/options", {}, step_up_page)
    bad = device.get(started.json["publicKey"], origin="http://evil.example")
    refused = post_json(client, "/account/security/step-up/passkey",
                        {"ceremony": started.json["ceremony"], "credential": bad}, step_up_page)
    assert refused.status_code == 400 and session_amr(app, client) == "pwd otp mfa"
    started = post_json(client, "/account/security/step-up/passkey/options", {}, step_up_page)
    next_url = step_up_page.split("next=", 1)[1]
    done = post_json(client, "/account/security/step-up/passkey",
                     {"ceremony": started.json["ceremony"], "next": unquote(next_url),
                      "credential": device.get(started.json["publicKey"])}, step_up_page)
    assert done.status_code == 200 and done.json["redirect"].startswith("/authorize?")
    assert session_amr(app, client) == "pwd hwk otp user mfa"
    response = authorize(client, request)
    if response.status_code == 200:
        response = client.post(consent_action(response.get_data(as_text=True)), data={
            "csrf_token": csrf_token(client, request.url), "decision": "allow"})
    code = redirect_params(response)["code"]
    claims = verify_id_token(client, exchange(client, portal, code, request.verifier).json["id_token"])[1]
    assert claims["acr"] == ACR[1] and claims["amr"] == ["pwd", "hwk", "otp", "user", "mfa"]


def test_phishing_resistance_with_prompt_none(app, citizen):
    client = signed_in(app)
    portal = registered_portal(app)
    response = authorize(client, auth_request(portal, claims=essential(PHR), prompt="none"))
    assert redirect_params(response)["error"] == "interaction_required"
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    with app.app_context():
        db.session.execute(update(UserSession).values(amr="pwd otp mfa"))
        db.session.commit()
    response = authorize(client, auth_request(portal, claims=essential(PHR), prompt="none"))
    assert redirect_params(response)["error"] == "login_required"


def test_without_a_passkey_the_step_up_page_offers_to_add_one(app, citizen):
    client = signed_in(app)
    portal = registered_portal(app)
    response = authorize(client, auth_request(portal, claims=essential(PHR)))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "data-passkey-register" in page and "data-passkey-second-factor" not in page
