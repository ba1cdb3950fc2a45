"""No session adds a way in that it did not earn: a password-only session of an account with a
passkey cannot set up TOTP (and so raise itself, then add passkeys of its own), and registering
a passkey never counts as phishing resistance (a session a relayed password and code opened
could otherwise meet `urn:vn:postid:phishing_resistant` by adding its own)."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models.mfa import TotpCredential
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen
from tests.passkey_authenticator import SoftAuthenticator
from tests.web.mfa.passkey_helpers import (
    add_passkey,
    id_token,
    post_json,
    session_amr,
    signed_in,
    stored,
)
from tests.web.mfa.test_totp_web import begin_setup, fresh_code, verify


@pytest.fixture
def citizen(app: Flask) -> int:
    with app.app_context():
        account = active_citizen()
        account.identity_loa = 2
        db.session.commit()
        return account.id


def _totp_rows(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(TotpCredential)) or 0


def test_a_password_only_session_cannot_set_up_totp_beside_a_passkey(app, citizen):
    old = signed_in(app)  # say, a stolen session, opened before the owner added a passkey
    owner = signed_in(app)
    assert add_passkey(owner, SoftAuthenticator()).status_code == 200
    setup = begin_setup(old)
    assert setup.status_code == 302 and "/account/security/step-up/passkey" in setup.headers["Location"]
    assert _totp_rows(app) == 0
    token = csrf_token(old, "/account/security")
    confirm = old.post("/account/security/totp/enrol", data={"csrf_token": token, "code": "123456"})
    assert confirm.status_code == 302 and session_amr(app, old) == "pwd"
    refused = post_json(old, "/account/security/passkeys/options", {}, "/account/security")
    assert (refused.status_code, refused.json["error"]) == (403, "passkey.step_up")
    assert len(stored(app)) == 1


def test_the_step_up_of_a_passkey_only_account_asks_for_the_passkey(app, citizen):
    old = signed_in(app)
    owner = signed_in(app)
    assert add_passkey(owner, SoftAuthenticator()).status_code == 200
    answer = old.get("/account/security/step-up?next=/account")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/account/security/step-up/passkey")


def test_registering_a_passkey_is_not_phishing_resistance(app, citizen):
    owner = signed_in(app)
    begin_setup(owner)
    token = csrf_token(owner, "/account/security/totp/enrol")
    assert owner.post("/account/security/totp/enrol",
                      data={"csrf_token": token, "code": fresh_code(app, citizen)}).status_code == 200
    # Somebody relays the password and a code, then adds a passkey of their own.
    relayed = app.test_client()
    relayed.post("/login", data={"csrf_token": csrf_token(relayed), "identifier": "001099012345",
                                 "password": PASSWORD})
    assert verify(relayed, fresh_code(app, citizen)).status_code == 302
    assert add_passkey(relayed, SoftAuthenticator(synced=True), name="x").status_code == 200
    amr = (session_amr(app, relayed) or "").split()
    assert "mfa" in amr and not {"hwk", "swk"} & set(amr)
    with pytest.raises(AssertionError):  # the portal requiring phishing resistance gets no code
        id_token(app, relayed, claims=json.dumps({"id_token": {"acr": {
            "essential": True, "values": ["urn:vn:postid:phishing_resistant"]}}}))
