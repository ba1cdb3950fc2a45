"""Helpers of the passkey tests (tests/web/mfa/test_passkey_*.py): a signed-in citizen, the JSON
ceremonies driven with the software authenticator of tests/passkey_authenticator.py, and what
was stored."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, UserSession
from idp.models.passkey import Passkey
from idp.services.platform.secrets import token_hash
from tests.conftest import csrf_token
from tests.factories import PASSWORD
from tests.oidc.flow import (
    auth_request,
    authorize,
    consent_action,
    exchange,
    redirect_params,
    registered_portal,
    verify_id_token,
)
from tests.passkey_authenticator import SoftAuthenticator

SESSION_COOKIE = "postid_session"


def post_json(client: FlaskClient, path: str, body: dict[str, object], page: str = "/login"):
    return client.post(path, json=body, headers={"X-CSRFToken": csrf_token(client, page)})


def signed_in(app: Flask) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"csrf_token": csrf_token(client),
                                           "identifier": "001099012345", "password": PASSWORD})
    assert response.status_code == 302 and client.get_cookie(SESSION_COOKIE)
    return client


def add_passkey(client: FlaskClient, device: SoftAuthenticator, name: str = "Điện thoại của tôi",
                **bad: str):
    started = post_json(client, "/account/security/passkeys/options", {}, "/account/security")
    assert started.status_code == 200, started.get_data(as_text=True)
    answer = device.create(started.json["publicKey"], **bad)
    return post_json(client, "/account/security/passkeys",
                     {"ceremony": started.json["ceremony"], "credential": answer, "name": name},
                     "/account/security")


def passkey_alone(app: Flask, device: SoftAuthenticator, client: FlaskClient | None = None,
                  **bad: object):
    client = client or app.test_client()
    started = post_json(client, "/login/passkey/options", {})
    assert started.status_code == 200
    answer = device.get(started.json["publicKey"], **bad)
    response = post_json(client, "/login/passkey",
                         {"ceremony": started.json["ceremony"], "credential": answer})
    return client, response, started.json["ceremony"], answer


def session_amr(app: Flask, client: FlaskClient) -> str | None:
    token = client.get_cookie(SESSION_COOKIE)
    if token is None:
        return None
    with app.app_context():
        return db.session.scalar(select(UserSession.amr).where(
            UserSession.token_hash == token_hash(token.value), UserSession.revoked_at.is_(None)))


def stored(app: Flask) -> list[Passkey]:
    with app.app_context():
        return list(db.session.scalars(select(Passkey)))


def audited(app: Flask, tag: str) -> list[dict[str, object]]:
    with app.app_context():
        return [event.data for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.id))]



def id_token(app: Flask, client: FlaskClient, **params: str) -> dict[str, object]:
    """Authorize (through consent) for a new portal and return the ID token's claims."""
    portal = registered_portal(app)
    request = auth_request(portal, **params)
    response = authorize(client, request)
    if response.status_code == 200:  # consent
        page = response.get_data(as_text=True)
        response = client.post(consent_action(page), data={
            "csrf_token": csrf_token(client, request.url), "decision": "allow"})
    code = redirect_params(response)["code"]
    body = exchange(client, portal, code, request.verifier).json
    return verify_id_token(client, body["id_token"])[1]
