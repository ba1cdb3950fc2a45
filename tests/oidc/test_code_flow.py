"""oidcc-server / oidcc-userinfo-*: the basic code flow end to end, and what it stores."""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AuthorizationCode, Consent, OAuthToken, UserSession
from idp.services.platform.secrets import token_hash
from tests.oidc.flow import (
    ISSUER,
    auth_request,
    authorize,
    citizen,
    exchange,
    obtain_code,
    redirect_params,
    registered_portal,
    sign_in,
    verify_id_token,
)


def test_full_sign_in_gives_a_verifiable_id_token(app, client):
    portal = registered_portal(app)
    citizen(app)
    before = int(time.time())
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid profile email")
    response = exchange(client, portal, code, request.verifier)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 600
    assert "refresh_token" not in body  # no offline_access asked for
    header, claims = verify_id_token(client, body["id_token"])
    assert header["alg"] == "RS256" and header["kid"]
    with app.app_context():
        account = db.session.scalar(select(Account))
        session = db.session.scalar(select(UserSession))
        assert claims["sub"] == account.sub and claims["sub"] != account.national_id
        assert claims["sid"] == session.sid
        assert claims["auth_time"] == int(session.authenticated_at.timestamp())
    assert claims["iss"] == ISSUER
    assert claims["aud"] == portal.client_id and claims["azp"] == portal.client_id
    assert claims["nonce"] == request.params["nonce"]
    assert before - 1 <= claims["auth_time"] <= claims["iat"] <= int(time.time()) + 1
    assert claims["exp"] == claims["iat"] + 600
    assert claims["acr"] == "urn:vn:postid:loa:1" and claims["amr"] == ["pwd"]
    assert claims["at_hash"]
    assert "name" not in claims  # profile claims come from userinfo unless asked for by name


def test_authorization_response_carries_state_and_iss(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    request = auth_request(portal)
    params = redirect_params(authorize(client, request))
    assert params["state"] == request.params["state"]
    assert params["iss"] == ISSUER


def test_auth_time_is_the_sign_in_not_the_token_time(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    with app.app_context():
        session = db.session.scalar(select(UserSession))
        session.authenticated_at = session.authenticated_at.replace(microsecond=0) - timedelta(minutes=5)
        expected = int(session.authenticated_at.timestamp())
        db.session.commit()
    code, request = obtain_code(client, portal)
    _, claims = verify_id_token(client, exchange(client, portal, code, request.verifier).json["id_token"])
    assert claims["auth_time"] == expected
    assert claims["iat"] - claims["auth_time"] >= 299


def test_consent_is_stored_once_and_then_not_asked_again(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    first = client.get(auth_request(portal, scope="openid profile email").url)
    assert first.status_code == 200 and 'name="decision"' in first.get_data(as_text=True)
    obtain_code(client, portal, scope="openid profile email")
    with app.app_context():
        consent = db.session.scalar(select(Consent))
        assert consent.scope == "openid profile email" and consent.text_version
    again = client.get(auth_request(portal, scope="openid email").url)
    assert again.status_code == 302  # covered by the standing consent
    wider = client.get(auth_request(portal, scope="openid profile phone").url)
    assert wider.status_code == 200  # a new scope asks again


def test_declining_consent_returns_access_denied_and_stores_nothing(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    request = auth_request(portal)
    params = redirect_params(authorize(client, request, decision="deny"))
    assert params["error"] == "access_denied" and params["state"] == request.params["state"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Consent)) == 0
        assert db.session.scalar(select(func.count()).select_from(AuthorizationCode)) == 0


def test_codes_and_tokens_are_stored_hashed(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid offline_access")
    body = exchange(client, portal, code, request.verifier).json
    with app.app_context():
        stored_code = db.session.scalar(select(AuthorizationCode))
        assert stored_code.code_hash == token_hash(code) and stored_code.redeemed_at is not None
        token = db.session.scalar(select(OAuthToken))
        assert token.access_token_hash == token_hash(body["access_token"])
        assert token.refresh_token_hash == token_hash(body["refresh_token"])


def test_userinfo_by_header_get_post_and_by_body(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid profile email phone")
    access = exchange(client, portal, code, request.verifier).json["access_token"]
    bearer = {"Authorization": f"Bearer {access}"}
    responses = [client.get("/userinfo", headers=bearer), client.post("/userinfo", headers=bearer),
                 client.post("/userinfo", data={"access_token": access})]
    for response in responses:
        assert response.status_code == 200
        info = response.json
        assert info["name"] == "Nguyễn Văn An"
        assert info["family_name"] == "Nguyễn" and info["given_name"] == "An" and info["middle_name"] == "Văn"
        assert info["birthdate"] == "1999-05-17" and info["gender"] == "male"
        assert info["email"] == "an@example.vn" and info["email_verified"] is False
        assert info["phone_number"] == "+84912345678"
        assert "national_id" not in info


def test_userinfo_refuses_bad_tokens(app, client):
    assert client.get("/userinfo").status_code == 401
    assert client.get("/userinfo").headers["WWW-Authenticate"].startswith("Bearer")
    response = client.get("/userinfo", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 401 and 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert client.get("/userinfo?access_token=abc").status_code == 400
    response = client.post("/userinfo", data={"access_token": "x"}, headers={"Authorization": "Bearer y"})
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert client.get("/userinfo", headers={"Authorization": "Basic abc"}).status_code == 401


def test_national_id_only_with_its_scope(app, client):
    portal = registered_portal(app, scope="openid profile national_id")
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid national_id")
    access = exchange(client, portal, code, request.verifier).json["access_token"]
    info = client.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).json
    assert info["national_id"] == "001099012345" and "name" not in info


def test_unregistered_scopes_are_dropped(app, client):
    portal = registered_portal(app, scope="openid profile")
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid profile national_id email")
    body = exchange(client, portal, code, request.verifier).json
    assert body["scope"] == "openid profile"
