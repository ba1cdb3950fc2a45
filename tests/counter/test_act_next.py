"""The console sign-in comes back to the console page it was asked for (`next`), through every
step, and never anywhere else: another site, the citizens' side, the API, or a path that
climbs out of /counter all lead to the console's start page."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from flask import Flask

from tests.conftest import csrf_token
from tests.counter.staff_signin import CLERK, code_at, make_staff
from tests.counter.test_act_flow import counter_sign_in
from tests.staff_factories import STAFF_PASSWORD, enrolled_clerk

BACK = "/counter/act?next=%2Fauthorize%3Fclient_id%3Dabc"


@pytest.fixture
def clerk(app: Flask, office: int) -> int:
    return make_staff(app, enrolled_clerk, office)


def login_url(next_url: str) -> str:
    return "/counter/login?" + urlencode({"next": next_url})


def step_and_next(location: str) -> tuple[str, list[str]]:
    parts = urlsplit(location)
    return parts.path, parse_qs(parts.query).get("next", [])


def test_a_console_page_asked_for_is_opened_after_password_and_code(app: Flask, clerk: int) -> None:
    browser = app.test_client()
    assert counter_sign_in(browser, login_url(BACK)) == BACK


def test_the_guard_sends_only_the_act_page_round_the_sign_in(app: Flask, clerk: int) -> None:
    browser = app.test_client()
    response = browser.get(BACK)
    assert step_and_next(response.headers["Location"]) == ("/counter/login", [BACK])
    assert browser.get("/counter/").headers["Location"] == "/counter/login"
    # Half signed in (password only): the code step keeps the page too.
    token = csrf_token(browser, login_url(BACK))
    browser.post("/counter/login", data={"csrf_token": token, "username": CLERK,
                                         "password": STAFF_PASSWORD})
    assert step_and_next(browser.get(BACK).headers["Location"]) == ("/counter/mfa", [BACK])


def test_signed_in_already_the_sign_in_page_goes_to_the_page_asked_for(
        app: Flask, clerk: int) -> None:
    browser = app.test_client()
    counter_sign_in(browser, login_url(BACK))
    assert browser.get(login_url(BACK)).headers["Location"] == BACK
    assert browser.get(login_url("https://evil.example/")).headers["Location"] == "/counter/"


@pytest.mark.parametrize("hostile", [
    "https://evil.example/counter/act", "//evil.example/counter/act", "/\\evil.example",
    "/counter/../account", "/counter/%2e%2e/account", "/counter/./act/../../login",
    "/account", "/authorize?client_id=abc", "/counter/api/session", "/counterfeit",
    "javascript:alert(1)", "/counter/act\r\nSet-Cookie: x=1", "", " /counter/act",
])
def test_a_hostile_next_leads_to_the_console_start_page(
        app: Flask, clerk: int, hostile: str) -> None:
    browser = app.test_client()
    url = login_url(hostile)
    token = csrf_token(browser, url)
    response = browser.post(url, data={"csrf_token": token, "username": CLERK,
                                       "password": STAFF_PASSWORD})
    assert response.headers["Location"] == "/counter/mfa"  # the hostile value is dropped
    response = browser.post("/counter/mfa?" + urlencode({"next": hostile}), data={
        "csrf_token": csrf_token(browser, "/counter/mfa"), "code": code_at()})
    assert response.status_code == 302 and response.headers["Location"] == "/counter/"
