"""The demo portal signing in on behalf of an organisation (scope organization, chosen at PostID
every time), and what it shows of the `organization` claim and the dvcqg-profile claims. No
provider runs here (see test_demo_portal.py); a signed-in visitor is a session we write."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.demo_portal import create_demo_portal, display
from idp.oidc.dvcqg import DVCQG_CLAIMS
from tests.demo_portal.test_demo_portal import BASE_URL, ISSUER, METADATA

ORGANIZATION = {"tax_code": "0100233488", "name": "Công ty TNHH Sen Vàng", "role": "admin"}
ID_TOKEN_CLAIMS = {"iss": ISSUER, "sub": "s-123", "aud": "demo-portal", "acr": "urn:vn:postid:loa:1",
                   "amr": ["pwd"], "auth_time": 1767225600, "iat": 1767225600, "exp": 1767226200}


@pytest.fixture
def browser() -> FlaskClient:
    """The portal as mounted at /demo-portal, its provider given by metadata only."""
    app: Flask = create_demo_portal(ISSUER, client_id="demo-portal", client_secret="s" * 40,
                                    secret_key="test-portal-key", base_url=BASE_URL,
                                    metadata=METADATA)
    app.config.update(SERVER_NAME="127.0.0.1:5000", APPLICATION_ROOT="/demo-portal")
    return app.test_client()


def authorize_params(browser: FlaskClient, query: str) -> dict[str, str]:
    response = browser.get("/login" + query)
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == METADATA["authorization_endpoint"]
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def signed_in_as(browser: FlaskClient, userinfo: dict[str, Any], *,
                 asked_organisation: bool = True, claims: dict[str, Any] | None = None) -> str:
    """The English home page of a visitor whose sign-in brought these claims."""
    browser.get("/?lang=en")
    with browser.session_transaction() as session:
        session["signed_in"] = {"id_token": "x.y.z", "claims": {**ID_TOKEN_CLAIMS, **(claims or {})},
                                "userinfo": {"sub": "s-123", **userinfo}, "refresh_token": False,
                                "asked_loa": 1, "asked_organisation": asked_organisation}
    response = browser.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_organisation_button_asks_for_the_scope_and_a_choice_every_time(browser):
    params = authorize_params(browser, "?organisation=1")
    assert params["scope"].split() == ["openid", "profile", "email", "phone", "address", "national_id",
                                       "offline_access", "organization"]
    assert params["prompt"] == "select_account"
    assert "claims" not in params  # level 1, like the plain sign-in
    assert params["code_challenge_method"] == "S256" and params["nonce"] and params["state"]
    with browser.session_transaction() as session:
        assert session["asked_organisation"] is True and session["asked_loa"] == 1


@pytest.mark.parametrize("query", ["", "?organisation=0", "?organisation=yes", "?acr=2",
                                   "?organisation=1x", "?organisation=%E1%BB%B1"])
def test_other_sign_ins_do_not_ask_for_an_organisation(browser, query):
    params = authorize_params(browser, query)
    assert "organization" not in params["scope"].split() and "prompt" not in params


def test_home_offers_the_organisation_button(browser):
    page = browser.get("/?lang=en").get_data(as_text=True)
    assert 'href="/demo-portal/login?organisation=1"' in page
    assert "Sign in on behalf of an organisation" in page


def test_home_shows_whom_the_person_acts_for(browser):
    page = signed_in_as(browser, {"name": "Nguyễn Văn An", "organization": ORGANIZATION},
                        claims={"organization": ORGANIZATION})
    assert 'id="acting-for"' in page
    assert "Acting for Công ty TNHH Sen Vàng (tax code 0100233488) as an administrator" in page
    assert '<dt class="mono">organization</dt>' in page  # and in the generic claim lists


@pytest.mark.parametrize("role, words", [("representative", "as its representative"),
                                         ("member", "as a member"), ("auditor", "as auditor")])
def test_roles_in_words(browser, role, words):
    page = signed_in_as(browser, {"organization": {**ORGANIZATION, "role": role}})
    assert f"(tax code 0100233488) {words}</strong>" in page


def test_organisation_names_are_escaped(browser):
    page = signed_in_as(browser, {"organization": {**ORGANIZATION, "name": "<script>x</script>"}})
    assert "<script>x</script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page


@pytest.mark.parametrize("value", ["0100233488", ["a"], {"tax_code": "0100233488"},
                                   {**ORGANIZATION, "role": 3}, {**ORGANIZATION, "name": ""}])
def test_a_malformed_organization_claim_is_not_taken_for_one(browser, value):
    page = signed_in_as(browser, {"organization": value}, asked_organisation=False)
    assert 'id="acting-for"' not in page and "Acting for" not in page


def test_a_person_who_chose_themself(browser):
    page = signed_in_as(browser, {"name": "Nguyễn Văn An"})
    assert "You chose to act for yourself in this sign-in, not for an organisation." in page
    plain = signed_in_as(browser, {"name": "Nguyễn Văn An"}, asked_organisation=False)
    assert 'id="acting-for"' not in plain


def test_dvcqg_claims_have_their_own_section(browser):
    page = signed_in_as(browser, {"organization": ORGANIZATION, "LoaiTaiKhoan": "2",
                                  "MaSoThue": "0100233488", "HoVaTen": "Nguyễn Văn An"},
                        claims={"loAs": ["LoA1"]})
    assert "National Public Service Portal claims" in page
    section = page.split('id="dvcqg-claims"', 1)[1].split("</div>\n  <h2>", 1)[0]
    names = [line.split(">", 1)[1].split("<", 1)[0] for line in section.splitlines()
             if '<dt class="mono">' in line]
    assert names == ["LoaiTaiKhoan", "loAs", "HoVaTen", "MaSoThue"]  # documented order


def test_no_dvcqg_section_without_dvcqg_claims(browser):
    page = signed_in_as(browser, {"name": "Nguyễn Văn An"})
    assert "National Public Service Portal claims" not in page and 'id="dvcqg-claims"' not in page


def test_the_portal_knows_every_dvcqg_name_the_provider_documents():
    assert set(display.DVCQG_NAMES) == set(DVCQG_CLAIMS)


def test_a_refused_organisation_sign_in_explains_membership(browser):
    browser.get("/?lang=en")
    params = authorize_params(browser, "?organisation=1")
    response = browser.get("/callback", query_string={
        "error": "access_denied", "state": params["state"], "iss": ISSUER})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "PostID did not sign you in on behalf of an organisation" in page
    assert "its representative must add you as a member" in page
    assert "Error code: access_denied" in page
    assert 'href="/demo-portal/login?organisation=1"' in page and 'href="/demo-portal/login"' in page


def test_a_refused_plain_sign_in_keeps_its_own_words(browser):
    browser.get("/?lang=en")
    params = authorize_params(browser, "")
    page = browser.get("/callback", query_string={
        "error": "access_denied", "state": params["state"], "iss": ISSUER}).get_data(as_text=True)
    assert "You did not allow the portal to use your PostID account" in page
    assert "on behalf of an organisation" not in page
