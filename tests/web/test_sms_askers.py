"""SMS budgets by who asks, through HTTP: strangers asking with a person's ID
number cannot hold back that person's recovery code on their own known device, nor the code
counter staff send, and one network spends only half of the person's daily stranger budget."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, OutboxMessage
from idp.models.base import utcnow
from idp.services.identity import devices
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen, second_citizen
from tests.web.recovery.test_recovery import latest_code, submit_code

ID_NUMBER = "001099012345"  # the factory citizen's
PHONE = "+84912345678"


@pytest.fixture
def app(settings, make_app):  # type: ignore[no-untyped-def]
    """Three stranger SMS a day per number and ID number: one network's share is one."""
    app = make_app(replace(settings, sms_per_number_limit="3 per day",
                           sms_per_national_id_limit="3 per day"))
    with app.app_context():
        account = active_citizen()
        account.phone_verified_at = utcnow()
        db.session.commit()
    return app


def browser(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def recover(client: FlaskClient, identifier: str = ID_NUMBER) -> int:
    response = client.post("/recover", data={"csrf_token": csrf_token(client, "/recover"),
                                             "identifier": identifier})
    return response.status_code


def codes(app: Flask) -> int:
    with app.app_context():
        return len(db.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.template == "recover.code", OutboxMessage.recipient == PHONE)).all())


def test_one_network_gets_only_its_share_of_a_persons_codes(app):
    stranger = browser(app, "203.0.113.9")
    assert [recover(stranger) for _ in range(3)] == [303] * 3  # the same answer each time
    assert codes(app) == 1
    assert recover(browser(app, "198.51.100.9")) == 303  # another network's share
    assert codes(app) == 2


def test_the_owners_known_device_gets_a_code_after_strangers_spent_the_budget(app):
    for n in range(4):  # four networks, one each: three stranger codes, then nothing
        assert recover(browser(app, f"203.0.113.{n + 1}"), "0912345678") == 303
    assert codes(app) == 3
    owner = browser(app, "192.0.2.50")
    with app.app_context():
        owner.set_cookie(app.config["IDP_DEVICE_COOKIE"], devices.issue(citizen()))
    assert recover(owner) == 303
    assert codes(app) == 4
    other = browser(app, "192.0.2.51")  # a device cookie of another account is a stranger's
    with app.app_context():
        other.set_cookie(app.config["IDP_DEVICE_COOKIE"], devices.issue(second_citizen()))
    assert recover(other) == 303
    assert codes(app) == 4


def citizen() -> Account:
    return db.session.scalar(select(Account).where(Account.national_id == ID_NUMBER))


def strangers_spend_the_budget(app: Flask) -> None:
    before = codes(app)
    for n in range(4):  # four networks, one each: three stranger codes, then nothing
        assert recover(browser(app, f"203.0.113.{n + 1}"), "0912345678") == 303
    assert codes(app) == before + 3


def test_an_expired_device_cookie_is_a_strangers(app, monkeypatch):
    owner = browser(app, "192.0.2.50")
    with app.app_context(), monkeypatch.context() as past:
        issued = int(time.time()) - devices.LIFETIME_SECONDS - 60
        past.setattr(TimestampSigner, "get_timestamp", lambda _self: issued)
        owner.set_cookie(app.config["IDP_DEVICE_COOKIE"], devices.issue(citizen()))
    strangers_spend_the_budget(app)
    assert recover(owner) == 303
    assert codes(app) == 3  # counted as a stranger's: the budget is spent


def test_a_device_cookie_from_before_a_password_reset_is_a_strangers(app):
    owner = browser(app, "192.0.2.50")
    login = {"identifier": ID_NUMBER, "password": PASSWORD}
    assert owner.post("/login", data={**login, "csrf_token": csrf_token(owner)}).status_code == 302
    old_cookie = owner.get_cookie(app.config["IDP_DEVICE_COOKIE"]).value
    thief = browser(app, "198.51.100.66")
    thief.set_cookie(app.config["IDP_DEVICE_COOKIE"], old_cookie)
    owner.post("/logout", data={"csrf_token": csrf_token(owner, "/account")})
    assert recover(owner) == 303  # the owner resets the password from their own browser
    assert codes(app) == 1
    assert submit_code(owner, latest_code(app)).status_code == 200
    with app.app_context():  # reset: the notice went out
        assert db.session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.template == "recover.done")) is not None
    strangers_spend_the_budget(app)
    assert recover(thief) == 303  # the cookie from before the reset counts as a stranger's
    assert codes(app) == 4
