"""TOTP enrolment, the second step of sign-in, recovery codes and removal, through HTTP."""

from __future__ import annotations

import html
import re
import time
from urllib.parse import parse_qs, urlsplit

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, UserSession
from idp.models.mfa import MfaChallenge, RecoveryCode, TotpCredential
from idp.services.platform import crypto
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen

SESSION_COOKIE = "postid_session"
CHALLENGE_COOKIE = "postid_mfa"
LINK_RE = re.compile(r'(?:href|action)="([^"]*)"')  # where the page can send the browser
REUSED_OR_WRONG = "nếu bạn vừa dùng mã này, hãy chờ mã tiếp theo"
USED = "Mã này đã được dùng"  # "This code has already been used ... wait for the next code"
WRONG = "Mã không đúng"
CODE_RE = re.compile(r"<strong>([23456789a-z]{4}-[23456789a-z]{4})</strong>")


@pytest.fixture
def citizen(app: Flask) -> int:
    with app.app_context():
        return active_citizen().id


def password_step(client: FlaskClient, next_url: str = ""):
    data = {"csrf_token": csrf_token(client), "identifier": "001099012345", "password": PASSWORD,
            "next": next_url}
    return client.post("/login", data=data)


def signed_in(app: Flask, citizen: int) -> FlaskClient:
    client = app.test_client()
    assert password_step(client).status_code == 302
    assert client.get_cookie(SESSION_COOKIE)
    return client


def secret(app: Flask, account_id: int) -> str:
    with app.app_context():
        cred = db.session.scalar(select(TotpCredential).where(TotpCredential.account_id == account_id))
        return crypto.unseal(cred.secret_encrypted, aad=f"totp:{account_id}".encode()).decode()


def fresh_code(app: Flask, account_id: int) -> str:
    """A code for the earliest acceptable time-step not used yet (within ±1 step of now)."""
    with app.app_context():
        last = db.session.scalar(select(TotpCredential.last_used_step)
                                 .where(TotpCredential.account_id == account_id))
    now_step = int(time.time() // 30)
    step = now_step - 1 if last is None else max(last + 1, now_step - 1)
    assert step <= now_step + 1
    return pyotp.TOTP(secret(app, account_id)).at(step * 30)


def begin_setup(client: FlaskClient):
    return client.post("/account/security/totp/setup",
                       data={"csrf_token": csrf_token(client, "/account/security")})


def enrol(app: Flask, citizen: int) -> tuple[FlaskClient, list[str]]:
    client = signed_in(app, citizen)
    assert begin_setup(client).headers["Location"] == "/account/security/totp/enrol"
    token = csrf_token(client, "/account/security/totp/enrol")
    page = client.post("/account/security/totp/enrol",
                       data={"csrf_token": token, "code": fresh_code(app, citizen)})
    assert page.status_code == 200
    codes = CODE_RE.findall(page.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    return client, codes


def verify(client: FlaskClient, code: str):
    return client.post("/login/verify",
                       data={"csrf_token": csrf_token(client, "/login/verify"), "code": code})


def count(app: Flask, model: type, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_security_page_needs_a_session(client):
    response = client.get("/account/security")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=/account/security")


def test_enrolment_shows_qr_and_key_but_never_puts_the_secret_in_a_cookie(app, citizen):
    client = signed_in(app, citizen)
    page = client.get("/account/security").get_data(as_text=True)
    assert "Xác thực hai bước" in page  # the glossary term (docs/glossary.md)
    response = begin_setup(client)
    assert response.status_code == 302
    key = secret(app, citizen)
    for header in response.headers.getlist("Set-Cookie"):
        assert key not in header
    enrol_page = client.get("/account/security/totp/enrol")
    body = enrol_page.get_data(as_text=True)
    assert "data:image/svg+xml;base64," in body
    grouped = " ".join(key[i:i + 4] for i in range(0, len(key), 4))
    assert grouped in body
    for header in enrol_page.headers.getlist("Set-Cookie"):
        assert key not in header
    assert key not in client.get("/account/security").get_data(as_text=True)
    with app.app_context():
        cred = db.session.scalar(select(TotpCredential))
        assert cred.confirmed_at is None and key.encode() not in cred.secret_encrypted


def test_confirm_with_wrong_code_is_refused_then_right_code_turns_it_on(app, citizen):
    client = signed_in(app, citizen)
    begin_setup(client)
    token = csrf_token(client, "/account/security/totp/enrol")
    wrong = client.post("/account/security/totp/enrol", data={"csrf_token": token, "code": "000000"})
    assert wrong.status_code == 400
    assert count(app, TotpCredential, TotpCredential.confirmed_at.is_not(None)) == 0
    right = client.post("/account/security/totp/enrol",
                        data={"csrf_token": token, "code": fresh_code(app, citizen)})
    assert right.status_code == 200
    assert len(CODE_RE.findall(right.get_data(as_text=True))) == 10
    assert count(app, TotpCredential, TotpCredential.confirmed_at.is_not(None)) == 1
    with app.app_context():
        hashes = db.session.scalars(select(RecoveryCode.code_hash)).all()
        assert len(hashes) == 10 and all(h.startswith("$argon2id$") for h in hashes)
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "account.mfa.enrol"))
    # Shown once: the security page does not list them again.
    assert not CODE_RE.findall(client.get("/account/security").get_data(as_text=True))


def test_sign_in_asks_for_totp_and_a_code_is_accepted_once(app, citizen):
    enrol(app, citizen)
    browser = app.test_client()
    response = password_step(browser, "/account/security")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login/verify"
    assert browser.get_cookie(SESSION_COOKIE) is None
    cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(CHALLENGE_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert browser.get("/account").status_code == 302  # not signed in yet
    code = fresh_code(app, citizen)
    done = verify(browser, code)
    assert done.status_code == 302
    assert done.headers["Location"] == "/account/security"
    assert browser.get("/account").status_code == 200
    with app.app_context():
        session = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
        assert set(session.amr.split()) == {"pwd", "otp", "mfa"}

    # Replay: the same code, another sign-in within its 30 s window, is refused.
    other = app.test_client()
    assert password_step(other).headers["Location"] == "/login/verify"
    replay = verify(other, code)
    assert replay.status_code == 401
    assert other.get_cookie(SESSION_COOKIE) is None
    # Told apart from a wrong code: the code was right, it is spent; wait for the next one.
    body = replay.get_data(as_text=True)
    assert USED in body and WRONG not in body


def test_the_enrolment_code_used_again_at_sign_in_says_wait_for_the_next(app, citizen):
    """The issue's case: right after set-up, the same code within its 30 s at /login/verify."""
    client = signed_in(app, citizen)
    begin_setup(client)
    code = fresh_code(app, citizen)
    token = csrf_token(client, "/account/security/totp/enrol")
    assert client.post("/account/security/totp/enrol",
                       data={"csrf_token": token, "code": code}).status_code == 200
    browser = app.test_client()
    password_step(browser)
    replay = verify(browser, code)
    assert replay.status_code == 401
    assert USED in replay.get_data(as_text=True)
    wrong = verify(browser, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 401 and WRONG in wrong.get_data(as_text=True)
    assert verify(browser, fresh_code(app, citizen)).status_code == 302  # the next code works


def test_removal_with_a_spent_code_says_wait_for_the_next_as_for_a_wrong_password(app, citizen):
    client, _ = enrol(app, citizen)
    code = fresh_code(app, citizen)
    browser = app.test_client()
    password_step(browser)
    assert verify(browser, code).status_code == 302
    response = client.post("/account/security/totp/remove",
                           data={"csrf_token": csrf_token(client, "/account/security"),
                                 "password": PASSWORD, "code": code})
    spent = response.get_data(as_text=True)
    assert response.status_code == 401 and REUSED_OR_WRONG in spent
    # A spent code must not tell whether the password was right: same answer as a wrong one.
    wrong_password = client.post("/account/security/totp/remove",
                                 data={"csrf_token": csrf_token(client, "/account/security"),
                                       "password": "not-the-password", "code": code})
    assert wrong_password.status_code == 401
    assert REUSED_OR_WRONG in wrong_password.get_data(as_text=True)
    assert USED not in spent  # the sign-in's "already used" would tell the password was right
    assert count(app, TotpCredential) == 1


def test_five_wrong_codes_kill_the_challenge(app, citizen):
    enrol(app, citizen)
    browser = app.test_client()
    password_step(browser)
    token = browser.get_cookie(CHALLENGE_COOKIE, path="/login/verify").value
    for _ in range(4):
        assert verify(browser, "000000").status_code == 401
    assert verify(browser, "000000").status_code == 400  # fifth: dead
    # The state is on the server: re-sending the old token with the right code changes nothing.
    browser.set_cookie(CHALLENGE_COOKIE, token, path="/login/verify")
    late = browser.post("/login/verify", data={"csrf_token": csrf_token(browser),
                                               "code": fresh_code(app, citizen)})
    assert late.status_code == 400
    assert browser.get_cookie(SESSION_COOKIE) is None
    with app.app_context():
        assert db.session.scalar(select(MfaChallenge.failed_attempts)) == 5
        assert db.session.scalar(select(TotpCredential.last_used_step)) is not None


def test_recovery_code_works_once(app, citizen):
    _, codes = enrol(app, citizen)
    first = app.test_client()
    password_step(first)
    assert verify(first, codes[3].upper().replace("-", " ")).status_code == 302
    with app.app_context():
        session = db.session.scalar(select(UserSession).order_by(UserSession.id.desc()))
        assert "mfa" in session.amr.split()
        assert db.session.scalar(select(AuditEvent).where(
            AuditEvent.tag == "account.mfa.recovery_code"))
    assert count(app, RecoveryCode, RecoveryCode.used_at.is_not(None)) == 1
    second = app.test_client()
    password_step(second)
    assert verify(second, codes[3]).status_code == 401
    assert second.get_cookie(SESSION_COOKIE) is None


def test_removal_needs_password_and_code(app, citizen):
    client, codes = enrol(app, citizen)
    token = csrf_token(client, "/account/security")
    url = "/account/security/totp/remove"
    assert client.post(url, data={"csrf_token": token, "password": "wrong password",
                                  "code": fresh_code(app, citizen)}).status_code == 401
    assert client.post(url, data={"csrf_token": token, "password": PASSWORD,
                                  "code": "000000"}).status_code == 401
    assert client.post(url, data={"csrf_token": token, "password": PASSWORD}).status_code == 400
    assert count(app, TotpCredential) == 1
    done = client.post(url, data={"csrf_token": token, "password": PASSWORD, "code": codes[0]})
    assert done.status_code == 302
    assert count(app, TotpCredential) == 0 and count(app, RecoveryCode) == 0
    with app.app_context():
        assert db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "account.mfa.remove"))
    # Password-only sign-in again.
    assert password_step(app.test_client()).headers["Location"] == "/account"


def test_get_never_changes_state(app, citizen):
    client = signed_in(app, citizen)
    for path in ("/account/security", "/account/security/totp/setup",
                 "/account/security/totp/enrol", "/account/security/totp/remove", "/login/verify"):
        assert client.get(path).status_code in (200, 302, 405)
    assert count(app, TotpCredential) == 0


def test_csrf_is_required(app, citizen):
    client = signed_in(app, citizen)
    assert client.post("/account/security/totp/setup").status_code == 400
    assert count(app, TotpCredential) == 0
    begin_setup(client)
    response = client.post("/account/security/totp/enrol", data={"code": fresh_code(app, citizen)})
    assert response.status_code == 400
    assert count(app, TotpCredential, TotpCredential.confirmed_at.is_not(None)) == 0


def test_over_long_and_garbage_input(app, citizen):
    enrol(app, citizen)
    browser = app.test_client()
    password_step(browser)
    long = verify(browser, "1" * 500)
    assert long.status_code == 400
    assert "error-message" in long.get_data(as_text=True)
    for garbage in ("\x00\x01", "１２３４５６", "'; drop table--", "ñ" * 20, "   "):
        assert verify(browser, garbage).status_code in (400, 401)
    assert browser.post("/login/verify", data={"code": ["1", "2"]}).status_code == 400
    # No challenge cookie at all, or a forged one.
    stranger = app.test_client()
    assert stranger.get("/login/verify").status_code == 302
    stranger.set_cookie(CHALLENGE_COOKIE, "x" * 3000, path="/login/verify")
    assert stranger.get("/login/verify").status_code == 200


def test_password_step_is_unchanged_for_wrong_passwords(app, citizen):
    enrol(app, citizen)
    browser = app.test_client()
    data = {"csrf_token": csrf_token(browser), "identifier": "001099012345", "password": "nope nope"}
    response = browser.post("/login", data=data)
    assert response.status_code == 401
    assert not any(h.startswith(CHALLENGE_COOKIE) for h in response.headers.getlist("Set-Cookie"))


@pytest.mark.parametrize("evil", ["https://evil.example/", "//evil.example/x", "/\\evil.example"])
def test_enrolment_never_carries_a_foreign_next(app, citizen, evil):
    client = signed_in(app, citizen)
    page = client.get("/account/security", query_string={"next": evil}).get_data(as_text=True)
    assert not [link for link in LINK_RE.findall(page) if "evil" in link]
    response = client.post("/account/security/totp/setup", query_string={"next": evil},
                           data={"csrf_token": csrf_token(client, "/account/security")})
    assert response.headers["Location"] == "/account/security/totp/enrol"
    token = csrf_token(client, "/account/security/totp/enrol")
    page = client.post("/account/security/totp/enrol", query_string={"next": evil},
                       data={"csrf_token": token, "code": fresh_code(app, citizen)})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert not [link for link in LINK_RE.findall(text) if "evil" in link]
    assert 'href="/account/security"' in text


def test_enrolment_for_a_waiting_portal_leads_straight_back_to_it(app, citizen):
    client = signed_in(app, citizen)
    target = "/authorize?client_id=x&state=y"
    page = client.get("/account/security", query_string={"next": target}).get_data(as_text=True)
    assert next_of(page, "/account/security/totp/setup") == target
    response = client.post("/account/security/totp/setup", query_string={"next": target},
                           data={"csrf_token": csrf_token(client, "/account/security")})
    enrol_url = response.headers["Location"]
    assert enrol_url.startswith("/account/security/totp/enrol?next=")
    page = client.post(enrol_url, data={"csrf_token": csrf_token(client, enrol_url),
                                        "code": fresh_code(app, citizen)})
    assert page.status_code == 200
    # The confirming code was the second factor of this session: no step-up page in between.
    links = [html.unescape(link) for link in LINK_RE.findall(page.get_data(as_text=True))]
    assert target in links
    assert not any(link.startswith("/account/security/step-up") for link in links)
    with app.app_context():
        [session] = db.session.scalars(select(UserSession)).all()
        assert session.amr == "pwd otp mfa"


def next_of(page: str, path: str) -> str:
    """The `next` carried by the page's link or form to `path`."""
    link = next(html.unescape(link) for link in LINK_RE.findall(page) if link.startswith(path + "?"))
    return parse_qs(urlsplit(link).query)["next"][0]


def test_enrolment_offers_a_tappable_otpauth_link_with_the_key(app, citizen):
    """On a phone the QR code cannot be scanned by that phone: a link opens the app."""
    client = signed_in(app, citizen)
    begin_setup(client)
    body = client.get("/account/security/totp/enrol").get_data(as_text=True)
    link = html.unescape(re.search(r'href="(otpauth://[^"]+)"', body).group(1))
    parts = urlsplit(link)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    query = parse_qs(parts.query)
    assert query["secret"] == [secret(app, citizen)] and query["issuer"] == ["PostID"]


def test_recovery_codes_page_offers_copy_and_print_and_prints_without_script(app, citizen):
    client = signed_in(app, citizen)
    begin_setup(client)
    token = csrf_token(client, "/account/security/totp/enrol")
    page = client.post("/account/security/totp/enrol",
                       data={"csrf_token": token, "code": fresh_code(app, citizen)})
    body = page.get_data(as_text=True)
    assert len(CODE_RE.findall(body)) == 10
    assert 'id="recovery-codes"' in body
    # Buttons (copy, print) come with the script, hidden until it runs; the hint covers no-JS.
    assert re.search(r"<button[^>]*data-copy[^>]*hidden", body)
    assert re.search(r"<button[^>]*data-print[^>]*hidden", body)
    assert '<script src="/static/js/recovery-codes.js" defer></script>' in body
    assert "lệnh In của trình duyệt: chỉ các mã được in ra" in body
    assert page.headers["Cache-Control"] == "no-store"
    with client.get("/static/js/recovery-codes.js") as script:
        assert script.status_code == 200 and "clipboard" in script.get_data(as_text=True)
    with client.get("/static/css/site.css") as css:
        assert ".no-print { display: none; }" in css.get_data(as_text=True)
