"""A walk-in who activates in English gets every later notice in English: the language used at
activation is stored on the account (the clerk's registration defaults to Vietnamese)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.i18n import LOCALE_COOKIE
from idp.models import Account, OutboxMessage
from tests.web.register.test_activate import (  # noqa: F401  (fixtures)
    CITIZEN_PASSWORD,
    choose_password,
    enter_code,
    office_staff,
    sms_code,
    walk_in,
)


def _activated_sms(app: Flask) -> OutboxMessage:
    with app.app_context():
        message = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.template == "activate.done")).one()
        db.session.expunge(message)
        return message


def _locale(app: Flask) -> str:
    with app.app_context():
        return db.session.scalar(select(Account.locale).where(Account.national_id == "001099012345"))


@pytest.mark.usefixtures("walk_in")
def test_activating_in_english_keeps_english_notices(app: Flask, client: FlaskClient) -> None:
    assert _locale(app) == "vi"  # the clerk's console
    client.set_cookie(LOCALE_COOKIE, "en")
    assert enter_code(client, sms_code(app)).status_code == 303
    assert choose_password(client, CITIZEN_PASSWORD).status_code == 303
    sms = _activated_sms(app)
    assert sms.locale == "en" and sms.body.startswith("PostID: your account is now active.")
    assert _locale(app) == "en"


@pytest.mark.usefixtures("walk_in")
def test_activating_in_vietnamese_keeps_vietnamese(app: Flask, client: FlaskClient) -> None:
    assert enter_code(client, sms_code(app)).status_code == 303
    assert choose_password(client, CITIZEN_PASSWORD).status_code == 303
    assert _activated_sms(app).locale == "vi" and _locale(app) == "vi"
