"""Forgotten password through HTTP, as a browser does it: identifier -> SMS code or e-mail
link + new password -> every session ended -> sign in normally (TOTP still asked)."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AuditEvent, AuditTag, OAuthToken, OutboxMessage, UserSession
from idp.models.base import utcnow
from idp.models.registration import OtpChallenge
from idp.services.identity import mfa
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen, disabled_citizen
from tests.oidc.flow import exchange, obtain_code, refresh, registered_portal, sign_in

NEW_PASSWORD = "blue mango river lantern"
COOKIE = "postid_recovery"


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return english(app)


def english(app: Flask) -> FlaskClient:
    """A browser that reads English, so the tests can match the page text."""
    browser = app.test_client()
    browser.set_cookie("postid_lang", "en")
    return browser


def verified_citizen(app: Flask, *, email: bool = True) -> int:
    with app.app_context():
        account = active_citizen(email="an@example.vn" if email else None)
        account.phone_verified_at = utcnow()
        if email:
            account.email_verified_at = utcnow()
        db.session.commit()
        return account.id


def outbox(app: Flask, template: str | None = None) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).order_by(OutboxMessage.id)
        if template:
            query = query.where(OutboxMessage.template == template)
        rows = list(db.session.scalars(query))
        db.session.expunge_all()
        return rows


def latest_code(app: Flask) -> str:
    return re.search(r"\b(\d{6})\b", outbox(app, "recover.code")[-1].body).group(1)


def latest_link(app: Flask) -> str:
    return re.search(r"(/recover/link/[A-Za-z0-9_\-]+)", outbox(app, "recover.link")[-1].body).group(1)


def start(client: FlaskClient, identifier: str = "001099012345"):
    return client.post("/recover", data={"csrf_token": csrf_token(client, "/recover"),
                                         "identifier": identifier})


def submit_code(client: FlaskClient, code: str, password: str = NEW_PASSWORD,
                confirm: str | None = None):
    return client.post("/recover/code", data={
        "csrf_token": csrf_token(client, "/recover"), "code": code, "password": password,
        "password_confirm": password if confirm is None else confirm})


def submit_link(client: FlaskClient, path: str, password: str = NEW_PASSWORD):
    return client.post(path, data={"csrf_token": csrf_token(client, "/recover"),
                                   "password": password, "password_confirm": password})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def login(client: FlaskClient, password: str):
    return client.post("/login", data={"csrf_token": csrf_token(client), "identifier": "001099012345",
                                       "password": password})


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def test_login_page_links_to_recovery_and_lost_device_page_says_post_office(client):
    assert 'href="/recover"' in client.get("/login").get_data(as_text=True)
    page = client.get("/recover/lost-device")
    assert page.status_code == 200 and "post office" in page.get_data(as_text=True)


def test_sms_code_path_changes_the_password_without_signing_in(app, client):
    account_id = verified_citizen(app)
    response = start(client)
    assert response.status_code == 303 and response.headers["Location"] == "/recover/code"
    assert [m.recipient for m in outbox(app, "recover.code")] == ["+84912345678"]
    assert [m.recipient for m in outbox(app, "recover.link")] == ["an@example.vn"]
    response = submit_code(client, latest_code(app))
    assert response.status_code == 200
    assert "Password changed" in response.get_data(as_text=True)
    assert client.get_cookie("postid_session") is None  # never signed in automatically
    assert login(client, PASSWORD).status_code == 401
    assert login(client, NEW_PASSWORD).status_code == 302
    done = outbox(app, "recover.done")
    assert sorted(m.channel.value for m in done) == ["email", "sms"]
    with app.app_context():
        tags = db.session.scalars(select(AuditEvent.tag).where(AuditEvent.account_id == account_id))
        assert AuditTag.ACCOUNT_PASSWORD_RECOVER.value in [str(getattr(t, "value", t)) for t in tags]


def test_reused_code_is_refused_and_the_link_dies_with_it(app, client):
    verified_citizen(app)
    start(client)
    code, link = latest_code(app), latest_link(app)
    assert submit_code(client, code).status_code == 200
    other = english(app)
    other.set_cookie(COOKIE, "x", path="/recover")
    # the flow is over: the code page sends back to the start, the code cannot be replayed
    assert submit_code(client, code, "another fine password 7").status_code in (302, 400)
    assert client.get(link).status_code == 404
    assert login(client, "another fine password 7").status_code == 401


def test_reused_code_with_a_copied_cookie_is_refused(app, client):
    verified_citizen(app)
    start(client)
    flow = client.get_cookie(COOKIE, path="/recover").value
    code = latest_code(app)
    assert submit_code(client, code).status_code == 200
    replay = english(app)
    replay.set_cookie(COOKIE, flow, path="/recover")
    response = replay.post("/recover/code", data={
        "csrf_token": csrf_token(replay, "/recover"), "code": code,
        "password": "another fine password 7", "password_confirm": "another fine password 7"})
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    assert login(client, NEW_PASSWORD).status_code == 302


def test_link_path_and_reused_link_refused(app, client):
    verified_citizen(app)
    start(client)
    path = latest_link(app)
    page = client.get(path)
    assert page.status_code == 200 and 'name="password"' in page.get_data(as_text=True)
    assert submit_link(client, path).status_code == 200
    assert submit_link(client, path, "another fine password 7").status_code == 404
    assert client.get(path).status_code == 404
    assert login(client, NEW_PASSWORD).status_code == 302
    # the SMS code of the same recovery died with the link
    assert submit_code(client, latest_code(app), "another fine password 7").status_code == 302


def test_unknown_identifier_gets_the_identical_answer_and_nothing_is_sent(app):
    verified_citizen(app)
    known, unknown = english(app), english(app)
    a, b = start(known), start(unknown, "079303001234")
    assert (a.status_code, a.headers["Location"]) == (b.status_code, b.headers["Location"])
    cookie_a = [h.split("=")[0] for h in a.headers.getlist("Set-Cookie")]
    cookie_b = [h.split("=")[0] for h in b.headers.getlist("Set-Cookie")]
    assert cookie_a == cookie_b == [COOKIE]
    before = len(outbox(app))
    page_a = known.get("/recover/code").get_data(as_text=True)
    page_b = unknown.get("/recover/code").get_data(as_text=True)
    strip = re.compile(r'name="csrf_token"[^>]*value="[^"]*"')
    assert strip.sub("", page_a) == strip.sub("", page_b)
    assert len(outbox(app)) == before
    # a wrong code looks the same for both
    ra, rb = submit_code(known, "123456"), submit_code(unknown, "123456")
    assert ra.status_code == rb.status_code == 400
    assert strip.sub("", ra.get_data(as_text=True)) == strip.sub("", rb.get_data(as_text=True))
    assert all(m.recipient == "+84912345678" or m.recipient == "an@example.vn" for m in outbox(app))


def test_disabled_or_garbage_identifiers_send_nothing(app, client):
    with app.app_context():
        disabled_citizen()
    before = len(outbox(app))
    for identifier in ("001099012345", "abc", "0" * 64, "<script>"):
        response = start(client, identifier)
        assert response.status_code == 303
    assert len(outbox(app)) == before
    too_long = start(client, "9" * 5000)
    assert too_long.status_code == 400 and "too long" in too_long.get_data(as_text=True)


def test_five_wrong_codes_kill_the_code(app, client):
    verified_citizen(app)
    start(client)
    code = latest_code(app)
    for _ in range(5):
        response = submit_code(client, wrong(code))
        assert response.status_code == 400
        assert "not correct" in response.get_data(as_text=True)
    response = submit_code(client, code)
    assert response.status_code == 302  # dead: back to the start
    assert login(client, PASSWORD).status_code == 302


def test_recovery_start_is_throttled_per_identifier(app, client):
    verified_citizen(app)
    statuses = [start(client).status_code for _ in range(8)]
    assert 429 in statuses
    # Another spelling of the same ID number shares the count...
    assert start(client, "001 099 012 345").status_code == 429
    # ...but the phone counts apart: otherwise the throttle would link the two.
    assert start(client, "0912345678").status_code == 303


def test_flow_cookie_looks_the_same_for_known_and_unknown(app, client):
    verified_citizen(app)
    start(client)
    known = client.get_cookie("postid_recovery", path="/recover").value
    other = app.test_client()
    start(other, "001099012346")
    unknown = other.get_cookie("postid_recovery", path="/recover").value
    with app.app_context():
        from idp.services.identity import recovery

        decoded = [recovery._serializer().loads(value) for value in (known, unknown)]
    # Same fields, same widths, no account id: the signed (readable) cookie tells nothing.
    assert [sorted(d) for d in decoded] == [["c", "k"], ["c", "k"]]
    assert [len(d["c"]) for d in decoded] == [20, 20] and [len(d["k"]) for d in decoded] == [72, 72]
    assert all(d["k"].startswith("recover:") and "account" not in d["k"] for d in decoded)


def test_policy_errors_are_shown_and_the_code_stays_usable(app, client):
    verified_citizen(app)
    start(client)
    code = latest_code(app)
    response = submit_code(client, code, "001099012345")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'class="error-message"' in page
    assert f'value="{code}"' in page  # the code is kept, the passwords are not
    assert 'value="001099012345"' not in page
    mismatch = submit_code(client, code, NEW_PASSWORD, "something else entirely")
    assert mismatch.status_code == 400 and "not the same" in mismatch.get_data(as_text=True)
    assert NEW_PASSWORD not in mismatch.get_data(as_text=True)
    assert submit_code(client, code).status_code == 200


def test_every_session_and_refresh_token_is_revoked(app, client):
    account_id = verified_citizen(app)
    portal = registered_portal(app)
    sign_in(client)
    auth_code, request = obtain_code(client, portal, scope="openid profile offline_access")
    tokens = exchange(client, portal, auth_code, request.verifier).json
    other = english(app)
    start(other)
    assert submit_code(other, latest_code(app)).status_code == 200
    with app.app_context():
        live = db.session.scalar(select(func.count()).select_from(UserSession).where(
            UserSession.account_id == account_id, UserSession.revoked_at.is_(None)))
        assert live == 0
        assert db.session.scalar(select(func.count()).select_from(OAuthToken).where(
            OAuthToken.account_id == account_id, OAuthToken.revoked_at.is_(None))) == 0
    assert refresh(client, portal, tokens["refresh_token"]).json["error"] == "invalid_grant"
    assert client.get("/account").status_code == 302


def test_totp_is_still_asked_after_a_reset(app, client):
    verified_citizen(app)
    with app.app_context():
        account = db.session.scalar(select(Account))
        secret = mfa.secret_of(mfa.begin_enrolment(account))
        mfa.confirm_enrolment(account, pyotp.TOTP(secret).at(time.time() - 30))
    start(client)
    assert submit_code(client, latest_code(app)).status_code == 200
    response = login(client, NEW_PASSWORD)
    assert response.status_code == 302 and "/login/verify" in response.headers["Location"]
    assert client.get_cookie("postid_session") is None


@pytest.mark.parametrize("path", ["/recover", "/recover/code"])
def test_posts_without_csrf_are_refused(app, client, path):
    verified_citizen(app)
    start(client)
    response = client.post(path, data={"identifier": "001099012345", "code": "123456",
                                       "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert len(outbox(app, "recover.code")) == 1


def test_link_post_without_csrf_is_refused(app, client):
    verified_citizen(app)
    start(client)
    path = latest_link(app)
    response = client.post(path, data={"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert response.status_code == 400
    assert client.get(path).status_code == 200  # still usable


def test_gets_change_nothing(app, client):
    verified_citizen(app)
    before = len(outbox(app))
    client.get("/recover?identifier=001099012345")
    assert count(app, OtpChallenge) == 0 and len(outbox(app)) == before
    start(client)
    path = latest_link(app)
    for _ in range(3):
        client.get(path)
        client.get("/recover/code?code=123456")
    with app.app_context():
        row = db.session.scalar(select(OtpChallenge).order_by(OtpChallenge.id))
        assert row.failed_attempts == 0 and row.consumed_at is None


@pytest.mark.parametrize("data", [
    {"code": "x" * 10000, "password": "p" * 5000, "password_confirm": "p" * 5000},
    {"code": "\x00\u202e٣", "password": "", "password_confirm": ""},
    {"code": ["1", "2"], "password": ["a"], "password_confirm": None},
])
def test_garbage_input_never_500(app, client, data):
    verified_citizen(app)
    start(client)
    data = {k: v for k, v in data.items() if v is not None}
    response = client.post("/recover/code", data={**data, "csrf_token": csrf_token(client, "/recover/code")})
    assert response.status_code == 400
    assert client.get("/recover/link/" + "A" * 5000).status_code == 404
    assert client.get("/recover/link/%00%ff").status_code == 404
    garbage_cookie = english(app)
    garbage_cookie.set_cookie(COOKIE, "\x7f" * 300, path="/recover")
    assert garbage_cookie.get("/recover/code").status_code == 302
