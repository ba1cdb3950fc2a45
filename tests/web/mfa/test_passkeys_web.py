"""Passkeys through HTTP (docs/architecture.md §7, §9): adding one, signing in with it alone or as
the second step after the password, and every refusal, with real attestation and assertion
bytes from a software authenticator (tests/passkey_authenticator.py) checked by py_webauthn."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import unquote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import Account, AccountStatus, AuditEvent, UserSession
from idp.models.base import utcnow
from idp.models.passkey import Passkey
from idp.services.platform.secrets import token_hash
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen, second_citizen
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
from tests.passkey_authenticator import SoftAuthenticator, b64url

SESSION_COOKIE = "postid_session"


@pytest.fixture
def citizen(app: Flask) -> int:
    with app.app_context():
        return active_citizen().id


def post_json(client: FlaskClient, path: str, body: dict[str, object], page: str = "/login"):
    return client.post(path, json=body, headers={"X-CSRFToken": csrf_token(client, page)})


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": csrf_token(client),
                                           "identifier": "001099012345", "password": PASSWORD})
    assert response.status_code == 302 and client.get_cookie(SESSION_COOKIE)
    return client


def add_passkey(client: FlaskClient, device: SoftAuthenticator, name: str = "Điện thoại của tôi",
                **bad: str):
    started = post_json(client, "/account/security/passkeys/options", {}, "/account/security")
    assert started.status_code == 200, started.get_data(as_text=True)
    answer = device.create(started.json["publicKey"], **bad)
    return post_json(client, "/account/security/passkeys",
                     {"ceremony": started.json["ceremony"], "credential": answer, "name": name},
                     "/account/security")


def passkey_alone(app: Flask, device: SoftAuthenticator, client: FlaskClient | None = None,
                  **bad: object):
    client = client or app.test_client()
    started = post_json(client, "/login/passkey/options", {})
    assert started.status_code == 200
    answer = device.get(started.json["publicKey"], **bad)
    response = post_json(client, "/login/passkey",
                         {"ceremony": started.json["ceremony"], "credential": answer})
    return client, response, started.json["ceremony"], answer


def session_amr(app: Flask, client: FlaskClient) -> str | None:
    token = client.get_cookie(SESSION_COOKIE)
    if token is None:
        return None
    with app.app_context():
        return db.session.scalar(select(UserSession.amr).where(
            UserSession.token_hash == token_hash(token.value), UserSession.revoked_at.is_(None)))


def stored(app: Flask) -> list[Passkey]:
    with app.app_context():
        return list(db.session.scalars(select(Passkey)))


def audited(app: Flask, tag: str) -> list[dict[str, object]]:
    with app.app_context():
        return [event.data for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.id))]


# --- adding a passkey ------------------------------------------------------------------------

def test_added_passkey_is_listed_and_raises_the_session(app, citizen):
    client = signed_in(app)
    device = SoftAuthenticator()
    response = add_passkey(client, device)
    assert response.status_code == 200 and response.json == {
        "redirect": "/account/security?passkey=added"}
    [passkey] = stored(app)
    assert passkey.account_id == citizen and passkey.name == "Điện thoại của tôi"
    assert passkey.credential_id == device.credential_id and not passkey.backup_eligible
    assert len(passkey.user_handle) == 32 and b"001099012345" not in passkey.user_handle
    assert passkey.transports == "internal hybrid" and passkey.last_used_at is None
    # Proven in this session, like the code that confirms TOTP: no second step a moment later.
    assert session_amr(app, client) == "pwd hwk user mfa"
    page = client.get("/account/security").get_data(as_text=True)
    assert "Điện thoại của tôi" in page and "Chưa dùng lần nào." in page  # "Not used yet."


def test_a_second_passkey_shares_the_user_handle(app, citizen):
    client = signed_in(app)
    first, second = SoftAuthenticator(), SoftAuthenticator(synced=True)
    assert add_passkey(client, first).status_code == 200
    assert add_passkey(client, second, name="").status_code == 200
    one, two = stored(app)
    assert one.user_handle == two.user_handle and two.backup_eligible and two.name == "Passkey (synced)"


@pytest.mark.parametrize("bad", [{"origin": "http://localhost.evil.example"},
                                 {"origin": "https://localhost"}, {"rp_id": "evil.example"}])
def test_registration_from_another_origin_or_rp_id_stores_nothing(app, citizen, bad):
    client = signed_in(app)
    response = add_passkey(client, SoftAuthenticator(), **bad)
    assert response.status_code == 400 and response.json["error"] == "passkey.failed"
    assert stored(app) == [] and session_amr(app, client) == "pwd"
    assert audited(app, "account.mfa.failure")[-1]["reason"] == "invalid_response"


def test_a_registration_answer_cannot_be_replayed(app, citizen):
    client = signed_in(app)
    device = SoftAuthenticator()
    started = post_json(client, "/account/security/passkeys/options", {}, "/account/security")
    body = {"ceremony": started.json["ceremony"], "credential": device.create(started.json["publicKey"])}
    assert post_json(client, "/account/security/passkeys", body, "/account/security").status_code == 200
    again = post_json(client, "/account/security/passkeys", body, "/account/security")
    assert again.status_code == 400 and again.json["error"] == "passkey.failed"
    assert len(stored(app)) == 1


def test_adding_needs_a_recent_sign_in_and_then_the_second_factor(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    with app.app_context():  # a session that has not proven the factor the account now has
        db.session.execute(update(UserSession).values(amr="pwd"))
        db.session.commit()
    started = post_json(client, "/account/security/passkeys/options", {}, "/account/security")
    assert started.status_code == 403 and started.json["error"] == "passkey.step_up"
    with app.app_context():
        db.session.execute(update(UserSession).values(
            amr="pwd hwk user mfa", authenticated_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    started = post_json(client, "/account/security/passkeys/options", {}, "/account/security")
    assert started.status_code == 403 and started.json["error"] == "passkey.reauthenticate"
    assert len(stored(app)) == 1


def test_adding_needs_a_session(app, citizen):
    client = app.test_client()
    response = post_json(client, "/account/security/passkeys/options", {})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_json_without_the_csrf_token_is_refused(app, citizen):
    client = signed_in(app)
    assert client.post("/account/security/passkeys/options", json={}).status_code == 400
    assert client.post("/login/passkey/options", json={}).status_code == 400


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
    assert session_amr(app, client) == "pwd hwk mfa"


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


# --- removal ---------------------------------------------------------------------------------------

def remove(client: FlaskClient, passkey_id: int, password: str):
    return client.post(f"/account/security/passkeys/{passkey_id}/remove",
                       data={"csrf_token": csrf_token(client, "/account/security"),
                             "password": password})


def test_removal_needs_the_password(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    [passkey] = stored(app)
    assert remove(client, passkey.id, "wrong password here").status_code == 401
    assert len(stored(app)) == 1
    assert remove(client, passkey.id + 1000, PASSWORD).status_code == 404
    response = remove(client, passkey.id, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("passkey=removed")
    assert stored(app) == [] and audited(app, "account.mfa.remove")[-1]["method"] == "passkey"


def test_the_last_factor_goes_only_with_a_session_that_proved_one(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    with app.app_context():
        db.session.execute(update(UserSession).values(amr="pwd"))
        db.session.commit()
    [passkey] = stored(app)
    assert remove(client, passkey.id, PASSWORD).status_code == 403
    assert len(stored(app)) == 1


def test_another_citizens_passkey_cannot_be_touched(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    [passkey] = stored(app)
    with app.app_context():
        second_citizen()
    other = app.test_client()
    other.post("/login", data={"csrf_token": csrf_token(other), "identifier": "079303001234",
                               "password": PASSWORD})
    assert remove(other, passkey.id, PASSWORD).status_code == 404
    response = other.post(f"/account/security/passkeys/{passkey.id}/name",
                          data={"csrf_token": csrf_token(other, "/account/security"), "name": "x"})
    assert response.status_code == 404 and stored(app)[0].name == "Điện thoại của tôi"


def test_rename(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    [passkey] = stored(app)
    response = client.post(f"/account/security/passkeys/{passkey.id}/name",
                           data={"csrf_token": csrf_token(client, "/account/security"),
                                 "name": "  Khóa   USB  "})
    assert response.status_code == 302 and stored(app)[0].name == "Khóa USB"
    response = client.post(f"/account/security/passkeys/{passkey.id}/name",
                           data={"csrf_token": csrf_token(client, "/account/security"),
                                 "name": "x" * 65})
    assert response.status_code == 400 and stored(app)[0].name == "Khóa USB"


# --- what a portal receives ------------------------------------------------------------------------

def id_token(app: Flask, client: FlaskClient, **params: str) -> dict[str, object]:
    portal = registered_portal(app)
    request = auth_request(portal, **params)
    response = authorize(client, request)
    if response.status_code == 200:  # consent
        page = response.get_data(as_text=True)
        response = client.post(consent_action(page), data={
            "csrf_token": csrf_token(client, request.url), "decision": "allow"})
    code = redirect_params(response)["code"]
    body = exchange(client, portal, code, request.verifier).json
    return verify_id_token(client, body["id_token"])[1]


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


# --- recovery and deletion ---------------------------------------------------------------------

def test_deleting_the_account_erases_its_passkeys(app, citizen):
    client = signed_in(app)
    device = SoftAuthenticator()
    assert add_passkey(client, device).status_code == 200
    response = client.post("/account/delete", data={
        "csrf_token": csrf_token(client, "/account/delete"), "password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302 and stored(app) == []
    assert passkey_alone(app, device)[1].status_code == 400


def test_a_phone_reset_ends_every_session_and_keeps_the_passkeys(app, citizen):
    from tests.web.recovery.test_recovery import NEW_PASSWORD, latest_code, start, submit_code

    with app.app_context():
        db.session.get(Account, citizen).phone_verified_at = utcnow()
        db.session.commit()
    owner = signed_in(app)
    device = SoftAuthenticator()
    assert add_passkey(owner, device).status_code == 200
    stranger = app.test_client()
    start(stranger)
    assert submit_code(stranger, latest_code(app)).status_code == 200
    assert session_amr(app, owner) is None  # every session ended
    assert len(stored(app)) == 1  # no factor removed: the new password alone is not enough
    response = stranger.post("/login", data={"csrf_token": csrf_token(stranger),
                                             "identifier": "001099012345", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login/verify"
    assert stranger.get_cookie(SESSION_COOKIE) is None
    assert passkey_alone(app, device)[1].status_code == 200


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
