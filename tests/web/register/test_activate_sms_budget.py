"""Clicks on "new code" during the activation's resend wait send nothing, so they must not use
up the citizen's own SMS allowance: the stand-in written on those clicks
counts under a stand-in ID key, never the typed ID number."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import AuditEvent, AuditTag, OutboxMessage
from idp.models.registration import OtpChallenge
from tests.web.register.test_activate import ask_new_code, office_staff, walk_in  # noqa: F401 (fixtures)


def _activation_codes(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.recipient).where(
            OutboxMessage.template == "activate.code")))


def _suppressed(app: Flask) -> list[dict]:
    with app.app_context():
        return [event.data for event in db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == AuditTag.NOTIFY_SMS_SUPPRESSED.value))]


@pytest.mark.usefixtures("walk_in")
def test_clicks_during_the_wait_do_not_hold_back_the_next_code(app, client):
    assert _activation_codes(app) == ["+84912345678"]  # the counter's code
    for _ in range(5):  # all in the back-off: nothing is sent
        response = ask_new_code(client)
        assert response.status_code == 303 and response.headers["Location"] == "/activate?sent=1"
    assert _activation_codes(app) == ["+84912345678"]
    with app.app_context():
        sent_at = db.session.scalar(select(OtpChallenge.last_sent_at))
        db.session.execute(update(OtpChallenge).values(last_sent_at=sent_at - timedelta(minutes=5)))
        db.session.commit()
    assert ask_new_code(client).status_code == 303  # the wait is over: a new code goes out
    assert _activation_codes(app) == ["+84912345678"] * 2
    assert _suppressed(app) == []
