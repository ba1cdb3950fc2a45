"""Levels of assurance in the authorization flow (docs/architecture.md §9): voluntary acr_values, essential
acr in the claims parameter, the client's minimum, the get-verified page and its way back
(OIDC Core §3.1.2.1, §3.1.2.6, §5.5.1.1; RFC 9207)."""

from __future__ import annotations

import html
import json
import re

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, AuthorizationCode
from tests.conftest import csrf_token
from tests.oidc.assurance import (
    ACR,
    code_count,
    counter_verified,
    enrol_totp,
    essential,
    form_action,
    sign_in_with_totp,
    step_up_next,
)
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


def id_token_claims(client, portal, request, params):  # type: ignore[no-untyped-def]
    assert "code" in params, params
    body = exchange(client, portal, params["code"], request.verifier).json
    return verify_id_token(client, body["id_token"])[1]


def flow(client, portal, **overrides):  # type: ignore[no-untyped-def]
    """Authorize (through consent) and return the ID token claims."""
    request = auth_request(portal, **overrides)
    return id_token_claims(client, portal, request, redirect_params(authorize(client, request)))


# --- acr_values: voluntary, best effort ------------------------------------------------------

@pytest.mark.parametrize("acr_values", ["LoA2", ACR[2], "LoA3 LoA2", "urn:other:gold LoA2"])
def test_voluntary_level_above_the_account_returns_the_real_one(app, client, acr_values):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    claims = flow(client, portal, acr_values=acr_values)
    assert claims["acr"] == ACR[1] and claims["amr"] == ["pwd"]


def test_voluntary_level3_without_totp_is_not_a_detour(app, client):
    portal = registered_portal(app)
    counter_verified(app, citizen(app))
    sign_in(client)
    claims = flow(client, portal, acr_values="LoA3")
    assert claims["acr"] == ACR[2]


def test_voluntary_level3_offers_an_optional_step_up_to_a_totp_holder(app, client):
    portal = registered_portal(app)
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    enrol_totp(app, account_id)  # set up after this session began: the session has no otp
    request = auth_request(portal, acr_values="LoA3")
    response = client.get(request.url)
    assert "optional=1" in response.headers["Location"]
    target = step_up_next(response)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    skip = html.unescape(re.search(r'<a href="([^"]+_postid_mfa_skip=1)">', page).group(1))
    assert skip.startswith(target) and skip.endswith("&_postid_mfa_skip=1")
    consent = client.get(skip)
    assert 'name="decision"' in consent.get_data(as_text=True)  # on to consent: no more step-up
    back = client.post(form_action(consent.get_data(as_text=True)),
                       data={"csrf_token": csrf_token(client, skip), "decision": "allow"})
    claims = id_token_claims(client, portal, request, redirect_params(back))
    assert claims["acr"] == ACR[2] and claims["amr"] == ["pwd"]


def test_voluntary_level_with_prompt_none_never_interacts(app, client):
    portal = registered_portal(app)
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    enrol_totp(app, account_id)
    obtain_code(client, portal)  # consent given
    request = auth_request(portal, acr_values="LoA3", prompt="none")
    claims = id_token_claims(client, portal, request, redirect_params(client.get(request.url)))
    assert claims["acr"] == ACR[2]


def test_voluntary_acr_claim_with_values_is_a_preference_only(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    voluntary = json.dumps({"id_token": {"acr": {"values": [ACR[3]]}}})
    assert flow(client, portal, claims=voluntary)["acr"] == ACR[1]
    assert flow(client, portal, claims=json.dumps({"id_token": {"acr": None}}))["acr"] == ACR[1]


# --- essential acr: must be met ---------------------------------------------------------------

def test_essential_level2_for_a_level1_account_explains_how_to_get_verified(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    request = auth_request(portal, claims=essential(ACR[2]))
    response = client.get(request.url)
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert 'href="/account/verification"' in page
    action = form_action(page)
    assert action.startswith("/authorize/unmet?") and "decision" not in action
    assert code_count(app) == 0

    # The way back is a POST with the form's CSRF token...
    refused = client.post(action, data={})
    assert refused.status_code == 400 and "Location" not in refused.headers
    back = client.post(action, data={"csrf_token": csrf_token(client, request.url)})
    params = redirect_params(back)
    assert params == {"error": "unmet_authentication_requirements", "state": request.params["state"],
                      "iss": "http://localhost", "error_description": params["error_description"]}
    assert code_count(app) == 0


def test_unmet_return_only_goes_to_a_registered_redirect_uri(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    request = auth_request(portal, claims=essential(ACR[2]))
    action = form_action(client.get(request.url).get_data(as_text=True))
    token = csrf_token(client, request.url)
    forged = action.replace("portal.example.vn", "evil.example")
    assert forged != action
    response = client.post(forged, data={"csrf_token": token})
    assert response.status_code == 400 and "Location" not in response.headers
    assert client.post("/authorize/unmet", data={"csrf_token": token}).status_code == 400


def test_essential_level_with_prompt_none_goes_straight_back(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    obtain_code(client, portal)
    request = auth_request(portal, claims=essential("LoA2"), prompt="none")
    params = redirect_params(client.get(request.url))
    assert params["error"] == "unmet_authentication_requirements"
    assert params["state"] == request.params["state"] and params["iss"] == "http://localhost"


def test_essential_level2_for_a_verified_account(app, client):
    portal = registered_portal(app)
    counter_verified(app, citizen(app))
    sign_in(client)
    claims = flow(client, portal, claims=essential(ACR[2]))
    assert claims["acr"] == ACR[2] and claims["amr"] == ["pwd"]
    single = json.dumps({"id_token": {"acr": {"essential": True, "value": "LoA2"}}})
    assert flow(client, portal, claims=single)["acr"] == ACR[2]


def test_any_of_several_essential_values_will_do(app, client):
    portal = registered_portal(app)
    counter_verified(app, citizen(app))
    sign_in(client)
    claims = flow(client, portal, claims=essential("urn:other:gold", ACR[3], ACR[2]))
    assert claims["acr"] == ACR[2]


def test_essential_level1_is_met_by_a_higher_level(app, client):
    portal = registered_portal(app)
    counter_verified(app, citizen(app))
    sign_in(client)
    assert flow(client, portal, claims=essential(ACR[1]))["acr"] == ACR[2]  # achieved, not asked


def test_essential_unknown_values_cannot_be_met(app, client):
    portal = registered_portal(app)
    counter_verified(app, citizen(app))
    sign_in(client)
    request = auth_request(portal, claims=essential("urn:other:gold", "loa2"))
    params = redirect_params(client.get(request.url))  # no page: nothing the person can do
    assert params["error"] == "unmet_authentication_requirements"
    assert code_count(app) == 0


def test_essential_acr_without_values_asks_only_for_the_claim(app, client):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    claims = flow(client, portal, claims=json.dumps({"id_token": {"acr": {"essential": True}}}))
    assert claims["acr"] == ACR[1]


@pytest.mark.parametrize("member", [
    "LoA2", ["LoA2"], 2,
    {"essential": "yes", "values": ["LoA2"]},
    {"essential": True, "values": "LoA2"},
    {"essential": True, "values": [2]},
    {"essential": True, "value": 2},
    {"essential": True, "value": "LoA2", "values": ["LoA2"]},
    {"essential": True, "values": ["LoA2"] * 17},
])
def test_malformed_acr_request_is_invalid_request(app, client, member):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    request = auth_request(portal, claims=json.dumps({"id_token": {"acr": member}}))
    params = redirect_params(client.get(request.url))
    assert params["error"] == "invalid_request" and params["state"] == request.params["state"]
    assert code_count(app) == 0


@pytest.mark.parametrize("value", ["", " ", "LoA", "loa2", "LoA9", "x" * 4000, "\u202e", "LoA2\x00"])
def test_odd_acr_values_are_ignored_not_a_500(app, client, value):
    portal = registered_portal(app)
    citizen(app)
    sign_in(client)
    request = auth_request(portal, acr_values=value)
    response = authorize(client, request)
    assert response.status_code < 500
    if response.status_code == 302:
        assert redirect_params(response).get("code") or redirect_params(response).get("error")


# --- a second factor adds level 3 only to a verified identity --------------------------------

def test_level3_for_a_verified_account_signed_in_with_totp(app, client):
    portal = registered_portal(app)
    account_id = citizen(app)
    counter_verified(app, account_id)
    enrol_totp(app, account_id)
    sign_in_with_totp(app, client, account_id)
    claims = flow(client, portal, claims=essential(ACR[3]))
    assert claims["acr"] == ACR[3] and claims["amr"] == ["pwd", "otp", "mfa"]


def test_totp_does_not_lift_an_unverified_identity(app, client):
    portal = registered_portal(app)
    account_id = citizen(app)
    enrol_totp(app, account_id)
    sign_in_with_totp(app, client, account_id)
    claims = flow(client, portal, acr_values="LoA3")
    assert claims["acr"] == ACR[1] and "otp" in claims["amr"]  # never more than achieved
    request = auth_request(portal, claims=essential(ACR[3]))
    assert 'href="/account/verification"' in client.get(request.url).get_data(as_text=True)


def test_level3_required_with_prompt_none(app, client):
    portal = registered_portal(app)
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    obtain_code(client, portal)
    request = auth_request(portal, claims=essential(ACR[3]), prompt="none")
    # No TOTP yet: setting it up is more than an authentication screen.
    assert redirect_params(client.get(request.url))["error"] == "interaction_required"
    enrol_totp(app, account_id)
    request = auth_request(portal, claims=essential(ACR[3]), prompt="none")
    # TOTP exists: a code would do, which is an authentication screen (§3.1.2.6).
    assert redirect_params(client.get(request.url))["error"] == "login_required"
    assert code_count(app) == 1


# --- the client's minimum -----------------------------------------------------------------------

def test_client_minimum_applies_when_the_portal_asks_nothing(app, client):
    portal = registered_portal(app, min_loa=2)
    account_id = citizen(app)
    sign_in(client)
    request = auth_request(portal)
    page = client.get(request.url).get_data(as_text=True)
    assert 'href="/account/verification"' in page and code_count(app) == 0
    params = redirect_params(client.get(auth_request(portal, prompt="none").url))
    assert params["error"] == "unmet_authentication_requirements"
    # A voluntary or essential level 1 does not lower the minimum.
    assert 'href="/account/verification"' in client.get(
        auth_request(portal, claims=essential(ACR[1]), acr_values="LoA1").url).get_data(as_text=True)
    counter_verified(app, account_id)
    assert flow(client, portal)["acr"] == ACR[2]


def test_client_minimum_of_level3_asks_for_the_second_factor(app, client):
    portal = registered_portal(app, min_loa=3)
    counter_verified(app, citizen(app))
    sign_in(client)
    step_up_next(client.get(auth_request(portal).url))
    assert code_count(app) == 0


# --- never a code below the requirement ---------------------------------------------------------

def test_consent_post_rechecks_the_level(app, client):
    """The identity is revoked while the consent page is open: no code for the old level."""
    portal = registered_portal(app)
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    request = auth_request(portal, claims=essential(ACR[2]))
    page = client.get(request.url).get_data(as_text=True)
    assert 'name="decision"' in page
    with app.app_context():
        db.session.get(Account, account_id).identity_loa = 1
        db.session.commit()
    response = client.post(form_action(page), data={"csrf_token": csrf_token(client, request.url),
                                                    "decision": "allow"})
    assert response.status_code == 200 and 'href="/account/verification"' in response.get_data(as_text=True)
    assert code_count(app) == 0


def test_stored_code_carries_the_achieved_level(app, client):
    portal = registered_portal(app)
    counter_verified(app, citizen(app))
    sign_in(client)
    obtain_code(client, portal, acr_values="LoA3")
    with app.app_context():
        assert db.session.scalar(select(AuthorizationCode.acr)) == ACR[2]


def test_unmet_page_names_the_portal_and_the_second_factor(app, client):
    portal = registered_portal(app, min_loa=3)
    citizen(app)
    sign_in(client)
    page = client.get(auth_request(portal, ui_locales="en").url).get_data(as_text=True)
    assert "Cổng dịch vụ công thử accepts only accounts whose identity was checked" in page
    assert "also asks for two-step verification" in page
    assert "Back to Cổng dịch vụ công thử" in page
    level2 = registered_portal(app, min_loa=2)
    page = client.get(auth_request(level2, ui_locales="en").url).get_data(as_text=True)
    assert "two-step verification" not in page
