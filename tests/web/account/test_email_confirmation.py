"""Confirming the e-mail address the account already has is its own action, not a change; a
NEW address waiting for its link is shown on the account page, with resend and cancel."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from idp.extensions import db
from idp.i18n import LOCALE_COOKIE
from idp.models import Account, OutboxMessage
from idp.models.base import utcnow
from idp.models.registration import OtpChallenge, OtpPurpose
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.oidc.flow import citizen, sign_in

VERIFY = "/account/contact/email/confirm-address"
PENDING = "/account/contact/email/pending"
LINK_RE = re.compile(r"/account/contact/email/confirm/[A-Za-z0-9_\-]+")
LINE_RE = re.compile(r'<span class="activity-what">(.*?)</span>')


def _signed_in(app: Flask, client: FlaskClient, locale: str = "en") -> int:
    account_id = citizen(app)  # an@example.vn, never confirmed
    sign_in(client)
    client.set_cookie(LOCALE_COOKIE, locale)
    return account_id


def _mails(app: Flask, template: str) -> list[tuple[str, str]]:
    with app.app_context():
        return [(m.recipient, m.body) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id))]


def _link(body: str) -> str:
    match = LINK_RE.search(body)
    assert match, body
    return match.group(0)


def _lines(client: FlaskClient) -> list[str]:
    page = client.get("/account/activity")
    assert page.status_code == 200
    return [unescape(line) for line in LINE_RE.findall(page.get_data(as_text=True))]


def _account(app: Flask, account_id: int) -> Account:
    with app.app_context():
        account = db.session.get(Account, account_id)
        db.session.expunge(account)
        return account


def _back_off_passed(app: Flask) -> None:
    with app.app_context():
        db.session.execute(update(OtpChallenge).where(OtpChallenge.purpose == OtpPurpose.CONFIRM_EMAIL)
                           .values(last_sent_at=utcnow() - timedelta(hours=1)))
        db.session.commit()


def test_confirming_the_current_address_is_not_worded_as_a_change(app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    account_page = client.get("/account").get_data(as_text=True)
    assert f'href="{VERIFY}">Confirm it</a>' in account_page
    page = client.get(VERIFY)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h1>Confirm your e-mail address</h1>" in text and "Send the link again" in text
    assert "Change e-mail address" not in text and 'name="current_password"' not in text
    assert client.post(VERIFY).status_code == 400  # no CSRF token: nothing sent
    assert _mails(app, "account.confirm_email_link") == []

    sent = client.post(VERIFY, data={"csrf_token": csrf_token(client, VERIFY)})
    assert sent.status_code == 303 and sent.headers["Location"] == VERIFY + "?sent=1"
    after = client.get(VERIFY).get_data(as_text=True)  # without ?sent: no message
    assert "We sent a link" not in after
    assert "We sent a link to an@example.vn." in client.get(VERIFY + "?sent=1").get_data(as_text=True)
    [(recipient, body)] = _mails(app, "account.confirm_email_link")
    assert recipient == "an@example.vn" and "Để xác nhận địa chỉ e-mail này" in body  # account.locale

    link = _link(body)
    done = client.post(link, data={"csrf_token": csrf_token(client, link)})
    assert done.status_code == 200
    assert "Your e-mail address an@example.vn is confirmed." in done.get_data(as_text=True)
    assert _account(app, account_id).email_verified_at is not None
    assert _mails(app, "account.email_changed") == []  # nothing changed: no SMS about it
    lines = _lines(client)
    assert lines[:2] == ["E-mail address confirmed", "Asked to confirm the e-mail address"]
    assert not any("change" in line for line in lines)
    client.set_cookie(LOCALE_COOKIE, "vi")
    assert _lines(client)[:2] == ["Xác nhận địa chỉ e-mail", "Yêu cầu xác nhận địa chỉ e-mail"]
    # Confirmed now: the page sends nothing more and leads to the change page.
    assert client.get(VERIFY).headers["Location"] == "/account/contact/email"
    assert client.post(VERIFY, data={"csrf_token": csrf_token(client, "/account")}).status_code == 302
    assert len(_mails(app, "account.confirm_email_link")) == 1


def test_sending_the_link_again_waits_and_kills_the_older_link(app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    token = csrf_token(client, VERIFY)
    assert client.post(VERIFY, data={"csrf_token": token}).status_code == 303
    too_early = client.post(VERIFY, data={"csrf_token": token})
    assert too_early.status_code == 429 and int(too_early.headers["Retry-After"]) > 0
    assert "before asking for the link again" in too_early.get_data(as_text=True)
    assert len(_mails(app, "account.confirm_email_link")) == 1
    _back_off_passed(app)
    assert client.post(VERIFY, data={"csrf_token": token}).status_code == 303
    first, second = (_link(body) for _, body in _mails(app, "account.confirm_email_link"))
    assert first != second
    assert client.get(first).status_code == 404  # the older link died
    assert client.post(second, data={"csrf_token": csrf_token(client, second)}).status_code == 200


def test_the_current_address_typed_in_the_change_form_is_confirmed_not_changed(
        app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    form = client.get("/account/contact/email").get_data(as_text=True)
    assert 'value="an@example.vn"' not in form  # no longer the way to confirm it
    response = client.post("/account/contact/email", data={
        "csrf_token": csrf_token(client, "/account/contact/email"), "email": "an@example.vn",
        "current_password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == VERIFY + "?sent=1"
    assert _mails(app, "account.change_email_link") == []
    assert len(_mails(app, "account.confirm_email_link")) == 1
    assert _lines(client)[0] == "Asked to confirm the e-mail address"


def test_a_new_address_waiting_for_confirmation_is_shown_and_can_be_resent_or_cancelled(
        app: Flask, client: FlaskClient) -> None:
    account_id = _signed_in(app, client)
    form_page = "/account/contact/email"
    assert client.post(form_page, data={"csrf_token": csrf_token(client, form_page), "remove": "y",
                                        "current_password": PASSWORD}).status_code == 303
    assert client.post(form_page, data={"csrf_token": csrf_token(client, form_page),
                                        "email": "an.moi@example.vn",
                                        "current_password": PASSWORD}).status_code == 303
    assert "We sent a link to an.moi@example.vn." in client.get(form_page + "?sent=1").get_data(as_text=True)
    page = client.get("/account").get_data(as_text=True)
    assert "Not given" in page
    assert "New address an.moi@example.vn is waiting for confirmation" in page
    assert 'value="resend"' in page and 'value="cancel"' in page
    assert _account(app, account_id).email is None

    token = csrf_token(client, "/account")
    assert client.post(PENDING, data={"action": "resend"}).status_code == 400  # no CSRF token
    assert client.post(PENDING, data={"csrf_token": token, "action": "other"}).status_code == 400
    too_early = client.post(PENDING, data={"csrf_token": token, "action": "resend"})
    assert too_early.status_code == 429 and "Retry-After" in too_early.headers
    _back_off_passed(app)
    resent = client.post(PENDING, data={"csrf_token": token, "action": "resend"})
    assert resent.status_code == 303 and resent.headers["Location"] == form_page + "?sent=1"
    links = [(to, _link(body)) for to, body in _mails(app, "account.change_email_link")]
    assert [to for to, _ in links] == ["an.moi@example.vn"] * 2
    assert client.get(links[0][1]).status_code == 404 and client.get(links[1][1]).status_code == 200

    cancelled = client.post(PENDING, data={"csrf_token": token, "action": "cancel"})
    assert cancelled.status_code == 303
    assert "was cancelled" in client.get(cancelled.headers["Location"]).get_data(as_text=True)
    assert client.get(links[1][1]).status_code == 404  # the link died with the change
    assert "waiting for confirmation" not in client.get("/account").get_data(as_text=True)
    assert _account(app, account_id).email is None
    # The resend is in the history like the first request.
    assert _lines(client)[:4] == ["E-mail address change cancelled",
                                  "E-mail address change requested",
                                  "E-mail address change requested", "E-mail address removed"]


def _sms(app: Flask, template: str) -> list[tuple[str, str, str]]:
    with app.app_context():
        return [(m.channel.value, m.recipient, m.body) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.template == template).order_by(OutboxMessage.id))]


def test_confirming_the_current_address_tells_the_phone(app: Flask, client: FlaskClient) -> None:
    """No password is asked, and a confirmed address receives recovery links: the owner's
    phone hears of it, once, in the account's language."""
    account_id = _signed_in(app, client)
    with app.app_context():
        db.session.get(Account, account_id).locale = "en"
        db.session.commit()
    client.post(VERIFY, data={"csrf_token": csrf_token(client, VERIFY)})
    assert _sms(app, "account.email_confirmed") == []  # asking is not confirming
    [(_recipient, body)] = _mails(app, "account.confirm_email_link")
    link = _link(body)
    assert client.post(link, data={"csrf_token": csrf_token(client, link)}).status_code == 200
    assert _sms(app, "account.email_confirmed") == [(
        "sms", "+84912345678",
        "PostID: the e-mail address a***@example.vn was confirmed as a way to recover your "
        "account: a link sent to it can reset your password. If this was not you, remove it on "
        "your account page right away, or go to a post office with your ID card.")]
    assert _lines(client)[0] == "E-mail address confirmed"  # audited as before


def test_the_confirmation_notice_is_in_vietnamese_for_a_vietnamese_account(
        app: Flask, client: FlaskClient) -> None:
    _signed_in(app, client)
    client.post(VERIFY, data={"csrf_token": csrf_token(client, VERIFY)})
    link = _link(_mails(app, "account.confirm_email_link")[0][1])
    client.post(link, data={"csrf_token": csrf_token(client, link)})
    [(_channel, _recipient, body)] = _sms(app, "account.email_confirmed")
    assert body.startswith("PostID: địa chỉ e-mail a***@example.vn đã được xác nhận")
