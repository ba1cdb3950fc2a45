"""SMS and e-mail follow the language the person last chose with the switch while signed in,
not only the one they registered in."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account
from idp.models.notification import OutboxMessage
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.oidc.flow import citizen, sign_in

ENGLISH = "PostID: your code to change your phone number is"
VIETNAMESE = "PostID: mã đổi số điện thoại của bạn là"


def _switch(client: FlaskClient, lang: str, page: str = "/account"):  # type: ignore[no-untyped-def]
    return client.post("/language", data={"csrf_token": csrf_token(client, page),
                                          "lang": lang, "next": "/account"})


def _phone_code_text(app: Flask, client: FlaskClient) -> str:
    response = client.post("/account/contact/phone", data={
        "csrf_token": csrf_token(client, "/account/contact/phone"), "phone": "0987654321",
        "current_password": PASSWORD})
    assert response.status_code == 303
    with app.app_context():
        return db.session.scalars(select(OutboxMessage.body).where(
            OutboxMessage.template == "account.change_phone_code")
            .order_by(OutboxMessage.id.desc())).first()


def _locale(app: Flask, account_id: int) -> str:
    with app.app_context():
        return db.session.get(Account, account_id).locale


def test_switching_to_english_while_signed_in_sends_notices_in_english(app, client):
    account_id = citizen(app)  # registered in Vietnamese
    sign_in(client)
    assert _switch(client, "en").status_code == 302
    assert _locale(app, account_id) == "en"
    assert _phone_code_text(app, client).startswith(ENGLISH)


def test_switching_back_to_vietnamese_sends_notices_in_vietnamese(app, client):
    account_id = citizen(app)
    sign_in(client)
    _switch(client, "en")
    _switch(client, "vi")
    assert _locale(app, account_id) == "vi"
    assert _phone_code_text(app, client).startswith(VIETNAMESE)


def test_a_switch_while_signed_out_or_to_an_unknown_language_changes_no_account(app, client):
    account_id = citizen(app)
    _switch(client, "en", page="/login")  # nobody signed in: only the cookie
    assert _locale(app, account_id) == "vi"
    sign_in(client)
    _switch(client, "fr")
    assert _locale(app, account_id) == "vi"
