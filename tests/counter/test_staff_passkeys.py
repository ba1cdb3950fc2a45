"""Staff passkeys (docs/architecture.md §8): added at /counter/security and used as the console
sign-in's second step next to the TOTP code, through HTTP with real attestation and assertion
bytes from a software authenticator checked by py_webauthn. The office setting that requires
them: test_staff_passkeys_required.py."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from idp.extensions import db
from idp.models import StaffSession
from idp.models.base import utcnow
from idp.services.staff.sessions import COOKIE_NAME
from tests.conftest import csrf_token
from tests.counter.helpers import console_client
from tests.counter.staff_passkeys import (
    add_passkey,
    audited,
    finish_passkey_step,
    passkey_step,
    password_step,
    start_passkey_step,
    stored,
    verified_sessions,
    with_passkey,
)
from tests.counter.staff_signin import code_at
from tests.counter.staff_signin import make_staff as make
from tests.passkey_authenticator import SoftAuthenticator
from tests.staff_factories import enrolled_clerk, enrolled_supervisor

# --- adding, listing, removing -----------------------------------------------------------------


def test_a_staff_member_adds_a_passkey(app, office):
    staff_id = make(app, enrolled_clerk, office)
    client = console_client(app, staff_id)
    page = client.get("/counter/security")
    assert page.status_code == 200 and "Bạn chưa có khóa truy cập nào." in page.get_data(as_text=True)
    device = SoftAuthenticator()
    response = add_passkey(client, device)
    assert response.status_code == 200
    assert response.json == {"redirect": "/counter/security?passkey=added"}
    [passkey] = stored(app)
    assert passkey.staff_id == staff_id and passkey.account_id is None
    assert passkey.credential_id == device.credential_id and passkey.name == "Khóa ở quầy 2"
    assert len(passkey.user_handle) == 32
    [event] = audited(app, "staff.mfa.enrol")
    assert event["method"] == "passkey" and event["passkey_id"] == passkey.id
    listed = client.get("/counter/security?passkey=added").get_data(as_text=True)
    assert "Khóa ở quầy 2" in listed and "Đã thêm khóa truy cập của bạn." in listed


def test_adding_needs_a_recent_second_factor_in_this_session(app, office):
    staff_id = make(app, enrolled_clerk, office)
    client = console_client(app, staff_id)
    with app.app_context():
        db.session.execute(update(StaffSession).values(
            mfa_verified_at=utcnow() - timedelta(minutes=16)))
        db.session.commit()
    refused = add_passkey(client, SoftAuthenticator())
    assert refused.status_code == 403 and refused.json["error"] == "staff.passkey_reauthenticate"
    assert stored(app) == []
    page = client.get("/counter/security").get_data(as_text=True)
    assert "data-passkey-register" not in page and "Đăng xuất và đăng nhập lại" in page


def test_a_registration_from_another_origin_is_refused_and_audited(app, office):
    staff_id = make(app, enrolled_clerk, office)
    client = console_client(app, staff_id)
    refused = add_passkey(client, SoftAuthenticator(), origin="https://postid.example.net")
    assert refused.status_code == 400 and refused.json["error"] == "staff.passkey_failed"
    assert stored(app) == []
    [event] = audited(app, "staff.mfa.failure")
    assert event["step"] == "enrol" and event["reason"] == "invalid_response"


def test_removing_a_passkey(app, office):
    staff_id = make(app, enrolled_clerk, office)
    other_id = make(app, enrolled_supervisor, office)
    with_passkey(app, staff_id)
    with_passkey(app, other_id)
    mine, theirs = stored(app)
    client = console_client(app, staff_id)
    token = csrf_token(client, "/counter/security")
    foreign = client.post(f"/counter/security/passkeys/{theirs.id}/remove",
                          data={"csrf_token": token})
    assert foreign.status_code == 404 and len(stored(app)) == 2
    no_csrf = client.post(f"/counter/security/passkeys/{mine.id}/remove")
    assert no_csrf.status_code == 400 and len(stored(app)) == 2
    done = client.post(f"/counter/security/passkeys/{mine.id}/remove", data={"csrf_token": token})
    assert done.status_code == 302
    assert done.headers["Location"] == "/counter/security?passkey=removed"
    assert [p.staff_id for p in stored(app)] == [other_id]
    [event] = audited(app, "staff.mfa.remove")
    assert event == {"method": "passkey", "passkey_id": mine.id}


# --- the second step -----------------------------------------------------------------------------

def test_a_passkey_completes_the_second_step(app, office):
    staff_id = make(app, enrolled_clerk, office)
    device = with_passkey(app, staff_id)
    earlier = {s.id for s in verified_sessions(app)}  # the one that added the passkey
    client = app.test_client()
    assert password_step(client).headers["Location"] == "/counter/mfa"
    page = client.get("/counter/mfa").get_data(as_text=True)
    assert "data-passkey-second-factor" in page and 'name="code"' in page  # both offered
    pending_token = client.get_cookie(COOKIE_NAME, path="/counter").value
    response, _, _ = passkey_step(client, device)
    assert response.status_code == 200 and response.json == {"redirect": "/counter/"}
    new_token = client.get_cookie(COOKIE_NAME, path="/counter").value
    assert new_token != pending_token  # a new console token, as after a code
    assert client.get("/counter/").status_code == 200
    [session] = [s for s in verified_sessions(app) if s.staff_id == staff_id and s.id not in earlier]
    assert session.channel == "web"
    success = audited(app, "staff.login.success")[-1]
    assert success["method"] == "passkey"
    assert stored(app)[0].last_used_at is not None


def test_the_passkey_step_returns_to_the_page_asked_for(app, office):
    staff_id = make(app, enrolled_clerk, office)
    device = with_passkey(app, staff_id)
    client = app.test_client()
    password_step(client)
    started = start_passkey_step(client)
    answer = device.get(started.json["publicKey"])
    done = finish_passkey_step(client, started.json["ceremony"], answer,
                               next="/counter/queue")
    assert done.json == {"redirect": "/counter/queue"}


def test_a_wrong_or_replayed_passkey_answer_is_refused_like_a_wrong_code(app, office):
    staff_id = make(app, enrolled_clerk, office)
    device = with_passkey(app, staff_id)
    stranger = SoftAuthenticator()  # a passkey that is not the staff member's
    client = app.test_client()
    password_step(client)
    wrong, _, _ = passkey_step(client, device, origin="https://postid.example.net")
    assert wrong.status_code == 400 and wrong.json["error"] == "staff.passkey_failed"
    started = start_passkey_step(client)
    unknown = finish_passkey_step(client, started.json["ceremony"],
                                  stranger.get(started.json["publicKey"]))
    assert unknown.status_code == 400
    good, ceremony, answer = passkey_step(client, device)
    assert good.status_code == 200
    # Someone who caught the answer replays it in a sign-in of their own with the password.
    thief = app.test_client()
    password_step(thief)
    replay = finish_passkey_step(thief, ceremony, answer)
    assert replay.status_code == 400 and replay.json["error"] == "staff.passkey_failed"
    assert thief.get("/counter/").headers["Location"] == "/counter/mfa"
    reasons = [e["reason"] for e in audited(app, "staff.mfa.failure")]
    assert reasons == ["invalid_response", "unknown_passkey", "no_ceremony"]
    assert all(e["method"] == "passkey" for e in audited(app, "staff.mfa.failure"))


def test_a_spent_ceremony_cannot_be_answered_again(app, office):
    staff_id = make(app, enrolled_clerk, office)
    device = with_passkey(app, staff_id)
    earlier = {s.id for s in verified_sessions(app)}  # the one that added the passkey
    client = app.test_client()
    password_step(client)
    started = start_passkey_step(client)
    good = device.get(started.json["publicKey"])
    bad = device.get(started.json["publicKey"], rp_id="postid.example.net")
    assert finish_passkey_step(client, started.json["ceremony"], bad).status_code == 400
    replay = finish_passkey_step(client, started.json["ceremony"], good)
    assert replay.status_code == 400 and replay.json["error"] == "staff.passkey_failed"
    assert [e["reason"] for e in audited(app, "staff.mfa.failure")] == [
        "invalid_response", "ceremony_spent"]
    assert [s for s in verified_sessions(app) if s.staff_id == staff_id
            and s.id not in earlier] == []


def test_passkey_failures_count_with_wrong_codes(app, settings, office):
    staff_id = make(app, enrolled_clerk, office)
    device = with_passkey(app, staff_id)
    client = app.test_client()
    password_step(client)
    for _ in range(settings.login_free_failures + 1):
        assert passkey_step(client, device, origin="https://evil.example")[0].status_code == 400
    throttled, _, _ = passkey_step(client, device)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    code = client.post("/counter/mfa", data={"csrf_token": csrf_token(client, "/counter/mfa"),
                                             "code": code_at()})
    assert code.status_code == 429  # one budget for codes and passkeys


def test_the_passkey_step_needs_a_pending_sign_in_and_a_passkey(app, office):
    staff_id = make(app, enrolled_clerk, office)
    client = app.test_client()
    password_step(client)
    none_yet = start_passkey_step(client)
    assert none_yet.status_code == 400 and none_yet.json["error"] == "staff.passkey_failed"
    assert "data-passkey-second-factor" not in client.get("/counter/mfa").get_data(as_text=True)
    signed_in = console_client(app, staff_id)  # already past the second step
    token = csrf_token(signed_in, "/counter/security")
    past = signed_in.post("/counter/mfa/passkey/options", json={}, headers={"X-CSRFToken": token})
    assert past.status_code == 302 and past.headers["Location"] == "/counter/"
    assert app.test_client().post("/counter/mfa/passkey", json={}).status_code == 400  # no CSRF
