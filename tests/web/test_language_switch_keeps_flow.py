"""The English/Tiếng Việt switch on a page answering a failed form keeps the page and its flow
: it returns to the URL the form was shown at, `next` included."""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.oidc.flow import auth_request, citizen, registered_portal, sign_in
from tests.staff_factories import enrolled_clerk, post_office
from tests.web.register.test_activate import (  # noqa: F401  (fixtures)
    choose_password,
    enter_code,
    office_staff,
    sms_code,
    walk_in,
)

SWITCH_NEXT = re.compile(r'<form class="lang-switch".*?name="next" value="([^"]*)"', re.S)


def switch(client: FlaskClient, page) -> str:  # type: ignore[no-untyped-def]
    """Press the switch shown on `page`; returns where it sends the browser."""
    match = SWITCH_NEXT.search(page.get_data(as_text=True))
    assert match, "no language switch"
    response = client.post("/language", data={"csrf_token": csrf_token(client, "/login"),
                                              "lang": "en", "next": html.unescape(match.group(1))})
    assert response.status_code == 302
    return response.headers["Location"]


def hidden_next(page) -> str:  # type: ignore[no-untyped-def]
    """The sign-in form's own hidden `next` (what the browser sends back)."""
    match = re.search(r'id="next" name="next" type="hidden" value="([^"]*)"', page.get_data(as_text=True))
    assert match
    return html.unescape(match.group(1))


def login_action(page) -> str:  # type: ignore[no-untyped-def]
    match = re.search(r'<form method="post" action="(/login[^"]*)"', page.get_data(as_text=True))
    assert match
    return html.unescape(match.group(1))


def test_portal_sign_in_after_a_wrong_password_keeps_the_portal_request(app: Flask, client):
    citizen(app)
    request = auth_request(registered_portal(app))
    login_url = client.get(request.url).headers["Location"]
    login = client.get(login_url)
    failed = client.post(login_action(login), data={
        "csrf_token": csrf_token(client, login_url), "identifier": "001099012345",
        "password": "not the password", "next": hidden_next(login)})
    assert failed.status_code == 401
    back_to = switch(client, failed)
    assert back_to.startswith("/login?next=/authorize?")
    again = client.get(back_to)
    assert again.status_code == 200 and '<html lang="en">' in again.get_data(as_text=True)
    signed_in = client.post(login_action(again), data={
        "csrf_token": csrf_token(client, back_to), "identifier": "001099012345",
        "password": PASSWORD, "next": hidden_next(again)})
    assert signed_in.status_code == 302
    assert signed_in.headers["Location"].startswith("/authorize?")  # not /account


def test_registration_with_errors_switches_back_to_the_registration_form(client):
    for shown_at in ("/register", "/register?next=%2Fauthorize%3Fclient_id%3Dx"):
        failed = client.post(shown_at, data={"csrf_token": csrf_token(client, shown_at),
                                             "national_id": "12"})
        assert failed.status_code == 400
        back_to = switch(client, failed)
        assert back_to == shown_at
        again = client.get(back_to)
        assert again.status_code == 200 and 'name="national_id"' in again.get_data(as_text=True)


@pytest.mark.usefixtures("walk_in")
def test_activation_password_step_with_errors_switches_back_to_that_step(app, client):
    assert enter_code(client, sms_code(app)).status_code == 303
    failed = choose_password(client, "mây trắng bay qua đồi 42", "something else")
    assert failed.status_code == 400
    back_to = switch(client, failed)
    assert back_to == "/activate/password"
    again = client.get(back_to)
    assert again.status_code == 200 and 'name="password_confirm"' in again.get_data(as_text=True)


def test_counter_sign_in_with_errors_switches_back_to_the_counter_sign_in(app, client):
    with app.app_context():
        enrolled_clerk(post_office())
    failed = client.post("/counter/login", data={"csrf_token": csrf_token(client, "/counter/login"),
                                                 "username": "nobody", "password": "wrong"})
    assert failed.status_code == 401
    back_to = switch(client, failed)
    assert back_to == "/counter/login"
    assert client.get(back_to).status_code == 200


def test_consent_reached_by_a_portals_post_switches_back_to_the_same_request(app: Flask, client):
    """A portal may POST its authorization request (OIDC Core §3.1.2.1): the consent page's
    switch then returns to the GET form of that request, not to a bare /authorize (which
    would answer "no client_id")."""
    citizen(app)
    sign_in(client)
    request = auth_request(registered_portal(app))
    consent = client.post("/authorize", data=request.params)
    assert consent.status_code == 200 and 'name="decision"' in consent.get_data(as_text=True)
    back_to = switch(client, consent)
    assert urlsplit(back_to).path == "/authorize"
    assert parse_qs(urlsplit(back_to).query) == {k: [v] for k, v in request.params.items()}
    again = client.get(back_to)
    text = again.get_data(as_text=True)
    assert again.status_code == 200 and '<html lang="en">' in text and 'name="decision"' in text


def test_a_long_posted_request_still_switches_back_to_itself(app: Flask, client):
    """Portals POST exactly the long requests (an id_token_hint, claims): the switch's way
    back must not fall back to the start page for a request of up to the accepted size."""
    citizen(app)
    sign_in(client)
    request = auth_request(registered_portal(app), login_hint="x" * 2500)
    consent = client.post("/authorize", data=request.params)
    assert consent.status_code == 200 and 'name="decision"' in consent.get_data(as_text=True)
    back_to = switch(client, consent)
    assert len(back_to) > 2500 and urlsplit(back_to).path == "/authorize"
    again = client.get(back_to)
    assert again.status_code == 200 and 'name="decision"' in again.get_data(as_text=True)


def test_an_authorization_request_too_long_in_all_is_refused_to_the_portal(app: Flask, client):
    """Each parameter may be 4096 characters, but the request travels on through PostID's
    own pages (the consent form's action): over 4096 in all, the portal gets invalid_request
    instead of a 414 when the person presses Allow."""
    citizen(app)
    sign_in(client)
    request = auth_request(registered_portal(app), extra_one="a" * 3000, extra_two="b" * 3000)
    response = client.get("/authorize", query_string=request.params)
    assert response.status_code == 302
    answer = parse_qs(urlsplit(response.headers["Location"]).query)
    assert answer["error"] == ["invalid_request"] and answer["state"] == [request.params["state"]]


def test_a_long_request_resumes_whole_after_the_two_step_sign_in(app: Flask, client):
    """The pending two-step sign-in keeps the request as its `next`: a 2048-wide column cut a
    long request short (and PostgreSQL refused it)."""
    from tests.oidc.assurance import enrol_totp, totp_code

    account_id = citizen(app)
    enrol_totp(app, account_id)
    request = auth_request(registered_portal(app), login_hint="x" * 2500)
    login = client.get("/authorize", query_string=request.params)
    assert login.status_code == 302
    next_url = parse_qs(urlsplit(login.headers["Location"]).query)["next"][0]
    assert len(next_url) > 2500
    response = client.post("/login", query_string={"next": next_url},
                           data={"csrf_token": csrf_token(client), "identifier": "001099012345",
                                 "password": PASSWORD, "next": next_url})
    assert response.headers["Location"] == "/login/verify"
    response = client.post("/login/verify", data={"csrf_token": csrf_token(client, "/login/verify"),
                                                  "code": totp_code(app, account_id)})
    assert response.status_code == 302 and response.headers["Location"] == next_url
