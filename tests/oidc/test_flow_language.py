"""The language of a sign-in flow holds on every page of it : the portal's
`ui_locales`, or the person's own switch made during the flow, which wins; it ends when the
answer goes back to the portal."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, gettext
from markupsafe import escape

from idp.extensions import db
from idp.models import Account
from idp.services.platform import totp
from tests.conftest import csrf_token
from tests.factories import PASSWORD, second_citizen
from tests.oidc.assurance import (
    counter_verified,
    enrol_totp,
    essential,
    form_action,
    totp_code,
)
from tests.oidc.flow import auth_request, citizen, redirect_params, registered_portal, sign_in
from tests.organisation_factories import verified_organisation

HTML_LANG = re.compile(r'<html lang="(\w+)">')
# One sentence of each page (English msgid): the page is really translated, not only tagged.
SAYS = {
    "login": "Sign in to PostID",
    "verify": "Open your authenticator app and enter the 6-digit code for PostID.",
    "wrong_code": totp.WRONG_CODE,
    "consent": "If you allow, this portal will receive:",
    "security": "Set it up now; the code that turns it on also confirms this sign-in, and you continue to the portal.",
    "enrol": "2. Enter the code the app shows",
    "codes": "Save these recovery codes now. They are shown only once.",
    "step_up": "Confirm with your authenticator app",
    "unmet": "How to get verified",
    "choose": "Who are you acting as?",
    "no_org": "You do not act for any organisation yet",
    "not_found": "Page not found",
}


def says(app: Flask, kind: str, lang: str) -> str:
    """The sentence as the page shows it in `lang` (the catalogue's translation, escaped)."""
    with app.test_request_context(), force_locale(lang):
        return str(escape(gettext(SAYS[kind])))


def page(app: Flask, response, kind: str, lang: str) -> str:  # type: ignore[no-untyped-def]
    """The page's text, after checking that it speaks `lang` as a whole."""
    body = response.get_data(as_text=True)
    assert HTML_LANG.search(body).group(1) == lang, (kind, response.request.path)
    assert says(app, kind, lang) in body, (kind, lang)
    return body


def follow(client: FlaskClient, response):  # type: ignore[no-untyped-def]
    return client.get(response.headers["Location"])


def password_step(client: FlaskClient, login, identifier: str = "001099012345"):  # type: ignore[no-untyped-def]
    """Post the sign-in form of the login page `login` (a response)."""
    token = csrf_token(client, login.request.full_path)
    nxt = parse_qs(urlsplit(login.request.full_path).query)["next"][0]
    return client.post("/login", data={"csrf_token": token, "identifier": identifier,
                                       "password": PASSWORD, "next": nxt})


def ui(lang: str) -> dict[str, str]:
    return {"ui_locales": "en"} if lang == "en" else {}  # Vietnamese: the default, nothing asked


@pytest.fixture(params=["en", "vi"])
def lang(request) -> str:  # type: ignore[no-untyped-def]
    return request.param


def test_sign_in_with_totp_and_consent(app, client, lang):
    portal = registered_portal(app)
    account_id = citizen(app)
    enrol_totp(app, account_id)
    request = auth_request(portal, **ui(lang))
    login = follow(client, client.get(request.url))
    page(app, login, "login", lang)
    verify = follow(client, password_step(client, login))
    assert verify.request.path == "/login/verify"
    page(app, verify, "verify", lang)
    token = csrf_token(client, "/login/verify")
    page(app, client.post("/login/verify", data={"csrf_token": token, "code": "000000"}), "wrong_code", lang)
    done = client.post("/login/verify", data={"csrf_token": token, "code": totp_code(app, account_id)})
    consent = follow(client, done)
    body = page(app, consent, "consent", lang)
    page(app, client.get("/no-such-page"), "not_found", lang)  # an error page in the middle of the flow
    params = redirect_params(client.post(form_action(body), data={
        "csrf_token": csrf_token(client, consent.request.full_path), "decision": "allow"}))
    assert "code" in params
    # Back at the portal, the flow's language ends: PostID's own pages are Vietnamese again.
    page(app, client.get("/login?x=1"), "login", "vi")


def test_two_step_set_up_in_the_middle_of_a_sign_in(app, client, lang):
    portal = registered_portal(app)
    account_id = citizen(app)
    counter_verified(app, account_id)
    request = auth_request(portal, claims=essential("urn:vn:postid:loa:3"), **ui(lang))
    login = follow(client, client.get(request.url))
    page(app, login, "login", lang)
    step_up = follow(client, password_step(client, login))
    security = follow(client, follow(client, step_up) if step_up.status_code == 302 else step_up)
    body = page(app, security, "security", lang)
    setup = html.unescape(re.search(r'action="(/account/security/totp/setup[^"]*)"', body).group(1))
    enrol = follow(client, client.post(setup, data={"csrf_token": csrf_token(client, security.request.full_path)}))
    page(app, enrol, "enrol", lang)
    enrol_url = enrol.request.full_path
    page(app, client.post(enrol_url, data={"csrf_token": csrf_token(client, enrol_url), "code": "x"}),
         "wrong_code", lang)
    codes = client.post(enrol_url, data={"csrf_token": csrf_token(client, enrol_url),
                                         "code": totp_code(app, account_id)})
    body = page(app, codes, "codes", lang)
    onward = html.unescape(re.search(r'href="(/authorize\?[^"]*)"', body).group(1))
    page(app, client.get(onward), "consent", lang)


def test_step_up_page(app, client, lang):
    portal = registered_portal(app)
    account_id = citizen(app)
    counter_verified(app, account_id)
    sign_in(client)
    enrol_totp(app, account_id)
    response = client.get(auth_request(portal, claims=essential("urn:vn:postid:loa:3"), **ui(lang)).url)
    page(app, follow(client, response), "step_up", lang)


def test_unmet_page(app, client, lang):
    portal = registered_portal(app)
    citizen(app)
    request = auth_request(portal, claims=essential("urn:vn:postid:loa:2"), **ui(lang))
    login = follow(client, client.get(request.url))
    unmet = follow(client, password_step(client, login))
    page(app, unmet, "unmet", lang)


def test_organisation_choice_and_no_organisation(app, client, lang):
    portal = registered_portal(app, scope="openid profile organization")
    with app.app_context():
        representative = db.session.get(Account, citizen(app))
        representative.identity_loa = 2
        verified_organisation(representative)
        loner = second_citizen()
        db.session.commit()
        loner_id = loner.national_id
    scope = {"scope": "openid organization"}
    login = follow(client, client.get(auth_request(portal, **scope, **ui(lang)).url))
    page(app, follow(client, password_step(client, login)), "choose", lang)

    other = app.test_client()
    login = follow(other, other.get(auth_request(portal, **scope, **ui(lang)).url))
    page(app, follow(other, password_step(other, login, identifier=loner_id)), "no_org", lang)


def test_the_persons_switch_wins_over_the_portal_and_holds(app, client):
    portal = registered_portal(app)
    account_id = citizen(app)
    enrol_totp(app, account_id)
    request = auth_request(portal, ui_locales="en")
    login = follow(client, client.get(request.url))
    page(app, login, "login", "en")
    # On the sign-in page the person switches to Vietnamese; the page's URL still says en.
    switched = client.post("/language", data={"csrf_token": csrf_token(client, login.request.full_path),
                                              "lang": "vi", "next": login.request.full_path})
    assert "ui_locales=en" in switched.headers["Location"]
    login = follow(client, switched)
    page(app, login, "login", "vi")
    verify = follow(client, password_step(client, login))
    page(app, verify, "verify", "vi")
    done = client.post("/login/verify", data={"csrf_token": csrf_token(client, "/login/verify"),
                                              "code": totp_code(app, account_id)})
    consent = follow(client, done)
    assert "ui_locales=en" in consent.request.full_path
    page(app, consent, "consent", "vi")
    # And back to English on the consent page, which then holds too.
    url = consent.request.full_path
    client.post("/language", data={"csrf_token": csrf_token(client, url), "lang": "en", "next": url})
    page(app, client.get(url), "consent", "en")
    page(app, client.get("/no-such-page"), "not_found", "en")

    # A new request from a portal asking for Vietnamese starts afresh with its own choice.
    fresh = auth_request(portal, ui_locales="vi")
    page(app, client.get(fresh.url), "consent", "vi")


@pytest.mark.parametrize("path", ["/authorize", "/authorize/consent", "/authorize/no-second-factor"])
def test_an_oversized_body_on_the_authorization_endpoints_is_413_not_500(app: Flask, path: str):
    # The error page picks its language from the flow too: it must not parse the body again.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    portal = registered_portal(app)
    query = auth_request(portal, ui_locales="en").params
    response = app.test_client().post(path, query_string=query, data={"junk": "x" * 70_000})
    assert response.status_code == 413


def test_a_switch_outside_a_flow_does_not_hold_back_a_later_portal_language(app: Flask):
    client = app.test_client()
    client.post("/language", data={"csrf_token": csrf_token(client, "/login"), "lang": "vi"})
    assert client.get_cookie("postid_flow_lang") is None
    assert 'lang="en"' in client.get("/login?ui_locales=en").get_data(as_text=True)
