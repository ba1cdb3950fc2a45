"""After a failed submit every form page opens with an error summary (GOV.UK pattern): one
role="alert" box titled "There is a problem", focused by a static script (the CSP forbids
inline ones), linking to each field in error by its id; nothing of it on a clean GET."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from idp.extensions import db
from idp.models import PostOffice
from tests.conftest import csrf_token
from tests.counter.helpers import console_client
from tests.factories import PASSWORD, active_citizen
from tests.staff_factories import STAFF_PASSWORD, enrolled_clerk, new_clerk, post_office

SUMMARY_RE = re.compile(r'<div class="error-summary" id="error-summary" role="alert" tabindex="-1"'
                        r'.*?</div>', re.S)
SCRIPT = '<script src="/static/js/error-summary.js" defer></script>'
TITLE = {"vi": "Có lỗi cần sửa", "en": "There is a problem"}


@pytest.fixture
def office(app: Flask) -> int:
    with app.app_context():
        return post_office().id


def browser(app: Flask, lang: str) -> FlaskClient:
    client = app.test_client()
    client.set_cookie("postid_lang", lang)
    return client


def summary(body: str) -> tuple[str, list[str], list[str]]:
    """The summary's title, its link targets (each an id present on the page) and items."""
    match = SUMMARY_RE.search(body)
    assert match, "no error summary"
    box = match.group(0)
    assert body.index("error-summary") < body.index("<h1"), "the summary is not at the top"
    assert SCRIPT in body
    title = re.search(r'<h2 class="error-summary-title" id="error-summary-title">(.*?)</h2>', box).group(1)
    targets = re.findall(r'<a href="#([^"]+)">', box)
    for target in targets:
        assert re.search(rf'<(input|select|textarea)[^>]* id="{re.escape(target)}"', body), target
    items = [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", box, re.S)]
    return title, targets, items


def no_summary(body: str) -> None:
    assert "error-summary" not in body and "error-summary.js" not in body


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_register_lists_every_field_in_error(app, lang):
    client = browser(app, lang)
    no_summary(client.get("/register").get_data(as_text=True))
    response = client.post("/register", data={"csrf_token": csrf_token(client, "/register"),
                                              "national_id": "12", "phone": "0983456789"})
    assert response.status_code == 400
    title, targets, items = summary(response.get_data(as_text=True))
    assert title == TITLE[lang]
    assert {"national_id", "full_name", "birthdate", "password", "accept_terms"} <= set(targets)
    assert "phone" not in targets and "csrf_token" not in targets
    assert len(items) == len(targets)


def test_a_form_level_message_is_listed_once_without_a_link(app):
    with app.app_context():
        active_citizen()
    client = browser(app, "en")
    response = client.post("/recover", data={"csrf_token": csrf_token(client, "/recover"),
                                              "identifier": ""})
    assert response.status_code == 400
    _, targets, _ = summary(response.get_data(as_text=True))
    assert targets == ["identifier"]


def test_counter_sign_in_wrong_password_is_in_the_summary_once(app, office):
    with app.app_context():
        enrolled_clerk(db.session.get(PostOffice, office))
    client = browser(app, "en")
    no_summary(client.get("/counter/login").get_data(as_text=True))
    response = client.post("/counter/login", data={
        "csrf_token": csrf_token(client, "/counter/login"), "username": "clerk-hn-boho",
        "password": "not the password"})
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    _, targets, items = summary(body)
    assert targets == [] and items == ["The username or password is not right. Please try again."]
    assert body.count("The username or password is not right.") == 1  # not again under the title
    empty = client.post("/counter/login", data={"csrf_token": csrf_token(client, "/counter/login")})
    assert summary(empty.get_data(as_text=True))[1] == ["username", "password"]


def test_counter_set_up_code_and_check_forms(app, office):
    with app.app_context():
        new_clerk(db.session.get(PostOffice, office))
    client = browser(app, "vi")
    client.post("/counter/login", data={"csrf_token": csrf_token(client, "/counter/login"),
                                        "username": "clerk-hn-boho", "password": STAFF_PASSWORD})
    no_summary(client.get("/counter/mfa/enrol").get_data(as_text=True))
    wrong = client.post("/counter/mfa/enrol", data={
        "csrf_token": csrf_token(client, "/counter/mfa/enrol"), "code": "NOPE"})
    assert wrong.status_code == 401
    title, targets, _ = summary(wrong.get_data(as_text=True))
    assert (title, targets) == (TITLE["vi"], ["code"])


def test_counter_walk_in_registration(app, office):
    with app.app_context():
        clerk_id = enrolled_clerk(db.session.get(PostOffice, office)).id
    client = console_client(app, clerk_id)
    client.set_cookie("postid_lang", "en")
    no_summary(client.get("/counter/register").get_data(as_text=True))
    response = client.post("/counter/register", data={
        "csrf_token": csrf_token(client, "/counter/register")})
    assert response.status_code == 400
    _, targets, _ = summary(response.get_data(as_text=True))
    assert "national_id" in targets and "full_name" in targets


def test_account_password_change(app):
    with app.app_context():
        active_citizen()
    client = browser(app, "en")
    client.post("/login", data={"csrf_token": csrf_token(client, "/login"),
                                "identifier": "001099012345", "password": PASSWORD})
    no_summary(client.get("/account/password").get_data(as_text=True))
    response = client.post("/account/password", data={
        "csrf_token": csrf_token(client, "/account/password"), "current_password": PASSWORD,
        "new_password": "", "confirm_password": "other"})
    assert response.status_code == 400
    _, targets, _ = summary(response.get_data(as_text=True))
    assert "new_password" in targets


def test_the_script_is_a_static_file_allowed_by_the_csp(app):
    client = browser(app, "en")
    with client.get("/static/js/error-summary.js") as script:
        assert script.status_code == 200
        assert 'getElementById("error-summary")' in script.get_data(as_text=True)
    page = client.post("/register", data={"csrf_token": csrf_token(client, "/register")})
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert re.findall(r"<script(?![^>]*\bsrc=)", page.get_data(as_text=True)) == []
