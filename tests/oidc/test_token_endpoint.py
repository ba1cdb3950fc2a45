"""Token endpoint errors per RFC 6749 §5.2 and client authentication methods."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from idp.models import ClientAuthMethod, SubjectType
from tests.oidc.flow import (
    Portal,
    citizen,
    exchange,
    obtain_code,
    registered_portal,
    sign_in,
    verify_id_token,
)


@pytest.fixture
def portal(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    return portal


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def test_wrong_secret_via_basic_is_401_with_www_authenticate(client, portal):
    code, request = obtain_code(client, portal)
    bad = Portal(portal.client_id, "wrong-secret")
    response = exchange(client, bad, code, request.verifier)
    assert response.status_code == 401
    assert response.json["error"] == "invalid_client"
    assert response.headers["WWW-Authenticate"].startswith("Basic ")
    assert response.headers["Cache-Control"] == "no-store"
    # The code was not consumed by the failed attempt.
    assert exchange(client, portal, code, request.verifier).status_code == 200


def test_unknown_client_is_invalid_client(client, portal):
    response = client.post("/token", data={"grant_type": "authorization_code", "code": "x",
                                           "redirect_uri": portal.redirect_uri, "code_verifier": "y" * 43},
                           headers=basic("nobody", "nothing"))
    assert response.status_code == 401 and response.json["error"] == "invalid_client"


def test_registered_method_only(client, portal):
    code, request = obtain_code(client, portal)
    as_post = Portal(portal.client_id, portal.client_secret, auth_method="client_secret_post")
    response = exchange(client, as_post, code, request.verifier)
    assert response.json["error"] == "invalid_client"


def test_client_secret_post_client(app, client):
    portal = registered_portal(app, auth_method=ClientAuthMethod.CLIENT_SECRET_POST)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal)
    assert exchange(client, portal, code, request.verifier).status_code == 200


def test_public_client_with_pkce(app, client):
    portal = registered_portal(app, auth_method=ClientAuthMethod.NONE)
    assert portal.client_secret is None
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal)
    assert exchange(client, portal, code, request.verifier).status_code == 200


@pytest.mark.parametrize(
    "data, error",
    [
        ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
        # Supported, but this portal has no service scope (tests/oidc/test_client_credentials.py).
        ({"grant_type": "client_credentials"}, "unauthorized_client"),
        ({}, "invalid_request"),
        ({"grant_type": "authorization_code"}, "invalid_request"),
        ({"grant_type": "authorization_code", "code": "nope", "redirect_uri": "x",
          "code_verifier": "v" * 43}, "invalid_grant"),
        ({"grant_type": "refresh_token", "refresh_token": "nope"}, "invalid_grant"),
        ({"grant_type": "authorization_code", "code": "\u00e9" * 3000, "redirect_uri": "x",
          "code_verifier": "v" * 43}, "invalid_grant"),
        ({"grant_type": "authorization_code", "code": "c" * 5000}, "invalid_request"),
    ],
)
def test_token_errors_are_json_with_the_right_code(client, portal, data, error):
    response = client.post("/token", data=data, headers=basic(portal.client_id, portal.client_secret))
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert response.json["error"] == error
    assert "\n" not in response.json.get("error_description", "")


def test_repeated_parameters_and_wrong_content_type(client, portal):
    auth = basic(portal.client_id, portal.client_secret)
    response = client.post("/token", data="grant_type=refresh_token&grant_type=refresh_token&refresh_token=x",
                           content_type="application/x-www-form-urlencoded", headers=auth)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    response = client.post("/token", data=json.dumps({"grant_type": "refresh_token"}),
                           content_type="application/json", headers=auth)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    response = client.post("/token?grant_type=refresh_token", data={"refresh_token": "x"}, headers=auth)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert client.get("/token").status_code == 405


def test_private_key_jwt_client(app, client):
    key = RSAKey.generate_key(2048, parameters={"kid": "portal-key-1", "use": "sig"})
    portal_row = registered_portal(app, auth_method=ClientAuthMethod.PRIVATE_KEY_JWT,
                                   jwks={"keys": [key.as_dict(private=False)]})
    citizen(app)
    sign_in(client)

    def assertion(jti: str, aud: str = "http://localhost/token") -> str:
        now = int(time.time())
        claims = {"iss": portal_row.client_id, "sub": portal_row.client_id, "aud": aud,
                  "iat": now, "exp": now + 60, "jti": jti}
        return jwt.encode({"alg": "RS256", "kid": "portal-key-1"}, claims, key)

    def redeem(client_assertion: str):  # type: ignore[no-untyped-def]
        code, request = obtain_code(client, portal_row)
        return client.post("/token", data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": portal_row.redirect_uri,
            "code_verifier": request.verifier, "client_id": portal_row.client_id,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion})

    jti = str(uuid.uuid4())
    assert redeem(assertion(jti)).status_code == 200
    replay = redeem(assertion(jti))
    assert replay.status_code in (400, 401) and replay.json["error"] == "invalid_client"
    wrong_aud = redeem(assertion(str(uuid.uuid4()), aud="https://other.example/token"))
    assert wrong_aud.json["error"] == "invalid_client"
    other_key = RSAKey.generate_key(2048, parameters={"kid": "portal-key-1"})
    now = int(time.time())
    forged = jwt.encode({"alg": "RS256", "kid": "portal-key-1"},
                        {"iss": portal_row.client_id, "sub": portal_row.client_id,
                         "aud": "http://localhost/token", "iat": now, "exp": now + 60,
                         "jti": str(uuid.uuid4())}, other_key)
    assert redeem(forged).json["error"] == "invalid_client"


def test_pairwise_subjects_differ_per_sector_and_are_stable(app, client):
    pairwise = registered_portal(app, subject_type=SubjectType.PAIRWISE)
    public = registered_portal(app)
    citizen(app)
    sign_in(client)
    subs = []
    for portal in (pairwise, pairwise, public):
        code, request = obtain_code(client, portal)
        _, claims = verify_id_token(client, exchange(client, portal, code, request.verifier).json["id_token"])
        subs.append(claims["sub"])
    assert subs[0] == subs[1] != subs[2]


def test_es256_client_gets_es256_id_tokens(app, client):
    portal = registered_portal(app, id_token_signed_response_alg="ES256")
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal)
    tokens = exchange(client, portal, code, request.verifier).json
    header, claims = verify_id_token(client, tokens["id_token"])
    assert header["alg"] == "ES256" and header["kid"]
    assert claims["aud"] == portal.client_id
