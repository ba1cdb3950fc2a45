"""The page after a password reset tells only an account with an authenticator app that the app
is still asked at sign-in; the code page, before anything is verified, says nothing of it."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from tests.oidc.assurance import enrol_totp
from tests.web.recovery.test_recovery import (
    english,
    latest_code,
    latest_link,
    start,
    submit_code,
    submit_link,
    verified_citizen,
)

APP_ASKED = "Your authenticator app is still asked at sign-in."


def test_the_code_page_does_not_mention_the_app(app: Flask) -> None:
    client = english(app)
    verified_citizen(app)
    start(client)
    page = client.get("/recover/code")
    assert page.status_code == 200 and APP_ASKED not in page.get_data(as_text=True)


def test_without_an_app_the_done_page_does_not_mention_it(app: Flask) -> None:
    client: FlaskClient = english(app)
    verified_citizen(app)
    start(client)
    done = submit_code(client, latest_code(app))
    assert done.status_code == 200
    text = done.get_data(as_text=True)
    assert "Password changed" in text and APP_ASKED not in text


def test_with_an_app_the_done_page_says_it_is_still_asked(app: Flask) -> None:
    client = english(app)
    account_id = verified_citizen(app)
    enrol_totp(app, account_id)
    start(client)
    done = submit_code(client, latest_code(app))
    assert done.status_code == 200 and APP_ASKED in done.get_data(as_text=True)


def test_the_link_path_follows_the_same_rule(app: Flask) -> None:
    client = english(app)
    account_id = verified_citizen(app)
    start(client)
    done = submit_link(client, latest_link(app))
    assert done.status_code == 200 and APP_ASKED not in done.get_data(as_text=True)
    enrol_totp(app, account_id)
    start(client)
    done = submit_link(client, latest_link(app), "another fine password 7")
    assert done.status_code == 200 and APP_ASKED in done.get_data(as_text=True)
