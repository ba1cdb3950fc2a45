"""First console sign-in: the initial password alone never sets up TOTP nor opens a session;
the set-up code the supervisor handed over is needed too, and only the browser that typed it is
shown the new key."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, StaffMember, StaffSession
from idp.models.base import utcnow
from idp.services.staff import enrolment, signin
from tests.conftest import csrf_token
from tests.counter.staff_signin import CLERK, code_at
from tests.counter.staff_signin import make_staff as make
from tests.staff_factories import STAFF_PASSWORD, STAFF_SETUP_CODE, new_clerk

ENROL = "/counter/mfa/enrol"


def password_step(client: FlaskClient) -> None:
    response = client.post("/counter/login", data={
        "csrf_token": csrf_token(client, "/counter/login"), "username": CLERK,
        "password": STAFF_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == ENROL


def post_enrol(client: FlaskClient, code: str):
    return client.post(ENROL, data={"csrf_token": csrf_token(client, ENROL), "code": code})


def member(app: Flask, staff_id: int) -> StaffMember:
    with app.app_context():
        found = db.session.get(StaffMember, staff_id)
        db.session.expunge(found)
        return found


def state(app: Flask, staff_id: int) -> tuple:
    with app.app_context():
        staff = db.session.get(StaffMember, staff_id)
        verified = db.session.scalars(select(StaffSession).where(
            StaffSession.staff_id == staff_id, StaffSession.mfa_verified_at.is_not(None))).all()
        return (staff.totp_confirmed_at, signin.pending_secret(staff), len(verified),
                db.session.scalars(select(AuditEvent.tag)).all())


def test_the_initial_password_alone_cannot_set_up_totp_or_get_a_session(app, office):
    staff_id = make(app, new_clerk, office)
    client = app.test_client()
    password_step(client)
    page = client.get(ENROL)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and 'name="code"' in body
    assert "data:image/svg+xml" not in body and 'class="mono totp-key"' not in body
    # Whatever is typed without the set-up code: the password, a would-be TOTP code, nothing.
    for guess in (STAFF_PASSWORD, code_at(), "QUAYM-23457"):
        refused = post_enrol(client, guess)
        assert refused.status_code == 401
        assert "Mã thiết lập này không đúng" in refused.get_data(as_text=True)
    assert post_enrol(client, "").status_code == 400
    assert client.get("/counter/").headers["Location"] == ENROL
    confirmed_at, secret, verified, tags = state(app, staff_id)
    assert (confirmed_at, secret, verified) == (None, None, 0)
    assert tags.count("staff.mfa.failure") == 3 and "staff.mfa.enrol" not in tags
    assert "staff.login.success" not in tags


def test_another_sign_in_with_the_same_password_is_never_shown_the_key(app, office):
    staff_id = make(app, new_clerk, office)
    owner, other = app.test_client(), app.test_client()
    password_step(owner)
    assert post_enrol(owner, STAFF_SETUP_CODE).headers["Location"] == ENROL
    secret = state(app, staff_id)[1]
    password_step(other)  # holds the password, not the code
    body = other.get(ENROL).get_data(as_text=True)
    assert "data:image/svg+xml" not in body and secret not in body.replace(" ", "")
    assert post_enrol(other, code_at(secret=secret)).status_code == 401  # read over a shoulder
    assert state(app, staff_id)[:3] == (None, secret, 0)
    done = post_enrol(owner, code_at(secret=secret))
    assert done.status_code == 302 and done.headers["Location"] == "/counter/"


def test_the_set_up_code_works_again_after_the_browser_was_closed_and_dies_with_enrolment(
        app, office):
    staff_id = make(app, new_clerk, office)
    first = app.test_client()
    password_step(first)
    post_enrol(first, STAFF_SETUP_CODE)
    again = app.test_client()  # closed before confirming: the same code, a new key
    password_step(again)
    assert post_enrol(again, STAFF_SETUP_CODE).status_code == 302
    secret = state(app, staff_id)[1]
    assert post_enrol(again, code_at(secret=secret)).headers["Location"] == "/counter/"
    assert not enrolment.matches(member(app, staff_id), STAFF_SETUP_CODE)
    later = app.test_client()
    assert later.post("/counter/login", data={
        "csrf_token": csrf_token(later, "/counter/login"), "username": CLERK,
        "password": STAFF_PASSWORD}).headers["Location"] == "/counter/mfa"
    assert later.get(ENROL).headers["Location"] == "/counter/mfa"


def test_an_expired_set_up_code_is_refused(app, office):
    staff_id = make(app, new_clerk, office)
    with app.app_context():
        staff = db.session.get(StaffMember, staff_id)
        record = enrolment.record_of(staff)
        staff.totp_secret_encrypted = enrolment._seal(
            staff, replace(record, expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    client = app.test_client()
    password_step(client)
    assert post_enrol(client, STAFF_SETUP_CODE).status_code == 401
    assert state(app, staff_id)[:3] == (None, None, 0)


def test_staff_without_a_set_up_code_cannot_enrol(app, office):
    """Created before set-up codes existed (or the column emptied): ask for a new code."""
    staff_id = make(app, new_clerk, office)
    with app.app_context():
        db.session.get(StaffMember, staff_id).totp_secret_encrypted = None
        db.session.commit()
    client = app.test_client()
    password_step(client)
    assert post_enrol(client, STAFF_SETUP_CODE).status_code == 401
    assert state(app, staff_id)[:3] == (None, None, 0)


def test_set_up_code_guesses_are_throttled(app, settings, office):
    staff_id = make(app, new_clerk, office)
    client = app.test_client()
    password_step(client)
    for _ in range(settings.login_free_failures + 1):
        assert post_enrol(client, "WRONG-CODE1").status_code == 401
    throttled = post_enrol(client, STAFF_SETUP_CODE)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    assert state(app, staff_id)[1] is None
