"""SMS budgets by who asks (issue 11), through HTTP: strangers asking with a person's ID
number cannot hold back that person's recovery code on their own known device, nor the code
counter staff send, and one network spends only half of the person's daily stranger budget."""

from __future__ import annotations

from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, OutboxMessage
from idp.models.base import utcnow
from idp.services import devices
from tests.conftest import csrf_token
from tests.factories import active_citizen

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
        account_id = db.session.scalar(select(Account.id).where(Account.national_id == ID_NUMBER))
        owner.set_cookie(app.config["IDP_DEVICE_COOKIE"], devices.issue(account_id))
    assert recover(owner) == 303
    assert codes(app) == 4
    other = browser(app, "192.0.2.51")  # a device cookie of another account is a stranger's
    with app.app_context():
        other.set_cookie(app.config["IDP_DEVICE_COOKIE"], devices.issue(account_id + 1))
    assert recover(other) == 303
    assert codes(app) == 4
