"""/activate and /activate/new-code must not tell a pending account's ID number by timing
: the same SQL statements, commit and rate-limit store calls for an ID number with
a pending account (in the back-off, ready for a new code, or with a dead code) and for an
unknown one; stand-ins are deleted before the commit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from idp.extensions import db
from idp.models import OutboxMessage
from idp.models.registration import OtpChallenge
from tests.conftest import csrf_token
from tests.web.recovery.test_recovery_same_work import statements, store_calls
from tests.web.register.test_activate import office_staff, walk_in  # noqa: F401 (fixtures)

PENDING = "001099012345"
UNKNOWN = "001099099999"


def _post(app: Flask, path: str, data: dict[str, str]) -> tuple[list[str], list[str], int]:
    client: FlaskClient = app.test_client()
    token = csrf_token(client, path)
    with statements(app) as seen, store_calls(app) as store:
        response = client.post(path, data={**data, "csrf_token": token})
    return seen, store, response.status_code


def new_code(app: Flask, national_id: str) -> tuple[list[str], list[str], int]:
    return _post(app, "/activate/new-code", {"national_id": national_id})


def enter_code(app: Flask, national_id: str) -> tuple[list[str], list[str], int]:
    return _post(app, "/activate", {"national_id": national_id, "code": "000000"})


def _age_codes(app: Flask, **values: object) -> None:
    with app.app_context():
        db.session.execute(update(OtpChallenge).values(**values))
        db.session.commit()


def _activation_sms(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.template == "activate.code"))


@pytest.mark.usefixtures("walk_in")
def test_new_code_does_the_same_work_for_a_pending_and_an_unknown_id_number(app):
    unknown = new_code(app, UNKNOWN)
    assert unknown[2] == 303
    assert "INSERT INTO outbox_message" in unknown[0] and "DELETE FROM otp_challenge" in unknown[0]
    assert new_code(app, PENDING) == unknown  # in the back-off: nothing sent
    assert _activation_sms(app) == 1
    with app.app_context():
        sent_at = db.session.scalar(select(OtpChallenge.last_sent_at))
    _age_codes(app, last_sent_at=sent_at - timedelta(hours=1))
    assert new_code(app, PENDING) == unknown  # a renewed code, sent
    assert _activation_sms(app) == 2
    _age_codes(app, failed_attempts=5, last_sent_at=sent_at - timedelta(hours=2))
    assert new_code(app, PENDING) == unknown  # a dead code replaced by a new challenge
    assert _activation_sms(app) == 3
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.recipient.like("stand-in%"))) == 0
        assert db.session.scalar(select(func.count()).select_from(OtpChallenge).where(
            OtpChallenge.account_id.is_(None))) == 0


@pytest.mark.usefixtures("walk_in")
def test_a_wrong_code_does_the_same_work_for_a_pending_and_an_unknown_id_number(app):
    unknown = enter_code(app, UNKNOWN)
    assert unknown[2] == 400
    assert enter_code(app, PENDING) == unknown  # a live code, wrong guess
    _age_codes(app, failed_attempts=5)
    assert enter_code(app, PENDING) == unknown  # a dead code
