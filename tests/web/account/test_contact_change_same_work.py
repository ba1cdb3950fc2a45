"""A phone change to a number held by another account must not be told by timing:
the request and a resend run the same SQL statements and the same rate-limit store calls for
a taken and a free number; the stand-in SMS to the taken number is deleted before the commit."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models.notification import OutboxMessage
from idp.models.registration import OtpChallenge
from tests.conftest import csrf_token
from tests.factories import PASSWORD, second_citizen
from tests.oidc.flow import citizen, sign_in
from tests.web.recovery.test_recovery_same_work import statements, store_calls

FREE = "0987654321"


@pytest.fixture
def app(settings, make_app):  # type: ignore[no-untyped-def]
    """Budgets large enough that the gate admits every SMS of the test (a refusal is audited)."""
    return make_app(replace(settings, sms_per_number_limit="50 per hour",
                            sms_per_national_id_limit="50 per hour"))


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    return app.test_client()


def _request(app: Flask, client: FlaskClient, phone: str) -> tuple[list[str], list[str]]:
    token = csrf_token(client, "/account/contact/phone")
    with statements(app) as seen, store_calls(app) as store:
        response = client.post("/account/contact/phone", data={
            "csrf_token": token, "phone": phone, "current_password": PASSWORD})
    assert response.status_code == 303
    return seen, store


def _resend(app: Flask, client: FlaskClient) -> tuple[list[str], list[str]]:
    with app.app_context():  # the back-off has run
        challenge = db.session.scalars(select(OtpChallenge).order_by(OtpChallenge.id.desc())).first()
        challenge.last_sent_at = challenge.last_sent_at.replace(year=2000)
        db.session.commit()
    token = csrf_token(client, "/account/contact/phone/confirm")
    with statements(app) as seen, store_calls(app) as store:
        response = client.post("/account/contact/phone/confirm",
                               data={"csrf_token": token, "action": "resend"})
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return seen, store


def test_a_taken_and_a_free_number_do_the_same_work(app: Flask, client: FlaskClient) -> None:
    citizen(app)
    sign_in(client)
    with app.app_context():
        other = second_citizen()
        taken = "0" + other.phone[3:]
    _request(app, client, FREE)  # the first request of a session may warm caches
    free_sql, free_store = _request(app, client, FREE)
    taken_sql, taken_store = _request(app, client, taken)
    assert "INSERT INTO outbox_message" in free_sql and "DELETE FROM outbox_message" in free_sql
    assert (taken_sql, taken_store) == (free_sql, free_store)
    taken_resend = _resend(app, client)
    _request(app, client, FREE)
    assert _resend(app, client) == taken_resend
    with app.app_context():  # the stand-ins were deleted: only the free number's codes remain
        recipients = set(db.session.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.template == "account.change_phone_code")))
        assert recipients == {"+84987654321"}
