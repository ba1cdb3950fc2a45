"""Signing in with a passkey, alone or as the second step after the password (docs/architecture.md
§7), and every refusal: another origin or RP ID, a replay, a sign count that goes back, no user
verification, an unknown passkey, malformed answers."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.extensions import db
from idp.models import Account, AccountStatus
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen
from tests.passkey_authenticator import SoftAuthenticator, b64url
from tests.web.mfa.passkey_helpers import (
    add_passkey,
    audited,
    passkey_alone,
    post_json,
    session_amr,
    signed_in,
    stored,
)


@pytest.fixture
def citizen(app: Flask) -> int:
    with app.app_context():
        return active_citizen().id


# --- signing in with a passkey alone -----------------------------------------------------------

def test_passkey_alone_signs_in_with_two_factors(app, citizen):
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    client, response, _, _ = passkey_alone(app, device)
    assert response.status_code == 200 and response.json == {"redirect": "/account"}
    assert session_amr(app, client) == "hwk user mfa"
    [passkey] = stored(app)
    assert passkey.sign_count == 1 and passkey.last_used_at is not None and passkey.user_verified
    assert audited(app, "account.login.success")[-1]["method"] == "passkey"


def test_synced_passkey_is_a_software_key(app, citizen):
    device = SoftAuthenticator(synced=True)
    assert add_passkey(signed_in(app), device).status_code == 200
    client, response, _, _ = passkey_alone(app, device)
    assert response.status_code == 200 and session_amr(app, client) == "swk user mfa"


def test_passkey_alone_keeps_a_local_next_only(app, citizen):
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    client = app.test_client()
    started = post_json(client, "/login/passkey/options", {})
    answer = device.get(started.json["publicKey"])
    response = post_json(client, "/login/passkey", {"ceremony": started.json["ceremony"],
                                                    "credential": answer,
                                                    "next": "https://evil.example/"})
    assert response.status_code == 200 and response.json["redirect"] == "/account"


@pytest.mark.parametrize("bad", [{"origin": "http://evil.example"}, {"rp_id": "evil.example"}])
def test_passkey_alone_from_another_origin_or_rp_id_is_refused(app, citizen, bad):
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    client, response, _, _ = passkey_alone(app, device, **bad)
    assert response.status_code == 400 and response.json["error"] == "passkey.failed"
    assert session_amr(app, client) is None and stored(app)[0].sign_count == 0


def test_passkey_alone_needs_user_verification(app, citizen):
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    device.user_verification = False
    client, response, _, _ = passkey_alone(app, device)
    assert response.status_code == 400 and session_amr(app, client) is None


def test_a_sign_in_answer_cannot_be_replayed(app, citizen):
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    client, response, ceremony, answer = passkey_alone(app, device)
    assert response.status_code == 200
    other = app.test_client()
    again = post_json(other, "/login/passkey", {"ceremony": ceremony, "credential": answer})
    assert again.status_code == 400 and session_amr(app, other) is None
    assert audited(app, "account.login.failure")[-1]["reason"] == "ceremony_spent"


def test_a_sign_count_that_goes_back_is_refused(app, citizen):
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    assert passkey_alone(app, device, count=5)[1].status_code == 200
    client, response, _, _ = passkey_alone(app, device, count=3)  # a clone of the authenticator
    assert response.status_code == 400 and session_amr(app, client) is None
    assert stored(app)[0].sign_count == 5
    assert audited(app, "account.login.failure")[-1]["reason"] == "sign_count"


def test_an_unknown_passkey_or_a_disabled_account_gets_the_same_refusal(app, citizen):
    client, response, _, _ = passkey_alone(app, SoftAuthenticator())
    assert response.status_code == 400 and response.json["error"] == "passkey.failed"
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    with app.app_context():
        db.session.get(Account, citizen).status = AccountStatus.DISABLED
        db.session.commit()
    client, response, _, _ = passkey_alone(app, device)
    assert response.status_code == 400 and response.json["error"] == "passkey.failed"


@pytest.mark.parametrize("body", [{}, {"ceremony": 5, "credential": "{}"},
                                  {"ceremony": "x" * 100, "credential": "x"},
                                  {"ceremony": "abc", "credential": ["no"]}])
def test_malformed_answers_are_refused_without_a_500(app, citizen, body):
    client = app.test_client()
    started = post_json(client, "/login/passkey/options", {})
    body = {**body, "ceremony": body.get("ceremony", started.json["ceremony"])}
    response = post_json(client, "/login/passkey", body)
    assert response.status_code == 400 and response.json["error"] == "passkey.failed"


def test_an_issuer_on_an_ip_address_offers_no_passkeys(app, make_app, settings, citizen):
    other = make_app(settings.__class__(**{**settings.__dict__, "issuer": "http://127.0.0.1:5000"}))
    client = other.test_client()
    assert "data-passkey-sign-in" not in client.get("/login").get_data(as_text=True)
    response = post_json(client, "/login/passkey/options", {})
    assert response.status_code == 404 and response.json["error"] == "passkey.unavailable"
    assert "data-passkey-sign-in" in app.test_client().get("/login").get_data(as_text=True)

# --- the second step after the password ---------------------------------------------------------

def password_step(client: FlaskClient):
    return client.post("/login", data={"csrf_token": csrf_token(client),
                                       "identifier": "001099012345", "password": PASSWORD})


def test_passkey_as_the_second_step_after_the_password(app, citizen):
    device = SoftAuthenticator(user_verification=False)  # a security key without a PIN
    assert add_passkey(signed_in(app), device).status_code == 200
    client = app.test_client()
    assert password_step(client).headers["Location"] == "/login/verify"
    page = client.get("/login/verify").get_data(as_text=True)
    assert "data-passkey-second-factor" in page and 'name="code"' not in page  # no TOTP
    started = post_json(client, "/login/verify/passkey/options", {}, "/login/verify")
    assert [c["id"] for c in started.json["publicKey"]["allowCredentials"]] == [
        b64url(device.credential_id)]
    answer = device.get(started.json["publicKey"])
    response = post_json(client, "/login/verify/passkey",
                         {"ceremony": started.json["ceremony"], "credential": answer},
                         "/login/verify")
    assert response.status_code == 200 and response.json == {"redirect": "/account"}
    assert session_amr(app, client) == "pwd hwk user mfa"


def test_second_step_ceremony_is_bound_to_its_pending_sign_in(app, citizen):
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    first, second = app.test_client(), app.test_client()
    password_step(first)
    password_step(second)
    started = post_json(first, "/login/verify/passkey/options", {}, "/login/verify")
    answer = device.get(started.json["publicKey"])
    stolen = post_json(second, "/login/verify/passkey",
                       {"ceremony": started.json["ceremony"], "credential": answer}, "/login/verify")
    assert stolen.status_code == 400 and session_amr(app, second) is None


def test_second_step_failures_count_like_wrong_codes(app, citizen):
    device = SoftAuthenticator()
    assert add_passkey(signed_in(app), device).status_code == 200
    client = app.test_client()
    password_step(client)
    for attempt in range(5):
        started = post_json(client, "/login/verify/passkey/options", {}, "/login/verify")
        answer = device.get(started.json["publicKey"], origin="http://evil.example")
        response = post_json(client, "/login/verify/passkey",
                             {"ceremony": started.json["ceremony"], "credential": answer},
                             "/login/verify")
        assert response.status_code == 400
        assert response.json["error"] == ("mfa.challenge_dead" if attempt == 4 else "passkey.failed")
    assert session_amr(app, client) is None


def test_without_a_pending_sign_in_the_second_step_is_refused(app, citizen):
    response = post_json(app.test_client(), "/login/verify/passkey/options", {})
    assert response.status_code == 400 and response.json["error"] == "mfa.challenge_dead"
