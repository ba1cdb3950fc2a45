"""Sign-in, sign-out and session fixation, through HTTP as a browser does it."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import AuditEvent, UserSession
from idp.services.platform.secrets import token_hash
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen, disabled_citizen

GENERIC_VI = "Số định danh hoặc số điện thoại và mật khẩu không khớp"
SESSION_COOKIE = "postid_session"


@pytest.fixture
def citizen(app: Flask) -> int:
    with app.app_context():
        return active_citizen().id


def sign_in(client: FlaskClient, identifier: str, password: str, **extra: str):
    data = {"csrf_token": csrf_token(client), "identifier": identifier, "password": password, **extra}
    return client.post("/login", data=data)


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE)
    return cookie.value if cookie else None


def count(app: Flask, model: type) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("identifier", ["001099012345", "0912345678", "0912 345 678", "+84912345678"])
def test_sign_in_with_id_number_or_phone_opens_a_session(app, client, citizen, identifier):
    response = sign_in(client, identifier, PASSWORD)
    assert response.status_code == 302
    assert response.headers["Location"] == "/account"
    token = session_cookie(client)
    assert token and len(token) >= 43
    with app.app_context():
        stored = db.session.scalar(select(UserSession))
        assert stored.account_id == citizen
        assert stored.token_hash == token_hash(token) != token  # only the hash is stored
        assert stored.amr == "pwd"
    page = client.get("/account")
    assert page.status_code == 200
    assert "Nguyễn Văn An" in page.get_data(as_text=True)


def test_session_cookie_flags(client, citizen):
    response = sign_in(client, "001099012345", PASSWORD)
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Path=/" in header


@pytest.mark.parametrize(
    "identifier, password",
    [
        ("001099012345", "wrong password"),     # known account, wrong password
        ("0912345678", "wrong password"),       # known phone, wrong password
        ("079203001234", PASSWORD),             # unknown ID number
        ("0987654321", PASSWORD),               # unknown phone
        ("not an identifier", PASSWORD),        # neither form
    ],
)
def test_every_failure_gets_the_same_answer(app, client, citizen, identifier, password):
    response = sign_in(client, identifier, password)
    body = response.get_data(as_text=True)
    assert response.status_code == 401
    assert GENERIC_VI in body
    assert session_cookie(client) is None
    assert count(app, UserSession) == 0
    # What was typed comes back, the password never does.
    assert f'value="{identifier}"' in body
    assert password not in body.replace(identifier, "")


def test_disabled_account_gets_the_generic_failure(app, client):
    with app.app_context():
        disabled_citizen()
    response = sign_in(client, "001099012345", PASSWORD)
    assert response.status_code == 401
    assert GENERIC_VI in response.get_data(as_text=True)
    assert count(app, UserSession) == 0


def test_empty_fields_are_shown_next_to_the_field(client, citizen):
    data = {"csrf_token": csrf_token(client), "identifier": "", "password": ""}
    response = client.post("/login", data=data)
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="identifier-error"' in body and 'id="password-error"' in body
    assert 'aria-invalid="true"' in body


def test_oversized_input_is_refused_without_error(app, client, citizen):
    response = sign_in(client, "1" * 5000, "x" * 5000)
    assert response.status_code == 400
    assert count(app, UserSession) == 0


def test_failures_are_audited_with_ids_only(app, client, citizen):
    sign_in(client, "001099012345", "wrong password")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.tag == "account.login.failure"))
        assert event.account_id == citizen
        assert "001099012345" not in str(event.data)


def test_sign_out_revokes_the_session_and_clears_the_cookie(app, client, citizen):
    sign_in(client, "001099012345", PASSWORD)
    old_token = session_cookie(client)
    token = csrf_token(client, "/account")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")
    assert session_cookie(client) is None
    with app.app_context():
        stored = db.session.scalar(select(UserSession))
        assert stored.revoked_at is not None and stored.revoke_reason == "logout"
    # A copy of the old cookie is worthless now.
    client.set_cookie(SESSION_COOKIE, old_token)
    assert client.get("/account").status_code == 302
    assert "Bạn đã đăng xuất" in client.get("/login?signed_out=1").get_data(as_text=True)


def test_sign_out_is_not_possible_by_get(client, citizen):
    sign_in(client, "001099012345", PASSWORD)
    assert client.get("/logout").status_code == 405
    assert client.get("/account").status_code == 200


def test_planted_session_cookie_is_not_adopted(app, client, citizen):
    """Session fixation: a value set before sign-in never becomes the signed-in session."""
    planted = "attacker-chosen-value-0123456789abcdefghijklmnop"
    client.set_cookie(SESSION_COOKIE, planted)
    sign_in(client, "001099012345", PASSWORD)
    assert session_cookie(client) not in (None, planted)
    with app.app_context():
        planted_hash = token_hash(planted)
        assert db.session.scalar(select(UserSession).where(UserSession.token_hash == planted_hash)) is None


def test_signing_in_again_issues_a_new_session_and_revokes_the_old(app, client, citizen):
    sign_in(client, "001099012345", PASSWORD)
    first = session_cookie(client)
    sign_in(client, "0912345678", PASSWORD)
    second = session_cookie(client)
    assert first != second
    with app.app_context():
        old = db.session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(first)))
        assert old.revoked_at is not None and old.revoke_reason == "reauthenticated"
    client.set_cookie(SESSION_COOKIE, first)
    assert client.get("/account").status_code == 302


def test_form_cookie_is_renewed_at_sign_in(client, citizen):
    before = csrf_token(client)
    sign_in(client, "001099012345", PASSWORD)
    after = csrf_token(client, "/account")
    assert before != after


def test_account_page_requires_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/account"


def test_next_parameter_only_allows_local_paths(client, citizen):
    response = sign_in(client, "001099012345", PASSWORD, next="https://evil.example/")
    assert response.headers["Location"] == "/account"
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    response = sign_in(client, "001099012345", PASSWORD, next="/account?tab=1")
    assert response.headers["Location"] == "/account?tab=1"


def test_index_sends_visitors_to_sign_in(client):
    assert client.get("/").headers["Location"] == "/login"


def test_control_characters_in_the_user_agent_are_not_stored(app, client, citizen):
    data = {"csrf_token": csrf_token(client), "identifier": "001099012345", "password": PASSWORD}
    response = client.post("/login", data=data, headers={"User-Agent": "Mozilla\x00\x07evil"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(UserSession.user_agent)) == "Mozillaevil"


def test_a_signed_in_person_opening_login_sees_who_they_are(app, client, citizen):
    assert sign_in(client, "001099012345", PASSWORD).status_code == 302
    body = client.get("/login").get_data(as_text=True)
    assert "Bạn đang đăng nhập với tên Nguyễn Văn An." in body
    assert 'href="/account"' in body  # continue to the account
    assert 'action="/logout"' in body  # or sign out, to sign in as someone else
    assert 'name="password"' not in body
    # A local `next` is where "continue" goes.
    assert 'href="/account/security"' in client.get("/login?next=/account/security").get_data(as_text=True)
    # Signing out from there leads to the empty form.
    response = client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert response.headers["Location"] == "/login?signed_out=1"
    assert 'name="password"' in client.get("/login").get_data(as_text=True)


def test_inside_a_portal_sign_in_login_still_shows_the_form(app, client, citizen):
    """prompt=login, max_age: the portal asked for a fresh sign-in, so /login is the form."""
    assert sign_in(client, "001099012345", PASSWORD).status_code == 302
    body = client.get("/login", query_string={"next": "/authorize?client_id=x"}).get_data(as_text=True)
    assert 'name="password"' in body and 'action="/logout"' not in body
