"""Console sign-in with bad input: refused with 400/401, no session stored, never a 500."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import StaffSession
from idp.services.staff.sessions import COOKIE_NAME
from tests.conftest import csrf_token
from tests.counter.test_staff_auth import CLERK, code_step, live_sessions, make, password_step
from tests.staff_factories import STAFF_PASSWORD, enrolled_clerk, post_office


@pytest.fixture
def office(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return post_office().id


@pytest.mark.parametrize("data", [
    {}, {"username": CLERK}, {"password": STAFF_PASSWORD},
    {"username": "x" * 65, "password": STAFF_PASSWORD},
    {"username": CLERK, "password": "p" * 1025},
    {"username": "clerk\x00", "password": STAFF_PASSWORD},
    {"username": "ｃｌｅｒｋ-ｈｎ-ｂｏｈｏ", "password": STAFF_PASSWORD},
    {"username": "\u202eclerk", "password": "\u0000" * 8},
    {"username": ["a", "b"], "password": ""},
])
def test_bad_login_input_is_refused_without_a_session(app, office, data):
    make(app, enrolled_clerk, office)
    client = app.test_client()
    response = client.post("/counter/login", data={"csrf_token": csrf_token(client, "/counter/login"),
                                                   **data})
    assert response.status_code in (400, 401)
    assert client.get_cookie(COOKIE_NAME, path="/counter") is None
    assert live_sessions(app) == []


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "x" * 33, "１２３４５６",
                                  "\x00" * 6, "12 34 56", "-1"])
def test_bad_codes_are_refused(app, office, code):
    make(app, enrolled_clerk, office)
    client = app.test_client()
    password_step(client)
    response = code_step(client, code)
    assert response.status_code in (400, 401)
    assert live_sessions(app)[0].mfa_verified_at is None


def test_login_body_that_is_not_utf8_is_refused(app, office):
    make(app, enrolled_clerk, office)
    client = app.test_client()
    token = csrf_token(client, "/counter/login")
    response = client.post("/counter/login", data=f"csrf_token={token}&username=%FF%FE&password=%C3",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code in (400, 401)
    assert live_sessions(app) == []


def test_login_without_csrf_is_refused(app, office):
    make(app, enrolled_clerk, office)
    no_csrf = {"username": CLERK, "password": STAFF_PASSWORD}
    assert app.test_client().post("/counter/login", data=no_csrf).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StaffSession)) == 0
