"""The known-device cookie (services.devices) across sign-ins and password changes:
a sign-in renews it for the same device, a password change ends every older one but
keeps the browser that made the change a known device."""

from __future__ import annotations

import time

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner

from idp.extensions import db
from idp.models import Account
from idp.services.identity import devices
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.oidc.flow import citizen, sign_in

NEW = "a much longer passphrase 2026"


def _device(app: Flask, client: FlaskClient, account_id: int) -> str | None:
    cookie = client.get_cookie(app.config["IDP_DEVICE_COOKIE"])
    with app.app_context():
        return devices.device_id(cookie.value if cookie else None,
                                 db.session.get(Account, account_id))


DAY = 24 * 3600


def _at(monkeypatch: pytest.MonkeyPatch, days: int) -> None:
    """The clock itsdangerous signs and checks timestamps with, moved by `days`."""
    now = int(time.time()) + days * DAY
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda _self: now)


def test_a_sign_in_renews_the_cookie_of_the_same_device(app: Flask, client: FlaskClient,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    account_id = citizen(app)
    with app.app_context(), monkeypatch.context() as past:
        _at(past, -300)  # a cookie from a sign-in 300 days ago
        old = devices.issue(db.session.get(Account, account_id))
    client.set_cookie(app.config["IDP_DEVICE_COOKIE"], old)
    device = _device(app, client, account_id)
    assert device is not None
    sign_in(client)
    assert client.get_cookie(app.config["IDP_DEVICE_COOKIE"]).value != old
    assert _device(app, client, account_id) == device  # same device: its throttle key stays
    _at(monkeypatch, 100)  # the old token's lifetime is over, the renewed one's is not
    assert _device(app, client, account_id) == device
    client.set_cookie(app.config["IDP_DEVICE_COOKIE"], old)
    assert _device(app, client, account_id) is None


def test_a_password_change_ends_other_device_cookies_not_this_one(app: Flask,
                                                                   client: FlaskClient) -> None:
    account_id = citizen(app)
    sign_in(client)
    other = app.test_client()
    sign_in(other)
    assert _device(app, other, account_id) is not None
    data = {"csrf_token": csrf_token(client, "/account/password"), "current_password": PASSWORD,
            "new_password": NEW, "confirm_password": NEW}
    assert client.post("/account/password", data=data).status_code == 302
    assert _device(app, other, account_id) is None  # issued under the old password
    assert _device(app, client, account_id) is not None  # the owner's browser, renewed


def test_a_sign_in_that_upgrades_the_stored_hash_keeps_the_device(
        app: Flask, client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # New argon2 parameters rewrite the stored hash at the next sign-in; the password is the
    # same, so the device must stay known (its throttle key and SMS budget with it).
    account_id = citizen(app)
    with app.app_context():
        token = devices.issue(db.session.get(Account, account_id))
    client.set_cookie(app.config["IDP_DEVICE_COOKIE"], token)
    device = _device(app, client, account_id)
    from idp.services.platform import passwords
    monkeypatch.setattr(passwords, "needs_rehash", lambda _hash: True)
    with app.app_context():
        before = db.session.get(Account, account_id).password.hash
    sign_in(client)
    with app.app_context():
        assert db.session.get(Account, account_id).password.hash != before  # rehashed
    assert _device(app, client, account_id) == device
