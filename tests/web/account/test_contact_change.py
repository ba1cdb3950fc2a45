"""Account page: changing the phone and the e-mail address, re-confirmed (contact_change)."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AuditEvent, AuditTag
from idp.models.notification import OutboxMessage
from idp.models.registration import OtpChallenge, OtpPurpose
from tests.conftest import csrf_token
from tests.factories import PASSWORD, second_citizen
from tests.oidc.flow import citizen, sign_in

NEW_PHONE = "0987654321"
NEW_E164 = "+84987654321"
OLD_E164 = "+84912345678"
LINK_RE = re.compile(r"/account/contact/email/confirm/([A-Za-z0-9_\-]+)")


def _signed_in(app: Flask, client: FlaskClient) -> int:
    account_id = citizen(app)
    sign_in(client)
    return account_id


def _account(app: Flask, account_id: int) -> Account:
    with app.app_context():
        account = db.session.get(Account, account_id)
        db.session.expunge(account)
        return account


def _messages(app: Flask, template: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.template == template)
                                       .order_by(OutboxMessage.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def _code(app: Flask) -> str:
    body = _messages(app, "account.change_phone_code")[-1].body
    match = re.search(r"\b(\d{6})\b", body)
    assert match, body
    return match.group(1)


def _request_phone(client: FlaskClient, phone: str = NEW_PHONE, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return client.post("/account/contact/phone", data={
        "csrf_token": csrf_token(client, "/account/contact/phone"), "phone": phone,
        "current_password": password})


def _confirm(client: FlaskClient, code: str):  # type: ignore[no-untyped-def]
    return client.post("/account/contact/phone/confirm", data={
        "csrf_token": csrf_token(client, "/account/contact/phone"), "code": code})


def _contact_audits(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.tag == AuditTag.ACCOUNT_CONTACT_CHANGE.value))


def test_pages_require_sign_in_and_render(app: Flask, client: FlaskClient) -> None:
    for path in ("/account/contact/phone", "/account/contact/phone/confirm", "/account/contact/email",
                 "/account/contact/email/confirm/abc"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    _signed_in(app, client)
    page = client.get("/account").get_data(as_text=True)
    assert "/account/contact/phone" in page and "/account/contact/email" in page
    assert client.get("/account/contact/phone").status_code == 200
    assert client.get("/account/contact/email").status_code == 200
    # Nothing pending: the confirm page sends back to the form.
    assert client.get("/account/contact/phone/confirm").status_code == 302


def test_phone_change_happy_path(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    response = _request_phone(client)
    assert response.status_code == 303 and response.headers["Location"].endswith("/account/contact/phone/confirm")
    sent = _messages(app, "account.change_phone_code")
    assert len(sent) == 1 and sent[0].recipient == NEW_E164
    assert _account(app, account_id).phone == OLD_E164  # not before confirmation
    page = client.get("/account/contact/phone/confirm").get_data(as_text=True)
    assert "0987 *** 321" in page
    response = _confirm(client, _code(app))
    assert response.status_code == 303
    account = _account(app, account_id)
    assert account.phone == NEW_E164 and account.phone_verified_at is not None
    notice = _messages(app, "account.phone_changed")
    assert len(notice) == 1 and notice[0].recipient == OLD_E164
    assert _contact_audits(app) == 2  # requested, confirmed
    # The new phone signs in.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    sign_in(client, identifier=NEW_PHONE)


def test_wrong_password_sends_nothing(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    response = _request_phone(client, password="not my password")
    assert response.status_code == 400
    assert "This is not your current password." in response.get_data(as_text=True) or \
        "mật khẩu" in response.get_data(as_text=True)
    assert _messages(app, "account.change_phone_code") == []
    with app.app_context():
        assert db.session.scalar(select(func.count(OtpChallenge.id))) == 0
    assert _account(app, account_id).phone == OLD_E164
    # Bad numbers and missing fields are form errors, not 500s.
    for phone in ("", "abc", "0241234567", "9" * 5000, "+1 202 555 0100", "\x00"):
        assert _request_phone(client, phone=phone).status_code == 400
    assert _messages(app, "account.change_phone_code") == []


def test_taken_phone_answers_the_same_without_usable_code(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    with app.app_context():
        other = second_citizen()
        other_phone = other.phone
    local = "0" + other_phone[3:]
    free = _request_phone(client, phone=NEW_PHONE)
    taken = _request_phone(client, phone=local)
    assert free.status_code == taken.status_code == 303
    assert free.headers["Location"] == taken.headers["Location"]
    # Only the free number got an SMS; the taken one a challenge no code can match.
    assert [m.recipient for m in _messages(app, "account.change_phone_code")] == [NEW_E164]
    page = client.get("/account/contact/phone/confirm")
    assert page.status_code == 200
    with app.app_context():
        challenge = db.session.scalars(select(OtpChallenge).order_by(OtpChallenge.id.desc())).first()
        assert challenge.destination == other_phone and challenge.consumed_at is None
    assert _confirm(client, _code(app)).status_code == 400  # the earlier code was superseded
    assert _account(app, account_id).phone == OLD_E164


def test_replayed_and_expired_codes_refused(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    _request_phone(client)
    code = _code(app)
    assert _confirm(client, code).status_code == 303
    assert _confirm(client, code).status_code == 400  # single use
    # Expired.
    _request_phone(client, phone="0911222333")
    code = _code(app)
    with app.app_context():
        challenge = db.session.scalars(select(OtpChallenge).order_by(OtpChallenge.id.desc())).first()
        challenge.expires_at = challenge.created_at - timedelta(seconds=1)
        db.session.commit()
    assert _confirm(client, code).status_code == 400
    assert _account(app, account_id).phone == NEW_E164


def test_five_wrong_codes_kill_the_challenge(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    _request_phone(client)
    code = _code(app)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        assert _confirm(client, wrong).status_code == 400
    assert _confirm(client, code).status_code == 400
    assert _account(app, account_id).phone == OLD_E164
    # Garbage and over-long codes are refused without a 500.
    for garbage in ("", "x" * 5000, "\u0000", "١٢٣٤٥٦"):
        assert _confirm(client, garbage).status_code == 400


def test_resend_has_back_off(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    _request_phone(client)
    token = csrf_token(client, "/account/contact/phone/confirm")
    response = client.post("/account/contact/phone/confirm", data={"csrf_token": token, "action": "resend"})
    assert response.status_code == 429 and "Retry-After" in response.headers
    with app.app_context():
        challenge = db.session.scalars(select(OtpChallenge)).one()
        challenge.last_sent_at = challenge.last_sent_at - timedelta(minutes=5)
        db.session.commit()
    response = client.post("/account/contact/phone/confirm", data={"csrf_token": token, "action": "resend"})
    assert response.status_code == 303
    assert len(_messages(app, "account.change_phone_code")) == 2


def _email_link(app: Flask) -> str:
    body = _messages(app, "account.change_email_link")[-1].body
    match = LINK_RE.search(body)
    assert match, body
    return match.group(0)


def _request_email(client: FlaskClient, **data: str):  # type: ignore[no-untyped-def]
    return client.post("/account/contact/email", data={
        "csrf_token": csrf_token(client, "/account/contact/email"), "current_password": PASSWORD, **data})


def test_email_change_and_reused_link(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    response = _request_email(client, email="  an.moi@Example.VN ")
    assert response.status_code == 303
    sent = _messages(app, "account.change_email_link")
    assert len(sent) == 1 and sent[0].recipient == "an.moi@example.vn"
    assert _account(app, account_id).email == "an@example.vn"  # not before confirmation
    link = _email_link(app)
    page = client.get(link)
    assert page.status_code == 200
    assert _account(app, account_id).email == "an@example.vn"  # GET changes nothing
    token = csrf_token(client, link)
    assert client.post(link).status_code == 400  # no CSRF token
    assert client.post(link, data={"csrf_token": token}).status_code == 200
    account = _account(app, account_id)
    assert account.email == "an.moi@example.vn" and account.email_verified_at is not None
    assert client.post(link, data={"csrf_token": token}).status_code == 404  # used
    assert client.get(link).status_code == 404
    assert client.get("/account/contact/email/confirm/" + "x" * 5000).status_code == 404
    assert len(_messages(app, "account.email_changed")) == 1


def test_email_link_of_another_account_is_refused(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    _request_email(client, email="an.moi@example.vn")
    link = _email_link(app)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    with app.app_context():
        second_citizen()
    sign_in(client, identifier="079303001234")
    assert client.get(link).status_code == 404


def test_email_removal_and_errors(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    assert _request_email(client, email="").status_code == 400  # neither address nor removal
    assert _request_email(client, email="not an address").status_code == 400
    assert _request_email(client, email="a" * 5000 + "@example.vn").status_code == 400
    wrong = client.post("/account/contact/email", data={
        "csrf_token": csrf_token(client, "/account/contact/email"), "remove": "y",
        "current_password": "wrong password"})
    assert wrong.status_code == 400 and _account(app, account_id).email == "an@example.vn"
    assert _messages(app, "account.change_email_link") == []
    assert _request_email(client, remove="y").status_code == 303
    account = _account(app, account_id)
    assert account.email is None and account.email_verified_at is None
    assert _request_email(client, remove="y").status_code == 400  # nothing left to remove


def test_csrf_required_and_get_changes_nothing(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    assert client.post("/account/contact/phone", data={"phone": NEW_PHONE,
                                                       "current_password": PASSWORD}).status_code == 400
    assert client.post("/account/contact/email", data={"remove": "y",
                                                       "current_password": PASSWORD}).status_code == 400
    assert client.get("/account/contact/phone?phone=0987654321&current_password=x").status_code == 200
    _request_phone(client)
    code = _code(app)
    assert client.post("/account/contact/phone/confirm", data={"code": code}).status_code == 400
    assert client.get(f"/account/contact/phone/confirm?code={code}").status_code == 200
    account = _account(app, account_id)
    assert account.phone == OLD_E164 and account.email == "an@example.vn"
    with app.app_context():
        assert db.session.scalars(select(OtpChallenge).where(
            OtpChallenge.purpose == OtpPurpose.CHANGE_PHONE)).one().consumed_at is None


def test_an_unconfirmed_address_is_marked_and_can_be_confirmed(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)  # the factory's address was never confirmed
    page = client.get("/account").get_data(as_text=True)
    assert 'class="badge email-unconfirmed"' in page and "Chưa xác nhận" in page
    form = client.get("/account/contact/email").get_data(as_text=True)
    assert 'class="alert alert-info email-unconfirmed"' in form
    verify = "/account/contact/email/confirm-address"
    assert client.post(verify, data={"csrf_token": csrf_token(client, verify)}).status_code == 303
    [sent] = _messages(app, "account.confirm_email_link")
    assert sent.recipient == "an@example.vn"
    link = LINK_RE.search(sent.body).group(0)
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 200
    assert _account(app, account_id).email_verified_at is not None
    assert _messages(app, "account.email_changed") == []  # the same address: no change to report
    page = client.get("/account").get_data(as_text=True)
    assert "email-unconfirmed" not in page and "Chưa xác nhận" not in page
    assert "email-unconfirmed" not in client.get("/account/contact/email").get_data(as_text=True)
