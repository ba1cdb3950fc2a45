"""Adding, renaming and removing passkeys at /account/security, and what deletion and a
password reset do to them (docs/architecture.md §7), through HTTP with real attestation bytes
from a software authenticator (tests/passkey_authenticator.py) checked by py_webauthn."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update

from idp.extensions import db
from idp.models import Account, UserSession
from idp.models.base import utcnow
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen, second_citizen
from tests.passkey_authenticator import SoftAuthenticator
from tests.web.mfa.passkey_helpers import (
    SESSION_COOKIE,
    add_passkey,
    audited,
    passkey_alone,
    post_json,
    session_amr,
    signed_in,
    stored,
)


@pytest.fixture
def citizen(app: Flask) -> int:
    with app.app_context():
        return active_citizen().id


# --- adding a passkey ------------------------------------------------------------------------

def test_added_passkey_is_listed_and_raises_the_session(app, citizen):
    client = signed_in(app)
    device = SoftAuthenticator()
    response = add_passkey(client, device)
    assert response.status_code == 200 and response.json == {
        "redirect": "/account/security?passkey=added"}
    [passkey] = stored(app)
    assert passkey.account_id == citizen and passkey.name == "Điện thoại của tôi"
    assert passkey.credential_id == device.credential_id and not passkey.backup_eligible
    assert len(passkey.user_handle) == 32 and b"001099012345" not in passkey.user_handle
    assert passkey.transports == "internal hybrid" and passkey.last_used_at is None
    # Proven in this session, like the code that confirms TOTP: no second step a moment later.
    assert session_amr(app, client) == "pwd mfa"  # registering is not a phishing-resistant proof
    page = client.get("/account/security").get_data(as_text=True)
    assert "Điện thoại của tôi" in page and "Chưa được sử dụng." in page  # "Not used yet."


def test_a_second_passkey_shares_the_user_handle(app, citizen):
    client = signed_in(app)
    first, second = SoftAuthenticator(), SoftAuthenticator(synced=True)
    assert add_passkey(client, first).status_code == 200
    assert add_passkey(client, second, name="").status_code == 200
    one, two = stored(app)
    assert one.user_handle == two.user_handle and two.backup_eligible and two.name == "Passkey (synced)"


@pytest.mark.parametrize("bad", [{"origin": "http://localhost.evil.example"},
                                 {"origin": "https://localhost"}, {"rp_id": "evil.example"}])
def test_registration_from_another_origin_or_rp_id_stores_nothing(app, citizen, bad):
    client = signed_in(app)
    response = add_passkey(client, SoftAuthenticator(), **bad)
    assert response.status_code == 400 and response.json["error"] == "passkey.failed"
    assert stored(app) == [] and session_amr(app, client) == "pwd"
    assert audited(app, "account.mfa.failure")[-1]["reason"] == "invalid_response"


def test_a_registration_answer_cannot_be_replayed(app, citizen):
    client = signed_in(app)
    device = SoftAuthenticator()
    started = post_json(client, "/account/security/passkeys/options", {}, "/account/security")
    body = {"ceremony": started.json["ceremony"], "credential": device.create(started.json["publicKey"])}
    assert post_json(client, "/account/security/passkeys", body, "/account/security").status_code == 200
    again = post_json(client, "/account/security/passkeys", body, "/account/security")
    assert again.status_code == 400 and again.json["error"] == "passkey.failed"
    assert len(stored(app)) == 1


def test_adding_needs_a_recent_sign_in_and_then_the_second_factor(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    with app.app_context():  # a session that has not proven the factor the account now has
        db.session.execute(update(UserSession).values(amr="pwd"))
        db.session.commit()
    started = post_json(client, "/account/security/passkeys/options", {}, "/account/security")
    assert started.status_code == 403 and started.json["error"] == "passkey.step_up"
    with app.app_context():
        db.session.execute(update(UserSession).values(
            amr="pwd hwk user mfa", authenticated_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    started = post_json(client, "/account/security/passkeys/options", {}, "/account/security")
    assert started.status_code == 403 and started.json["error"] == "passkey.reauthenticate"
    assert len(stored(app)) == 1


def test_adding_needs_a_session(app, citizen):
    client = app.test_client()
    response = post_json(client, "/account/security/passkeys/options", {})
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_json_without_the_csrf_token_is_refused(app, citizen):
    client = signed_in(app)
    assert client.post("/account/security/passkeys/options", json={}).status_code == 400
    assert client.post("/login/passkey/options", json={}).status_code == 400

# --- removal ---------------------------------------------------------------------------------------

def remove(client: FlaskClient, passkey_id: int, password: str):
    return client.post(f"/account/security/passkeys/{passkey_id}/remove",
                       data={"csrf_token": csrf_token(client, "/account/security"),
                             "password": password})


def test_removal_needs_the_password(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    [passkey] = stored(app)
    assert remove(client, passkey.id, "wrong password here").status_code == 401
    assert len(stored(app)) == 1
    assert remove(client, passkey.id + 1000, PASSWORD).status_code == 404
    response = remove(client, passkey.id, PASSWORD)
    assert response.status_code == 302 and response.headers["Location"].endswith("passkey=removed")
    assert stored(app) == [] and audited(app, "account.mfa.remove")[-1]["method"] == "passkey"


def test_the_last_factor_goes_only_with_a_session_that_proved_one(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    with app.app_context():
        db.session.execute(update(UserSession).values(amr="pwd"))
        db.session.commit()
    [passkey] = stored(app)
    assert remove(client, passkey.id, PASSWORD).status_code == 403
    assert len(stored(app)) == 1


def test_another_citizens_passkey_cannot_be_touched(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    [passkey] = stored(app)
    with app.app_context():
        second_citizen()
    other = app.test_client()
    other.post("/login", data={"csrf_token": csrf_token(other), "identifier": "079303001234",
                               "password": PASSWORD})
    assert remove(other, passkey.id, PASSWORD).status_code == 404
    response = other.post(f"/account/security/passkeys/{passkey.id}/name",
                          data={"csrf_token": csrf_token(other, "/account/security"), "name": "x"})
    assert response.status_code == 404 and stored(app)[0].name == "Điện thoại của tôi"


def test_rename(app, citizen):
    client = signed_in(app)
    assert add_passkey(client, SoftAuthenticator()).status_code == 200
    [passkey] = stored(app)
    response = client.post(f"/account/security/passkeys/{passkey.id}/name",
                           data={"csrf_token": csrf_token(client, "/account/security"),
                                 "name": "  Khóa   USB  "})
    assert response.status_code == 302 and stored(app)[0].name == "Khóa USB"
    response = client.post(f"/account/security/passkeys/{passkey.id}/name",
                           data={"csrf_token": csrf_token(client, "/account/security"),
                                 "name": "x" * 65})
    assert response.status_code == 400 and stored(app)[0].name == "Khóa USB"

# --- recovery and deletion ---------------------------------------------------------------------

def test_deleting_the_account_erases_its_passkeys(app, citizen):
    client = signed_in(app)
    device = SoftAuthenticator()
    assert add_passkey(client, device).status_code == 200
    response = client.post("/account/delete", data={
        "csrf_token": csrf_token(client, "/account/delete"), "password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302 and stored(app) == []
    assert passkey_alone(app, device)[1].status_code == 400


def test_a_phone_reset_ends_every_session_and_keeps_the_passkeys(app, citizen):
    from tests.web.recovery.test_recovery import NEW_PASSWORD, latest_code, start, submit_code

    with app.app_context():
        db.session.get(Account, citizen).phone_verified_at = utcnow()
        db.session.commit()
    owner = signed_in(app)
    device = SoftAuthenticator()
    assert add_passkey(owner, device).status_code == 200
    stranger = app.test_client()
    start(stranger)
    assert submit_code(stranger, latest_code(app)).status_code == 200
    assert session_amr(app, owner) is None  # every session ended
    assert len(stored(app)) == 1  # no factor removed: the new password alone is not enough
    response = stranger.post("/login", data={"csrf_token": csrf_token(stranger),
                                             "identifier": "001099012345", "password": NEW_PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == "/login/verify"
    assert stranger.get_cookie(SESSION_COOKIE) is None
    assert passkey_alone(app, device)[1].status_code == 200


def test_the_activity_history_names_passkeys(app, citizen):
    client = signed_in(app)
    device = SoftAuthenticator()
    assert add_passkey(client, device).status_code == 200
    passkey_alone(app, device)
    passkey_alone(app, device, origin="http://evil.example")
    page = client.get("/account/activity").get_data(as_text=True)
    # "Passkey added", "Signed in with a passkey", "Failed sign-in attempt with a passkey"
    for line in ("Đã thêm khóa truy cập", "Đăng nhập bằng khóa truy cập",
                 "Đăng nhập bằng khóa truy cập không thành công"):
        assert line in page, line


def test_the_data_export_lists_passkeys_without_keys(app, citizen):
    client = signed_in(app)
    device = SoftAuthenticator()
    assert add_passkey(client, device).status_code == 200
    response = client.post("/account/data", data={"csrf_token": csrf_token(client, "/account/data")})
    assert response.status_code == 200, response.status_code
    exported = response.get_json(force=True)
    [row] = exported["passkeys"]
    assert row["name"] == "Điện thoại của tôi" and row["synced"] is False
    assert set(row) == {"name", "synced", "created_at", "last_used_at"}
