"""oidcc-codereuse, oidcc-codereuse-30seconds, PKCE (RFC 7636 / RFC 9700 §2.1.1)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuthorizationCode, OAuthToken
from tests.oidc.flow import (
    auth_request,
    authorize,
    citizen,
    exchange,
    obtain_code,
    redirect_params,
    registered_portal,
    sign_in,
)


@pytest.fixture
def signed_in(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    return portal


def test_second_redemption_fails_and_revokes_the_first_tokens(app, client, signed_in):
    code, request = obtain_code(client, signed_in, scope="openid offline_access")
    first = exchange(client, signed_in, code, request.verifier)
    assert first.status_code == 200
    replay = exchange(client, signed_in, code, request.verifier)
    assert replay.status_code == 400
    assert replay.json["error"] == "invalid_grant"
    access = first.json["access_token"]
    assert client.get("/userinfo", headers={"Authorization": f"Bearer {access}"}).status_code == 401
    with app.app_context():
        token = db.session.scalar(select(OAuthToken))
        assert token.revoked_at is not None and token.revoke_reason == "code_replay"


def test_expired_code_is_invalid_grant(app, client, signed_in):
    code, request = obtain_code(client, signed_in)
    with app.app_context():
        row = db.session.scalar(select(AuthorizationCode))
        row.expires_at = row.created_at + timedelta(seconds=60) - timedelta(minutes=5)
        db.session.commit()
    response = exchange(client, signed_in, code, request.verifier)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_code_lifetime_is_60_seconds(app, client, signed_in):
    obtain_code(client, signed_in)
    with app.app_context():
        row = db.session.scalar(select(AuthorizationCode))
        assert (row.expires_at - row.created_at).total_seconds() == pytest.approx(60, abs=1)


def test_code_of_another_client_is_invalid_grant(app, client, signed_in):
    other = registered_portal(app)
    code, request = obtain_code(client, signed_in)
    response = exchange(client, other, code, request.verifier)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_redirect_uri_must_match_at_the_token_endpoint(app, client, signed_in):
    code, request = obtain_code(client, signed_in)
    response = exchange(client, signed_in, code, request.verifier,
                        redirect_uri="https://portal.example.vn/other")
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "overrides",
    [
        {"code_challenge": None, "code_challenge_method": None},  # no PKCE at all
        {"code_challenge_method": "plain"},
        {"code_challenge_method": None},  # defaults to plain, which is refused
        {"code_challenge": "short"},
    ],
)
def test_authorization_without_s256_pkce_is_refused(app, client, signed_in, overrides):
    request = auth_request(signed_in, **overrides)
    params = redirect_params(authorize(client, request))
    assert params["error"] == "invalid_request"
    assert params["state"] == request.params["state"]
    with app.app_context():
        assert db.session.scalar(select(AuthorizationCode)) is None


def test_wrong_verifier_is_invalid_grant(app, client, signed_in):
    code, request = obtain_code(client, signed_in)
    response = exchange(client, signed_in, code, "x" * 43)
    assert response.status_code == 400 and response.json["error"] == "invalid_grant"


def test_missing_verifier_is_invalid_request(app, client, signed_in):
    code, request = obtain_code(client, signed_in)
    auth = signed_in.auth()
    response = client.post("/token", headers=auth["headers"], data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": signed_in.redirect_uri})
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
