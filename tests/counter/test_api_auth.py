"""Counter terminal sign-in API: bearer sessions, one generic failure, throttling, the guard,
and malformed requests that get 400 invalid_request, never a 500."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask, jsonify
from sqlalchemy import func, select, update

from idp.extensions import db
from idp.models import AuditEvent, StaffSession
from idp.models.base import utcnow
from idp.services.platform import throttle
from idp.services.staff import admin as staff_service
from idp.services.staff import signin
from idp.services.staff.sessions import COOKIE_NAME
from idp.web.counter.guard import current_staff, require_supervisor
from tests.conftest import csrf_token
from tests.counter.helpers import api_headers, console_client
from tests.counter.staff_signin import CLERK, code_at
from tests.counter.staff_signin import make_staff as make
from tests.staff_factories import (
    STAFF_PASSWORD,
    enrolled_clerk,
    enrolled_supervisor,
    new_clerk,
)

URL = "/counter/api/sessions"


def body(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {"username": CLERK, "password": STAFF_PASSWORD, "totp": code_at()}
    values.update(overrides)
    return values


def sessions(app: Flask, *where) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(StaffSession).where(*where))


def audit_tags(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def assert_unauthorized(response, error: str = "unauthorized") -> None:
    assert response.status_code == 401
    assert response.json["error"] == error and response.json["message"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_sign_in_me_and_sign_out(app, client, office):
    staff_id = make(app, enrolled_clerk, office)
    response = client.post(URL, json=body())
    assert response.status_code == 201
    data = response.json
    assert data["idle_timeout_seconds"] == 15 * 60
    assert data["absolute_timeout_seconds"] == 9 * 3600
    assert data["staff"] == {"username": CLERK, "role": "clerk",
                             "office": {"code": "HN-BOHO", "name": "Bưu điện Bờ Hồ"}}
    assert response.headers["Cache-Control"] == "no-store"
    headers = {"Authorization": f"Bearer {data['token']}"}
    me = client.get("/counter/api/me", headers=headers)
    assert me.status_code == 200 and me.json == {"staff": data["staff"]}
    assert sessions(app, StaffSession.channel == "api", StaffSession.mfa_verified_at.is_not(None)) == 1
    # No CSRF token and no cookie: a bearer token is the whole credential.
    assert client.delete("/counter/api/sessions/current", headers=headers).status_code == 204
    assert_unauthorized(client.get("/counter/api/me", headers=headers))
    assert audit_tags(app) == ["staff.login.success", "staff.logout"]
    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
        assert {(e.staff_id, e.office_id, e.channel) for e in events} == {(staff_id, office, "api")}


def test_staff_without_totp_must_enrol_in_the_console_first(app, client, office):
    make(app, new_clerk, office)
    response = client.post(URL, json=body(totp="123456"))
    assert response.status_code == 403 and response.json["error"] == "totp_enrolment_required"
    # Only once the password is right: otherwise the usual answer.
    assert_unauthorized(client.post(URL, json=body(password="wrong password 1")),
                        "invalid_credentials")
    assert sessions(app) == 0


def test_one_answer_for_every_wrong_credential(app, client, office):
    make(app, enrolled_clerk, office)
    make(app, enrolled_supervisor, office)
    with app.app_context():
        staff_service.disable_staff("supervisor-hn-boho")
    answers = []
    for wrong in (body(username="nobody-here"), body(password="wrong password 1"),
                  body(totp="000000"), body(username="supervisor-hn-boho")):
        response = client.post(URL, json=wrong)
        assert_unauthorized(response, "invalid_credentials")
        answers.append(response.get_data())
    assert len(set(answers)) == 1
    assert sessions(app) == 0
    assert "staff.mfa.failure" in audit_tags(app)


def test_a_code_is_accepted_once(app, client, office):
    make(app, enrolled_clerk, office)
    code = code_at()
    assert client.post(URL, json=body(totp=code)).status_code == 201
    assert_unauthorized(client.post(URL, json=body(totp=code)), "invalid_credentials")
    assert client.post(URL, json=body(totp=code_at(1))).status_code == 201


def test_throttled_after_the_free_failures(app, client, settings, office):
    make(app, enrolled_clerk, office)
    for _ in range(settings.login_free_failures + 1):
        assert client.post(URL, json=body(password="wrong password 1")).status_code == 401
    response = client.post(URL, json=body())
    assert response.status_code == 429 and response.json["error"] == "throttled"
    assert int(response.headers["Retry-After"]) >= 1
    assert sessions(app) == 0


def test_code_guesses_count_across_channels(app, client, settings, office):
    """A right password on the console must not buy more code guesses on the API."""
    make(app, enrolled_clerk, office)
    for _ in range(settings.login_free_failures + 1):
        client.post(URL, json=body(totp="000000"))
    with app.app_context():  # the password count has cooled down; the code count has not
        throttle.succeeded(throttle.Attempt(signin.login_key(CLERK)))
    browser = app.test_client()
    browser.post("/counter/login", data={"csrf_token": csrf_token(browser, "/counter/login"),
                                         "username": CLERK, "password": STAFF_PASSWORD})
    assert browser.get("/counter/mfa").status_code == 200
    response = browser.post("/counter/mfa", data={"csrf_token": csrf_token(browser, "/login"),
                                                  "code": code_at()})
    assert response.status_code == 429


# --- the guard -----------------------------------------------------------------------------

@pytest.mark.parametrize("authorization", [None, "", "Bearer", "Bearer ", "Basic abc",
                                           "Bearer not-a-token", "Bearer " + "x" * 5000,
                                           "Bearer a b"])
def test_missing_or_bad_tokens(app, client, authorization):
    headers = {"Authorization": authorization} if authorization is not None else {}
    assert_unauthorized(client.get("/counter/api/me", headers=headers))
    assert_unauthorized(client.delete("/counter/api/sessions/current", headers=headers))


def test_cookies_and_console_tokens_do_not_open_the_api(app, office):
    staff_id = make(app, enrolled_clerk, office)
    browser = console_client(app, staff_id)
    assert_unauthorized(browser.get("/counter/api/me"))
    token = browser.get_cookie(COOKIE_NAME, path="/counter").value
    assert_unauthorized(browser.get("/counter/api/me", headers={"Authorization": f"Bearer {token}"}))


def test_a_pending_session_does_not_open_the_api(app, client, office):
    staff_id = make(app, enrolled_clerk, office)
    headers = api_headers(app, staff_id)
    with app.app_context():
        db.session.execute(update(StaffSession).values(mfa_verified_at=None))
        db.session.commit()
    assert_unauthorized(client.get("/counter/api/me", headers=headers))


@pytest.mark.parametrize("column, age", [("last_seen_at", timedelta(minutes=16)),
                                         ("created_at", timedelta(hours=9, minutes=1))])
def test_idle_and_absolute_timeouts(app, client, office, column, age):
    headers = api_headers(app, make(app, enrolled_clerk, office))
    assert client.get("/counter/api/me", headers=headers).status_code == 200
    with app.app_context():
        db.session.execute(update(StaffSession).values({column: utcnow() - age}))
        db.session.commit()
    assert_unauthorized(client.get("/counter/api/me", headers=headers))


def test_disable_takes_effect_at_the_next_request(app, client, office):
    headers = api_headers(app, make(app, enrolled_clerk, office))
    assert client.get("/counter/api/me", headers=headers).status_code == 200
    with app.app_context():
        staff_service.disable_staff(CLERK)
    assert_unauthorized(client.get("/counter/api/me", headers=headers))


def test_supervisor_only_endpoints(app, client, office):
    app.add_url_rule("/counter/api/probe", endpoint="counter_api.probe",
                     view_func=require_supervisor(lambda: jsonify(ok=current_staff().username)))
    clerk = api_headers(app, make(app, enrolled_clerk, office))
    supervisor = api_headers(app, make(app, enrolled_supervisor, office))
    refused = client.get("/counter/api/probe", headers=clerk)
    assert refused.status_code == 403 and refused.json["error"] == "forbidden"
    assert client.get("/counter/api/probe", headers=supervisor).json == {"ok": "supervisor-hn-boho"}


def test_wrong_method(client):
    # Routing errors happen before the blueprint is known: the app-wide handler answers
    # (JSON when asked for; see the report about JSON_PREFIXES in idp/web/error_pages.py).
    response = client.get(URL, headers={"Accept": "application/json"})
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"


# --- malformed requests --------------------------------------------------------------------

MALFORMED = [
    ("", "application/json"),
    ("{", "application/json"),
    ("[]", "application/json"),
    ("null", "application/json"),
    ('"text"', "application/json"),
    (json.dumps({"username": CLERK, "password": STAFF_PASSWORD}), "application/json"),
    (json.dumps({"username": CLERK, "password": STAFF_PASSWORD, "totp": 123456}), "application/json"),
    (json.dumps({"username": None, "password": STAFF_PASSWORD, "totp": "123456"}), "application/json"),
    (json.dumps({"username": [CLERK], "password": STAFF_PASSWORD, "totp": "1"}), "application/json"),
    (json.dumps({"username": "", "password": STAFF_PASSWORD, "totp": "123456"}), "application/json"),
    (json.dumps({"username": "x" * 65, "password": "p", "totp": "123456"}), "application/json"),
    (json.dumps({"username": CLERK, "password": "p" * 1025, "totp": "123456"}), "application/json"),
    (json.dumps({"username": CLERK, "password": "p", "totp": "1" * 33}), "application/json"),
    (json.dumps({"username": CLERK, "password": "p" * 1000, "totp": "1", "pad": "x" * 5000}),
     "application/json"),
    ("username=clerk-hn-boho&password=x&totp=123456", "application/x-www-form-urlencoded"),
    (b"\xff\xfe{}", "application/json"),
    ("x" * 70_000, "application/json"),
]


@pytest.mark.parametrize("data, content_type", MALFORMED)
def test_malformed_requests_get_invalid_request(app, client, office, data, content_type):
    make(app, enrolled_clerk, office)
    response = client.post(URL, data=data, content_type=content_type)
    assert response.status_code == 400
    assert response.json["error"] == "invalid_request"
    assert sessions(app) == 0


def test_odd_but_well_formed_values_are_just_wrong(app, client, office):
    make(app, enrolled_clerk, office)
    for odd in (body(username="clerk\x00"), body(totp="１２３４５６"), body(password="\u202e" * 8),
                body(username="ＣＬＥＲＫ-hn-boho", totp="abcdef")):
        assert_unauthorized(client.post(URL, json=odd), "invalid_credentials")
    assert sessions(app) == 0
