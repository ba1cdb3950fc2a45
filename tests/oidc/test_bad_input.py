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


# --- parameters the database stores: refused with a clear OAuth error, nothing stored.
# Run with IDP_TEST_DATABASE_URL on PostgreSQL, where NUL and over-long values were a 500.

NUL = "a\x00b"
UNTRUSTED = ["client_id", "redirect_uri", "response_type"]  # the redirect cannot be trusted
TRUSTED = ["nonce", "state", "scope", "prompt", "max_age", "code_challenge",
           "code_challenge_method", "claims", "acr_values", "login_hint", "ui_locales",
           "id_token_hint", "display"]


def stored_codes(app) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from idp.extensions import db
    from idp.models import AuthorizationCode

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuthorizationCode))


def error_redirect(response) -> dict[str, str]:  # type: ignore[no-untyped-def]
    from tests.oidc.flow import redirect_params

    params = redirect_params(response)
    assert "code" not in params, params
    return params


@pytest.mark.parametrize("name", TRUSTED)
@pytest.mark.parametrize("value", [NUL, "x" * 4097], ids=["nul", "over-long"])
def test_unstorable_parameter_goes_back_to_the_portal_as_invalid_request(app, client, portal, name, value):
    from tests.oidc.flow import authorize

    response = authorize(client, auth_request(portal, **{name: value}))
    assert error_redirect(response)["error"] == "invalid_request"
    assert stored_codes(app) == 0


@pytest.mark.parametrize("name", UNTRUSTED)
@pytest.mark.parametrize("value", [NUL, "x" * 4097], ids=["nul", "over-long"])
def test_unstorable_parameter_that_decides_the_redirect_is_an_error_page(app, client, portal, name, value):
    from tests.oidc.flow import authorize

    response = authorize(client, auth_request(portal, **{name: value}))
    assert response.status_code == 400 and "Location" not in response.headers
    assert stored_codes(app) == 0


def test_nonce_is_limited_to_what_the_code_can_store(app, client, portal):
    from idp.models import AuthorizationCode
    from tests.oidc.flow import authorize, redirect_params

    width = AuthorizationCode.__table__.c.nonce.type.length
    too_long = authorize(client, auth_request(portal, nonce="n" * (width + 1)))
    assert error_redirect(too_long)["error"] == "invalid_request"
    assert stored_codes(app) == 0
    assert "code" in redirect_params(authorize(client, auth_request(portal, nonce="n" * width)))


@pytest.mark.parametrize("claims", ['{"id_token": {"x\\u0000": null}}',
                                    '{"userinfo": {"name": {"value": "a\\u0000"}}}',
                                    '{"id_token": {"x\\ud800": null}}',
                                    '{"id_token": {"acr": {"values": ["\\udfff"]}}}'])
def test_claims_with_nul_or_lone_surrogates_are_invalid_request(app, client, portal, claims):
    from tests.oidc.flow import authorize

    response = authorize(client, auth_request(portal, claims=claims))
    assert error_redirect(response)["error"] == "invalid_request"
    assert stored_codes(app) == 0


@pytest.mark.parametrize("path", ["/token", "/token/revoke", "/token/introspect"])
@pytest.mark.parametrize("name", ["grant_type", "code", "code_verifier", "redirect_uri", "refresh_token",
                                  "token", "token_type_hint", "client_id", "scope"])
def test_nul_at_the_token_endpoints_is_invalid_request(client, portal, path, name):
    data = {"grant_type": "authorization_code", "code": "c" * 43, "token": "t" * 43,
            "client_id": portal.client_id, "client_secret": portal.client_secret, name: NUL}
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"


@pytest.mark.parametrize("name", ["client_id", "post_logout_redirect_uri", "state", "ui_locales",
                                  "id_token_hint"])
def test_nul_at_session_end_is_refused(client, portal, name):
    response = client.get("/session/end", query_string={name: NUL})
    assert response.status_code == 400 and "Location" not in response.headers


def test_nul_in_a_bearer_token_at_userinfo_is_invalid_token(client, portal):
    for response in (client.get("/userinfo", headers={"Authorization": "Bearer " + NUL}),
                     client.post("/userinfo", data={"access_token": NUL})):
        assert response.status_code == 401 and response.json["error"] == "invalid_token"
