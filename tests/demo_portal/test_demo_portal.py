"""The demo portal on its own (Flask's test client): pages, the authorization request it makes,
and how it refuses what it did not ask for. No provider runs here: its metadata is given
directly and its endpoints point at a closed port, so any unexpected call fails loudly."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.demo_portal import create_demo_portal

ISSUER = "http://127.0.0.1:9"  # the discard port: nothing answers there
BASE_URL = "http://127.0.0.1:5000/demo-portal"
METADATA = {
    "issuer": ISSUER,
    "authorization_endpoint": ISSUER + "/authorize",
    "token_endpoint": ISSUER + "/token",
    "userinfo_endpoint": ISSUER + "/userinfo",
    "jwks_uri": ISSUER + "/jwks.json",
    "end_session_endpoint": ISSUER + "/session/end",
    "id_token_signing_alg_values_supported": ["RS256", "ES256"],
}


@pytest.fixture
def portal() -> Flask:
    app = create_demo_portal(ISSUER, client_id="demo-portal", client_secret="s" * 40,
                             secret_key="test-portal-key", base_url=BASE_URL, metadata=METADATA)
    # The test client then browses http://127.0.0.1:5000/demo-portal/..., as when mounted.
    app.config.update(SERVER_NAME="127.0.0.1:5000", APPLICATION_ROOT="/demo-portal")
    return app


@pytest.fixture
def browser(portal: Flask) -> FlaskClient:
    return portal.test_client()


def start_sign_in(browser: FlaskClient) -> dict[str, str]:
    response = browser.get("/login")
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == METADATA["authorization_endpoint"]
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_home_is_vietnamese_by_default(browser):
    page = browser.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Đăng nhập bằng PostID" in page
    assert "Cổng mẫu — không phải dịch vụ thật" in page
    assert 'href="/demo-portal/static/css/site.css"' in page


def test_home_in_english_and_the_choice_is_remembered(browser):
    page = browser.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Sign in with PostID" in page
    assert "Demo portal — not a real service" in page
    assert '<html lang="en">' in browser.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in browser.get("/?lang=vi").get_data(as_text=True)


def test_own_session_cookie_scoped_to_the_portal(browser):
    response = browser.get("/?lang=en")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("postid_demo_portal=")
    assert "Path=/demo-portal" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_another_host_is_sent_to_the_registered_one(browser):
    response = browser.get("/?lang=en", base_url="http://localhost:5000/demo-portal")
    assert response.status_code == 302
    assert response.headers["Location"] == BASE_URL + "/?lang=en"


def test_sign_in_redirects_to_the_provider_with_pkce_nonce_and_state(browser):
    params = start_sign_in(browser)
    assert params["response_type"] == "code"
    assert params["client_id"] == "demo-portal"
    assert params["redirect_uri"] == BASE_URL + "/callback"
    assert params["scope"].split() == ["openid", "profile", "email", "phone", "address",
                                       "national_id", "offline_access"]
    assert "claims" not in params and "acr_values" not in params  # plain sign-in: any level
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43  # base64url SHA-256, never the verifier itself
    assert len(params["nonce"]) >= 16 and len(params["state"]) >= 16
    assert params["ui_locales"] == "vi"
    assert start_sign_in(browser)["state"] != params["state"]


def test_provider_error_is_a_friendly_page(browser):
    params = start_sign_in(browser)
    response = browser.get(f"/callback?error=access_denied&state={params['state']}&iss={ISSUER}")
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Bạn đã không cho phép cổng này dùng tài khoản PostID của bạn" in page
    assert "access_denied" in page


@pytest.mark.parametrize("error", ["unmet_authentication_requirements", "server_error", "<b>x</b>"])
def test_any_provider_error_code_is_shown_without_a_500(browser, error):
    browser.get("/?lang=en")
    response = browser.get("/callback", query_string={"error": error, "state": "whatever"})
    assert response.status_code == 400
    assert "<b>x</b>" not in response.get_data(as_text=True)  # escaped, like everything else


def test_forged_state_is_refused_before_any_token_request(browser):
    start_sign_in(browser)
    response = browser.get("/callback?code=stolen-code&state=forged-state")
    # Refused here (400): a token request would have failed on the closed port (502) instead.
    assert response.status_code == 400
    assert "Phản hồi đăng nhập này không được chờ đợi" in response.get_data(as_text=True)
    assert browser.get("/callback?code=stolen-code").status_code == 400  # no state at all


def test_response_from_another_issuer_is_refused(browser):
    params = start_sign_in(browser)
    response = browser.get(f"/callback?code=c&state={params['state']}&iss=https://evil.example")
    assert response.status_code == 400


def test_provider_down_is_a_friendly_page(browser):
    params = start_sign_in(browser)
    response = browser.get(f"/callback?code=c&state={params['state']}&iss={ISSUER}")
    assert response.status_code == 502
    assert "Mã lỗi: provider" in response.get_data(as_text=True)


def test_sign_out_needs_the_form_token(browser):
    response = browser.post("/logout", data={"csrf_token": "guess"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn" in response.get_data(as_text=True)


def test_unknown_sign_out_state_is_not_taken_for_a_sign_out(browser):
    page = browser.get("/?state=forged&lang=en").get_data(as_text=True)
    assert "did not match a sign-out started here" in page
    assert "You have signed out" not in page


def test_pages_are_not_cached_nor_framed(browser):
    headers = browser.get("/").headers
    assert headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("level", [2, 3])
def test_sign_in_at_a_level_asks_for_an_essential_acr(browser, level):
    response = browser.get(f"/login?acr={level}")
    params = {k: v[0] for k, v in parse_qs(urlsplit(response.headers["Location"]).query).items()}
    assert json.loads(params["claims"]) == {
        "id_token": {"acr": {"essential": True, "values": [f"urn:vn:postid:loa:{level}"]}}}
    assert params["code_challenge_method"] == "S256" and params["state"]


@pytest.mark.parametrize("value", ["1", "4", "LoA2", "", "<x>"])
def test_other_levels_are_a_plain_sign_in(browser, value):
    response = browser.get("/login", query_string={"acr": value})
    assert response.status_code == 302
    assert "claims" not in parse_qs(urlsplit(response.headers["Location"]).query)


def test_home_offers_the_three_ways_to_sign_in(browser):
    page = browser.get("/?lang=en").get_data(as_text=True)
    assert 'href="/demo-portal/login"' in page
    assert 'href="/demo-portal/login?acr=2"' in page and "(LoA2)" in page
    assert 'href="/demo-portal/login?acr=3"' in page and "(LoA3)" in page


def test_unmet_requirements_are_explained_in_plain_words(browser):
    browser.get("/?lang=en")
    params = {k: v[0] for k, v in parse_qs(urlsplit(
        browser.get("/login?acr=2").headers["Location"]).query).items()}
    response = browser.get("/callback", query_string={
        "error": "unmet_authentication_requirements", "state": params["state"], "iss": ISSUER})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "does not have the level this portal asked for" in page
    assert "checked in person at a post office" in page
    assert 'href="/demo-portal/login"' in page  # try again without a level requirement
