"""oidcc-prompt-none-not-logged-in, oidcc-prompt-none-logged-in, oidcc-prompt-login,
oidcc-max-age-1, oidcc-max-age-10000, oidcc-id-token-hint, oidcc-login-hint, claims/acr."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from idp.extensions import db
from idp.models import UserSession
from tests.oidc.flow import (
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


def login_redirect_target(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/login?"), location
    return parse_qs(urlsplit(location).query)["next"][0]


def age_session(app, minutes: int) -> None:
    with app.app_context():
        session = db.session.scalar(select(UserSession).where(UserSession.revoked_at.is_(None)))
        session.authenticated_at -= timedelta(minutes=minutes)
        db.session.commit()


def test_prompt_none_without_a_session_is_login_required(app, client):
    portal = registered_portal(app)
    request = auth_request(portal, prompt="none")
    params = redirect_params(client.get(request.url))
    assert params["error"] == "login_required" and params["state"] == request.params["state"]
    assert params["iss"] == "http://localhost"


def test_prompt_none_without_consent_is_consent_required(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    params = redirect_params(client.get(auth_request(portal, prompt="none").url))
    assert params["error"] == "consent_required"


def test_prompt_none_with_session_and_consent_is_silent_sso(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    obtain_code(client, portal)
    params = redirect_params(client.get(auth_request(portal, prompt="none").url))
    assert "code" in params


def test_one_sign_in_serves_a_second_portal(app, client):
    first, second = registered_portal(app), registered_portal(app)
    citizen(app)
    sign_in(client)
    code_a, req_a = obtain_code(client, first)
    code_b, req_b = obtain_code(client, second)  # consent page, but no sign-in page
    _, claims_a = verify_id_token(client, exchange(client, first, code_a, req_a.verifier).json["id_token"])
    _, claims_b = verify_id_token(client, exchange(client, second, code_b, req_b.verifier).json["id_token"])
    assert claims_a["sid"] == claims_b["sid"] and claims_a["auth_time"] == claims_b["auth_time"]


def test_without_session_the_person_is_sent_to_sign_in_and_back(app, client):
    portal = registered_portal(app)
    citizen(app)
    request = auth_request(portal, login_hint="0912345678")
    response = client.get(request.url)
    target = login_redirect_target(response)
    assert target.startswith("/authorize?")
    login_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'value="0912345678"' in login_page  # login_hint pre-fills the form
    sign_in(client)
    page = client.get(target)
    assert page.status_code == 200 and 'name="decision"' in page.get_data(as_text=True)


def test_prompt_login_forces_a_new_sign_in_and_auth_time_moves(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    obtain_code(client, portal)
    age_session(app, 10)
    request = auth_request(portal, prompt="login")
    target = login_redirect_target(client.get(request.url))
    sign_in(client)
    params = redirect_params(client.get(target))
    tokens = exchange(client, portal, params["code"], request.verifier).json
    _, claims = verify_id_token(client, tokens["id_token"])
    with app.app_context():
        live = db.session.scalar(select(UserSession).where(UserSession.revoked_at.is_(None)))
        assert claims["auth_time"] == int(live.authenticated_at.timestamp())


def test_max_age_exceeded_requires_sign_in(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    obtain_code(client, portal)
    age_session(app, 2)
    login_redirect_target(client.get(auth_request(portal, max_age="1").url))
    params = redirect_params(client.get(auth_request(portal, max_age="1", prompt="none").url))
    assert params["error"] == "login_required"


def test_a_forged_or_replayed_sign_in_marker_does_not_skip_prompt_login(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    obtain_code(client, portal)
    # The marker of the first sign-in, as the browser history keeps it.
    first_target = login_redirect_target(client.get(auth_request(portal, prompt="login").url))
    marker = parse_qs(urlsplit(first_target).query)["_postid_login"][0]
    age_session(app, 20)  # older than the marker's lifetime (15 minutes)
    for forged in ("0", "1700000000", marker, marker + "x"):
        request = auth_request(portal, prompt="login", max_age="0", _postid_login=forged)
        login_redirect_target(client.get(request.url))  # still asked to sign in


def test_max_age_not_exceeded_is_silent(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    obtain_code(client, portal)
    params = redirect_params(client.get(auth_request(portal, max_age="10000").url))
    assert "code" in params


def test_bad_max_age_and_prompt_values_are_invalid_request(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    for overrides in ({"max_age": "-1"}, {"max_age": "soon"}, {"prompt": "none login"},
                      {"prompt": "sometimes"}, {"claims": "{not json"}, {"claims": "[1]"}):
        params = redirect_params(client.get(auth_request(portal, **overrides).url))
        assert params["error"] == "invalid_request", overrides


def test_request_objects_are_not_supported(app, client):
    portal = registered_portal(app)
    params = redirect_params(client.get(auth_request(portal, request="eyJ.x.y").url))
    assert params["error"] == "request_not_supported"
    params = redirect_params(client.get(auth_request(portal, request_uri="https://x/y").url))
    assert params["error"] == "request_uri_not_supported"


def test_id_token_hint_of_the_signed_in_person_is_silent(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal)
    id_token = exchange(client, portal, code, request.verifier).json["id_token"]
    params = redirect_params(client.get(auth_request(portal, prompt="none", id_token_hint=id_token).url))
    assert "code" in params


def test_garbage_id_token_hint_is_invalid_request(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    obtain_code(client, portal)
    params = redirect_params(client.get(auth_request(portal, id_token_hint="not.a.jwt").url))
    assert params["error"] == "invalid_request"


def test_essential_acr_that_is_not_met(app, client):
    """prompt=none: no page to explain it, so the error goes straight back (more in test_acr)."""
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    obtain_code(client, portal)
    claims = json.dumps({"id_token": {"acr": {"essential": True, "values": ["urn:vn:postid:loa:2"]}}})
    params = redirect_params(client.get(auth_request(portal, claims=claims, prompt="none").url))
    assert params["error"] == "unmet_authentication_requirements"


def test_voluntary_acr_values_return_the_real_level(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    code, request = obtain_code(client, portal, acr_values="urn:vn:postid:loa:3")
    _, claims = verify_id_token(client, exchange(client, portal, code, request.verifier).json["id_token"])
    assert claims["acr"] == "urn:vn:postid:loa:1"


def test_claims_parameter_puts_named_claims_in_the_id_token(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    claims = json.dumps({"id_token": {"name": {"essential": True}, "email": None}})
    code, request = obtain_code(client, portal, scope="openid profile", claims=claims)
    _, id_claims = verify_id_token(client, exchange(client, portal, code, request.verifier).json["id_token"])
    assert id_claims["name"] == "Nguyễn Văn An"
    assert "email" not in id_claims  # not covered by a granted scope


def test_unknown_parameters_are_ignored(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    params = redirect_params(authorize(client, auth_request(portal, foo="bar", display="touch",
                                                            ui_locales="en")))
    assert "code" in params


def test_ui_locales_carries_over_to_the_sign_in_page(app, client):
    portal = registered_portal(app)
    response = client.get(auth_request(portal, ui_locales="en").url)
    assert "ui_locales=en" in response.headers["Location"]
    assert "Sign in to PostID" in client.get(response.headers["Location"]).get_data(as_text=True)
