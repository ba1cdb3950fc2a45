"""Console sign-in at /counter: password, forced TOTP enrolment (set-up code: test_staff_setup_code.py), code step, guard, timeouts,
disable, sign-out and cookie flags (bad input: test_staff_auth_input.py)."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask, render_template_string
from flask.testing import FlaskClient
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import AuditEvent, StaffMember, StaffSession, StaffStatus
from idp.models.base import utcnow
from idp.services.platform import crypto
from idp.services.staff import admin as staff_service
from idp.services.staff import signin
from idp.services.staff.sessions import COOKIE_NAME
from idp.web.counter.guard import current_staff, require_supervisor
from tests.conftest import csrf_token
from tests.counter.helpers import console_client
from tests.counter.staff_signin import CLERK, code_at
from tests.counter.staff_signin import make_staff as make
from tests.staff_factories import (
    STAFF_PASSWORD,
    STAFF_SETUP_CODE,
    enrolled_clerk,
    enrolled_supervisor,
    new_clerk,
)

KEY_RE = re.compile(r"<strong>([A-Z2-7 ]{16,})</strong>")


@pytest.fixture
def probe(app: Flask) -> Flask:
    """Stand-ins for the console pages (written elsewhere), behind the same guard."""
    app.add_url_rule("/counter/probe", endpoint="counter.probe",
                     view_func=lambda: render_template_string(
                         "{{ staff.username if staff else 'no staff' }}|" + current_staff().username))
    app.add_url_rule("/counter/probe/supervisor", endpoint="counter.probe_supervisor",
                     view_func=require_supervisor(lambda: "approved"))
    return app


def password_step(client: FlaskClient, username: str = CLERK, password: str = STAFF_PASSWORD,
                  form_page: str = "/counter/login"):
    token = csrf_token(client, form_page)
    return client.post("/counter/login",
                       data={"csrf_token": token, "username": username, "password": password})


def code_step(client: FlaskClient, code: str, path: str = "/counter/mfa"):
    return client.post(path, data={"csrf_token": csrf_token(client, path), "code": code})


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    assert password_step(client).headers["Location"] == "/counter/mfa"
    assert code_step(client, code_at()).headers["Location"] == "/counter/"
    return client


def tags(app: Flask) -> list[tuple[str, int | None, int | None, dict]]:
    with app.app_context():
        rows = db.session.execute(select(AuditEvent.tag, AuditEvent.staff_id, AuditEvent.office_id,
                                         AuditEvent.data).order_by(AuditEvent.id)).all()
        return [tuple(row) for row in rows]


def live_sessions(app: Flask) -> list[StaffSession]:
    with app.app_context():
        return list(db.session.scalars(select(StaffSession).where(StaffSession.ended_at.is_(None))))


# --- first sign-in: enrolment is forced ----------------------------------------------------

def test_first_sign_in_forces_totp_enrolment_before_anything_else(app, probe, office):
    staff_id = make(app, new_clerk, office)
    client = app.test_client()
    response = password_step(client)
    assert response.status_code == 302 and response.headers["Location"] == "/counter/mfa/enrol"
    for path in ("/counter/probe", "/counter/", "/counter/mfa"):
        blocked = client.get(path)
        assert blocked.status_code in (302, 404)
        if blocked.status_code == 302:
            assert blocked.headers["Location"] == "/counter/mfa/enrol"

    asked = client.get("/counter/mfa/enrol")  # the set-up code first, no key yet
    assert asked.status_code == 200 and "data:image/svg+xml" not in asked.get_data(as_text=True)
    typed = code_step(client, STAFF_SETUP_CODE.lower().replace("-", " "), "/counter/mfa/enrol")
    assert typed.status_code == 302 and typed.headers["Location"] == "/counter/mfa/enrol"

    with app.app_context():  # stored sealed before the QR is shown, bound to this staff member
        member = db.session.get(StaffMember, staff_id)
        assert member.totp_confirmed_at is None
        secret = signin.pending_secret(member).encode()
    page = client.get("/counter/mfa/enrol")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "data:image/svg+xml;base64," in body
    assert KEY_RE.search(body).group(1).replace(" ", "") == secret.decode()
    assert all(secret.decode() not in c for c in page.headers.getlist("Set-Cookie"))
    assert all(secret.decode() not in c for c in typed.headers.getlist("Set-Cookie"))

    wrong = code_step(client, "000000", "/counter/mfa/enrol")
    assert wrong.status_code == 401
    pending_cookie = client.get_cookie(COOKIE_NAME, path="/counter").value
    done = code_step(client, code_at(secret=secret.decode()), "/counter/mfa/enrol")
    assert done.status_code == 302 and done.headers["Location"] == "/counter/"
    assert client.get_cookie(COOKIE_NAME, path="/counter").value != pending_cookie  # new token once verified
    assert client.get("/counter/probe").get_data(as_text=True) == f"{CLERK}|{CLERK}"
    with app.app_context():
        member = db.session.get(StaffMember, staff_id)
        assert member.totp_confirmed_at is not None  # the secret alone now, under its own aad
        assert crypto.unseal(member.totp_secret_encrypted,
                             aad=f"staff-totp:{staff_id}".encode()) == secret
    assert [t[0] for t in tags(app)] == ["staff.mfa.failure", "staff.mfa.enrol",
                                         "staff.login.success"]
    assert all(t[1] == staff_id and t[2] == office for t in tags(app))


def test_the_console_after_sign_in_shows_who_and_where(app, office):
    make(app, enrolled_clerk, office)
    page = signed_in(app).get("/counter/")
    body = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Lê Thị Quầy" in body and "HN-BOHO" in body and 'action="/counter/logout"' in body
    assert 'href="/counter/queue"' not in body  # a clerk has no approval queue


def test_each_typing_of_the_set_up_code_gets_a_new_secret(app, office):
    staff_id = make(app, new_clerk, office)

    def secret() -> str | None:
        with app.app_context():
            return signin.pending_secret(db.session.get(StaffMember, staff_id))

    first_browser, second_browser = app.test_client(), app.test_client()
    password_step(first_browser)
    code_step(first_browser, STAFF_SETUP_CODE, "/counter/mfa/enrol")
    first = secret()
    password_step(second_browser)  # the password alone changes nothing
    assert secret() == first
    code_step(second_browser, STAFF_SETUP_CODE, "/counter/mfa/enrol")
    assert secret() not in (None, first)


# --- the code step -------------------------------------------------------------------------

def test_enrolled_staff_sign_in_with_a_code(app, probe, office):
    staff_id = make(app, enrolled_clerk, office)
    client = app.test_client()
    assert password_step(client).headers["Location"] == "/counter/mfa"
    assert client.get("/counter/probe").headers["Location"] == "/counter/mfa"
    assert client.get("/counter/mfa/enrol").headers["Location"] == "/counter/mfa"
    wrong = code_step(client, "123456")
    assert wrong.status_code == 401
    assert 'id="code-error"' in wrong.get_data(as_text=True)
    ok = code_step(client, code_at())
    assert ok.status_code == 302 and ok.headers["Location"] == "/counter/"
    assert client.get("/counter/probe").status_code == 200
    assert client.get("/counter/mfa").headers["Location"] == "/counter/"
    assert client.get("/counter/login").headers["Location"] == "/counter/"
    [session] = live_sessions(app)
    assert session.mfa_verified_at is not None and session.channel == "web"
    assert [t[0] for t in tags(app)] == ["staff.mfa.failure", "staff.login.success"]
    assert tags(app)[1][1:3] == (staff_id, office)


def test_a_code_is_accepted_once(app, office):
    make(app, enrolled_clerk, office)
    code = code_at()
    first = app.test_client()
    password_step(first)
    assert code_step(first, code).status_code == 302
    second = app.test_client()
    password_step(second)
    replay = code_step(second, code)
    assert replay.status_code == 401
    assert "Mã này đã được dùng" in replay.get_data(as_text=True)  # as for citizens: wait
    assert code_step(second, code_at(1)).status_code == 302  # the next step's code works


def test_codes_within_one_step_only(app, office):
    make(app, enrolled_clerk, office)
    client = app.test_client()
    password_step(client)
    assert code_step(client, code_at(-2)).status_code == 401
    assert code_step(client, code_at(2)).status_code == 401
    assert code_step(client, code_at(-1)).status_code == 302


def test_wrong_codes_are_throttled(app, settings, office):
    make(app, enrolled_clerk, office)
    client = app.test_client()
    password_step(client)
    for _ in range(settings.login_free_failures + 1):
        assert code_step(client, "000000").status_code == 401
    throttled = code_step(client, code_at())
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    failures = [t for t in tags(app) if t[0] == "staff.mfa.failure"]
    assert len(failures) == settings.login_free_failures + 1


# --- password step -------------------------------------------------------------------------

def test_one_generic_error_for_unknown_user_wrong_password_and_disabled(app, office):
    staff_id = make(app, enrolled_clerk, office)
    make(app, enrolled_supervisor, office)
    with app.app_context():
        staff_service.disable_staff("supervisor-hn-boho")
    bodies = []
    for username, password in [("nobody-here", STAFF_PASSWORD), (CLERK, "wrong password 1"),
                               ("supervisor-hn-boho", STAFF_PASSWORD)]:
        response = password_step(app.test_client(), username, password)
        assert response.status_code == 401
        bodies.append(re.search(r'role="alert".*?</div>', response.get_data(as_text=True), re.S)[0])
    assert len(set(bodies)) == 1
    assert live_sessions(app) == []
    failures = [t for t in tags(app) if t[0] == "staff.login.failure"]
    assert [(f[1], f[3]["reason"]) for f in failures] == [
        (None, "unknown_user"), (staff_id, "password"), (staff_id + 1, "disabled")]


def test_password_attempts_are_throttled_per_username_known_or_not(app, settings, office):
    make(app, enrolled_clerk, office)
    for username in (CLERK, "nobody-here"):
        client = app.test_client()
        for _ in range(settings.login_free_failures + 1):
            assert password_step(client, username, "wrong password 1").status_code == 401
        response = password_step(client, username.upper())  # one key for every spelling
        assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
    assert live_sessions(app) == []


def test_every_sign_in_gets_a_new_token_and_ends_the_old_session(app, office):
    make(app, enrolled_clerk, office)
    client = signed_in(app)
    old = client.get_cookie(COOKIE_NAME, path="/counter").value
    password_step(client, form_page="/login")  # signed in: /counter/login redirects
    assert client.get_cookie(COOKIE_NAME, path="/counter").value != old
    [live] = live_sessions(app)
    assert live.mfa_verified_at is None


def test_cookie_flags(app, settings, make_app, office):
    make(app, enrolled_clerk, office)
    [cookie] = [c for c in password_step(app.test_client()).headers.getlist("Set-Cookie")
                if c.startswith(COOKIE_NAME + "=")]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/counter" in cookie
    assert "Secure" not in cookie  # test settings: cookie_secure = false
    secure_app = make_app(replace(settings, cookie_secure=True))
    secure_app.config["WTF_CSRF_ENABLED"] = False
    response = secure_app.test_client().post(
        "/counter/login", data={"username": CLERK, "password": STAFF_PASSWORD},
        base_url="https://localhost")
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(COOKIE_NAME)]
    assert "; Secure" in cookie and "SameSite=Strict" in cookie


# --- guard: timeouts, disable, sign-out, roles ---------------------------------------------

def test_no_session_redirects_to_sign_in(probe, client):
    response = client.get("/counter/probe")
    assert response.status_code == 302 and response.headers["Location"] == "/counter/login"
    assert client.get("/counter/mfa").headers["Location"] == "/counter/login"
    assert client.get("/counter/mfa/enrol").headers["Location"] == "/counter/login"


@pytest.mark.parametrize("column, age", [("last_seen_at", timedelta(minutes=16)),
                                         ("created_at", timedelta(hours=9, minutes=1))])
def test_idle_and_absolute_timeouts(app, probe, office, column, age):
    staff_id = make(app, enrolled_clerk, office)
    client = console_client(app, staff_id)
    assert client.get("/counter/probe").status_code == 200
    with app.app_context():
        db.session.execute(update(StaffSession).values({column: utcnow() - age}))
        db.session.commit()
    response = client.get("/counter/probe")
    assert response.status_code == 302
    assert response.headers["Location"] == "/counter/login?expired=1"
    assert client.get_cookie(COOKIE_NAME, path="/counter") is None  # the dead cookie is dropped
    assert 'class="alert alert-info"' in client.get("/counter/login?expired=1").get_data(as_text=True)
    assert 'class="alert alert-info"' not in client.get("/counter/login").get_data(as_text=True)


def test_disable_takes_effect_at_the_next_request(app, probe, office):
    staff_id = make(app, enrolled_clerk, office)
    client = console_client(app, staff_id)
    assert client.get("/counter/probe").status_code == 200
    with app.app_context():
        staff_service.disable_staff(CLERK)
    assert client.get("/counter/probe").headers["Location"] == "/counter/login?expired=1"
    assert live_sessions(app) == []
    assert tags(app)[-1][0] == "staff.disable" and tags(app)[-1][3] == {"sessions_ended": 1}


def test_the_staff_status_is_checked_on_every_request(app, probe, office):
    staff_id = make(app, enrolled_clerk, office)
    client = console_client(app, staff_id)
    assert client.get("/counter/probe").status_code == 200
    with app.app_context():  # a session the disable did not end (status set by other means)
        db.session.execute(update(StaffMember).values(status=StaffStatus.DISABLED))
        db.session.commit()
    assert client.get("/counter/probe").headers["Location"] == "/counter/login?expired=1"


def test_logout_ends_the_session_and_clears_the_cookie(app, probe, office):
    staff_id = make(app, enrolled_clerk, office)
    client = console_client(app, staff_id)
    token = client.get_cookie(COOKIE_NAME, path="/counter").value
    response = client.post("/counter/logout", data={"csrf_token": csrf_token(client, "/login")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/counter/login?signed_out=1"
    assert client.get_cookie(COOKIE_NAME, path="/counter") is None
    assert live_sessions(app) == []
    assert tags(app)[-1][:3] == ("staff.logout", staff_id, office)
    client.set_cookie(COOKIE_NAME, token, path="/counter")
    assert client.get("/counter/probe").status_code == 302


def test_logout_needs_csrf_and_a_post(app, probe, office):
    client = console_client(app, make(app, enrolled_clerk, office))
    assert client.post("/counter/logout").status_code == 400
    assert client.get("/counter/logout").status_code == 405
    assert client.get("/counter/probe").status_code == 200


def test_a_pending_sign_in_can_be_cancelled(app, office):
    make(app, new_clerk, office)
    client = app.test_client()
    password_step(client)
    response = client.post("/counter/logout", data={"csrf_token": csrf_token(client, "/login")})
    assert response.headers["Location"] == "/counter/login?signed_out=1"
    assert live_sessions(app) == []


def test_supervisor_only_pages(app, probe, office):
    clerk = console_client(app, make(app, enrolled_clerk, office))
    supervisor = console_client(app, make(app, enrolled_supervisor, office))
    assert clerk.get("/counter/probe/supervisor").status_code == 403
    assert supervisor.get("/counter/probe/supervisor").get_data(as_text=True) == "approved"
