"""Deleting an account keeps the privacy notice's promise (/privacy, “How long we keep it”): the
details typed at registration and the messages sent to the person do not outlive the account.
Through HTTP with the outbox twin (IDP_NOTIFIER=outbox), where a message is delivered when it
is written; the gateway, where it is delivered later, is in tests/services/test_retention.py."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import or_, select

from idp.extensions import db
from idp.models import Account, OutboxMessage, PendingRegistration
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.web.register.test_register import NEW, confirm, latest_code, register

PHONE = "+84983456789"
EMAIL = "ngoc@example.vn"
OTHER = {"national_id": "001099012345", "full_name": "Nguyễn Văn An", "birthdate": "1999-05-17",
         "gender": "male", "phone": "0912345678", "email": ""}


def _registered_and_signed_in(app: Flask):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert register(client, email=EMAIL).status_code == 303
    assert confirm(client, latest_code(app)).status_code == 303
    # The same person again from another browser (a duplicate), and someone else, unfinished.
    assert register(app.test_client()).status_code == 303
    assert register(app.test_client(), **OTHER).status_code == 303
    return client


def test_deleting_the_account_deletes_its_registrations_and_blanks_its_messages(app):
    client = _registered_and_signed_in(app)
    with app.app_context():
        account_id = db.session.scalar(select(Account.id))
        assert db.session.scalar(select(db.func.count()).select_from(PendingRegistration)) == 3
    response = client.post("/account/delete", data={
        "csrf_token": csrf_token(client, "/account/delete"), "password": PASSWORD, "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        left = db.session.scalars(select(PendingRegistration)).all()
        assert [r.national_id for r in left] == [OTHER["national_id"]]  # someone else's stays
        messages = db.session.scalars(select(OutboxMessage).where(or_(
            OutboxMessage.account_id == account_id, OutboxMessage.recipient != "+84912345678"))
        ).all()
        readable = [(m.template, m.recipient, m.body) for m in messages
                    if m.recipient or m.body]
        # Only the deletion notice, which the outbox twin delivers by keeping it.
        assert [template for template, _, _ in readable] == ["account.deleted"]
        for message in messages:
            if message.template != "account.deleted":
                assert (message.recipient, message.body, message.data) == ("", "", {"erased": True})
        erased = {m.template for m in messages if not m.recipient}
        assert {"register.code", "register.duplicate", "register.email_link"} <= erased
        for _template, _recipient, body in readable:
            assert NEW["national_id"] not in body and EMAIL not in body
        # The other person's code is theirs: untouched.
        other = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.recipient == "+84912345678"))
        assert other is not None and other.body


def test_the_deletion_notice_says_what_can_still_be_done(app):
    client = _registered_and_signed_in(app)
    client.post("/account/delete", data={
        "csrf_token": csrf_token(client, "/account/delete"), "password": PASSWORD, "confirm": "y"})
    with app.app_context():
        sms = db.session.scalar(select(OutboxMessage.body).where(
            OutboxMessage.template == "account.deleted"))
    assert "không thể khôi phục" in sms  # the account cannot be restored
    assert "người khác đã biết mật khẩu" in sms and "đăng ký lại" in sms
    assert "privacy@postid.vn" in sms
    assert "bưu cục" not in sms  # no visit can undo it
