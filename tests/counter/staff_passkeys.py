"""Helpers of the staff passkey tests (tests/counter/test_staff_passkeys*.py): the console's JSON
ceremonies driven with the software authenticator of tests/passkey_authenticator.py, the
password step, and what was stored and audited."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from idp.extensions import db
from idp.models import AuditEvent, PostOffice, StaffSession
from idp.models.passkey import Passkey
from tests.conftest import csrf_token
from tests.counter.helpers import console_client
from tests.counter.staff_signin import CLERK
from tests.passkey_authenticator import SoftAuthenticator
from tests.staff_factories import STAFF_PASSWORD


def post_json(client: FlaskClient, path: str, body: dict[str, object], page: str):
    return client.post(path, json=body, headers={"X-CSRFToken": csrf_token(client, page)})


def add_passkey(client: FlaskClient, device: SoftAuthenticator, name: str = "Khóa ở quầy 2",
                **bad: str):
    started = post_json(client, "/counter/security/passkeys/options", {}, "/counter/security")
    if started.status_code != 200:
        return started
    answer = device.create(started.json["publicKey"], **bad)
    return post_json(client, "/counter/security/passkeys",
                     {"ceremony": started.json["ceremony"], "credential": answer, "name": name},
                     "/counter/security")


def with_passkey(app: Flask, staff_id: int) -> SoftAuthenticator:
    """The staff member has added a passkey (in a console session of their own)."""
    device = SoftAuthenticator()
    assert add_passkey(console_client(app, staff_id), device).status_code == 200
    return device


def password_step(client: FlaskClient, username: str = CLERK):
    return client.post("/counter/login", data={
        "csrf_token": csrf_token(client, "/counter/login"), "username": username,
        "password": STAFF_PASSWORD})


def start_passkey_step(client: FlaskClient):
    return post_json(client, "/counter/mfa/passkey/options", {}, "/counter/mfa")


def finish_passkey_step(client: FlaskClient, ceremony: str, answer: str, **extra: object):
    return post_json(client, "/counter/mfa/passkey",
                     {"ceremony": ceremony, "credential": answer, **extra}, "/counter/mfa")


def passkey_step(client: FlaskClient, device: SoftAuthenticator, **bad: object):
    """Options, the authenticator's answer, the finish: (finish response, ceremony, answer)."""
    started = start_passkey_step(client)
    assert started.status_code == 200, started.get_data(as_text=True)
    answer = device.get(started.json["publicKey"], **bad)
    ceremony = started.json["ceremony"]
    return finish_passkey_step(client, ceremony, answer), ceremony, answer


def stored(app: Flask) -> list[Passkey]:
    with app.app_context():
        return list(db.session.scalars(select(Passkey).order_by(Passkey.id)))


def audited(app: Flask, tag: str) -> list[dict[str, object]]:
    with app.app_context():
        return [event.data for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.tag == tag).order_by(AuditEvent.id))]


def verified_sessions(app: Flask) -> list[StaffSession]:
    with app.app_context():
        return list(db.session.scalars(select(StaffSession).where(
            StaffSession.ended_at.is_(None), StaffSession.mfa_verified_at.is_not(None))))


def require_passkeys(app: Flask, office_id: int, required: bool = True) -> None:
    with app.app_context():
        db.session.execute(update(PostOffice).where(PostOffice.id == office_id)
                           .values(passkeys_required=required))
        db.session.commit()
