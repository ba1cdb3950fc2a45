"""No input to a protocol endpoint produces a 500 or a redirect to an unregistered URI."""

from __future__ import annotations

import pytest

from tests.conftest import csrf_token
from tests.oidc.flow import REDIRECT_URI, auth_request, citizen, registered_portal, sign_in

GARBAGE = ["", "\x00", "%", "\u202e", "é" * 5000, "a" * 10000, "{", "[]", "null", "\r\nX: y",
           "javascript:alert(1)", "https://evil.example/", "0" * 64]


@pytest.fixture
def portal(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    return portal


@pytest.mark.parametrize("name", ["response_type", "client_id", "redirect_uri", "scope", "state",
                                  "nonce", "prompt", "max_age", "claims", "code_challenge",
                                  "code_challenge_method", "id_token_hint", "login_hint", "ui_locales",
                                  "acr_values"])
def test_authorize_never_500_nor_foreign_redirect(client, portal, name):
    for value in GARBAGE:
        response = client.get(auth_request(portal, **{name: value}).url)
        assert response.status_code < 500, value
        location = response.headers.get("Location", "")
        assert location == "" or location.startswith(REDIRECT_URI) or location.startswith("/login")


@pytest.mark.parametrize("path", ["/token", "/token/revoke", "/token/introspect", "/userinfo",
                                  "/session/end"])
@pytest.mark.parametrize("value", GARBAGE)
def test_other_endpoints_never_500(client, portal, path, value):
    for data in ({"grant_type": value, "code": value, "token": value, "refresh_token": value},
                 {"client_id": value, "client_secret": value, "access_token": value,
                  "id_token_hint": value, "post_logout_redirect_uri": value}):
        assert client.post(path, data=data).status_code < 500
    assert client.post(path, data=value.encode("utf-8", "surrogatepass"),
                       content_type="application/json").status_code < 500
    headers = {"Authorization": "Bearer " + value.replace("\r\n", "")}
    assert client.get(path, headers=headers).status_code < 500


@pytest.mark.parametrize("name", ["client_id", "redirect_uri", "state", "scope", "claims", "acr_values",
                                  "code_challenge"])
def test_unmet_return_never_500_nor_foreign_redirect(client, portal, name):
    token = csrf_token(client, "/account/security")
    for value in GARBAGE:
        response = client.post(auth_request(portal, **{name: value}).url.replace(
            "/authorize?", "/authorize/unmet?"), data={"csrf_token": token})
        assert response.status_code < 500, value
        location = response.headers.get("Location", "")
        assert location == "" or location.startswith(REDIRECT_URI)


@pytest.mark.parametrize("value", GARBAGE)
def test_step_up_never_500(client, portal, value):
    token = csrf_token(client, "/account/security")
    for response in (client.get("/account/security/step-up", query_string={"next": value}),
                     client.post("/account/security/step-up", query_string={"next": value},
                                 data={"csrf_token": token, "code": value})):
        assert response.status_code < 500, value
        location = response.headers.get("Location", "")
        assert not location.startswith(("http", "//")), location
