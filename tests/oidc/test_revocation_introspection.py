"""RFC 7009 revocation and RFC 7662 introspection."""

from __future__ import annotations

import pytest

from tests.oidc.flow import citizen, exchange, obtain_code, refresh, registered_portal, sign_in


@pytest.fixture
def issued(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, scope="openid offline_access")
    return portal, exchange(client, portal, code, request.verifier).json


def post(client, path, portal, **data):  # type: ignore[no-untyped-def]
    auth = portal.auth()
    return client.post(path, data={**auth["data"], **data}, headers=auth["headers"])


def test_introspection_of_an_active_access_token(client, issued):
    portal, tokens = issued
    body = post(client, "/token/introspect", portal, token=tokens["access_token"]).json
    assert body["active"] is True and body["client_id"] == portal.client_id
    assert body["scope"] == "openid offline_access" and body["token_type"] == "Bearer"
    refresh_info = post(client, "/token/introspect", portal, token=tokens["refresh_token"],
                        token_type_hint="refresh_token").json
    assert refresh_info["active"] is True and refresh_info["token_type"] == "refresh_token"


def test_introspection_of_unknown_or_foreign_tokens_is_inactive(app, client, issued):
    portal, tokens = issued
    assert post(client, "/token/introspect", portal, token="nonsense").json == {"active": False}
    other = registered_portal(app)
    assert post(client, "/token/introspect", other, token=tokens["access_token"]).json == {"active": False}


def test_introspection_needs_client_authentication(client, issued):
    _, tokens = issued
    response = client.post("/token/introspect", data={"token": tokens["access_token"]})
    assert response.status_code in (400, 401) and response.json["error"] == "invalid_client"


def test_revoking_the_access_token_keeps_the_refresh_token(client, issued):
    portal, tokens = issued
    assert post(client, "/token/revoke", portal, token=tokens["access_token"]).status_code == 200
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 401
    assert refresh(client, portal, tokens["refresh_token"]).status_code == 200


def test_revoking_the_refresh_token_ends_the_grant(client, issued):
    portal, tokens = issued
    response = post(client, "/token/revoke", portal, token=tokens["refresh_token"],
                    token_type_hint="refresh_token")
    assert response.status_code == 200
    assert refresh(client, portal, tokens["refresh_token"]).json["error"] == "invalid_grant"
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 401


def test_revoking_an_unknown_token_is_200(client, issued):
    portal, _ = issued
    assert post(client, "/token/revoke", portal, token="unknown").status_code == 200


def test_revocation_requires_the_token_parameter(client, issued):
    portal, _ = issued
    response = post(client, "/token/revoke", portal)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"


def test_disabling_a_client_ends_its_tokens(app, client, issued):
    from idp.services.portals.clients import disable_client

    portal, tokens = issued
    with app.app_context():
        disable_client(portal.client_id)
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert client.get("/userinfo", headers=bearer).status_code == 401
    assert refresh(client, portal, tokens["refresh_token"]).status_code in (400, 401)
