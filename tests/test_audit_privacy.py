"""Audit events carry ids and codes, never raw personal data (docs/architecture.md §11): a citizen goes
through the real flows in a browser, and no stored event's data holds their ID number, phone,
e-mail address, name, IP address or full user agent."""

from __future__ import annotations

import json
import unicodedata

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent
from idp.services.platform import audit_seal
from idp.services.platform.audit_verify import verify_log
from tests.conftest import csrf_token
from tests.factories import PASSWORD, last_sent
from tests.oidc.flow import exchange, obtain_code, registered_portal

NATIONAL_ID = "079303001234"
UNKNOWN_ID = "001099099999"  # typed at the login form, belongs to nobody
FULL_NAME = "Trần Thị Bích Ngọc"
PHONE, PHONE_E164 = "0983456789", "+84983456789"
NEW_PHONE = "0987654321"
EMAIL, NEW_EMAIL = "ngoc@example.vn", "ngoc.moi@example.vn"
IP = "203.0.113.45"
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64; PrivacyProbe/4.2) Gecko/20100101 Firefox/128.0"
NEW_PASSWORD = "blue mango river lantern"


def browser(app: Flask) -> FlaskClient:
    client = app.test_client()
    client.environ_base.update(REMOTE_ADDR=IP, HTTP_USER_AGENT=USER_AGENT)
    return client


def post(client: FlaskClient, path: str, form_path: str | None = None, **data: str):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, form_path or path), **data})


def register(app: Flask, client: FlaskClient) -> None:
    form = {"national_id": NATIONAL_ID, "full_name": FULL_NAME, "birthdate": "2003-02-01",
            "gender": "female", "phone": PHONE, "email": EMAIL, "password": PASSWORD,
            "password_confirm": PASSWORD, "accept_terms": "y"}
    assert post(client, "/register", **form).status_code == 303
    code = last_sent(app, "register.code", r"\b(\d{6})\b")
    assert post(client, "/register/confirm", code=code).status_code == 303
    link = "/register/email/" + last_sent(app, "register.email_link", r"/register/email/(\S+)")
    assert post(client, link).status_code == 200
    # The same person again: a duplicate registration is audited too.
    assert post(browser(app), "/register", **form).status_code == 303


def sign_in(client: FlaskClient, identifier: str, password: str) -> int:
    return post(client, "/login", identifier=identifier, password=password).status_code


def walk_through_the_flows(app: Flask) -> None:
    client = browser(app)
    register(app, client)
    post(client, "/logout", "/account")
    for identifier in (NATIONAL_ID, PHONE, UNKNOWN_ID, EMAIL):
        assert sign_in(client, identifier, "wrong password here") == 401
    assert sign_in(client, NATIONAL_ID, PASSWORD) == 302

    portal = registered_portal(app, scope="openid profile email phone")
    code, request = obtain_code(client, portal, scope="openid profile email phone")
    assert exchange(client, portal, code, request.verifier).status_code == 200
    assert exchange(client, portal, code, request.verifier).status_code == 400  # replay

    assert post(client, "/account/contact/phone", phone=NEW_PHONE,
                current_password=PASSWORD).status_code == 303
    assert post(client, "/account/contact/email", email=NEW_EMAIL,
                current_password=PASSWORD).status_code == 303
    assert post(client, "/account/password", current_password=PASSWORD, new_password=NEW_PASSWORD,
                confirm_password=NEW_PASSWORD, sign_out_others="y").status_code in (302, 303)
    assert post(client, "/account/data").status_code == 200
    assert post(browser(app), "/recover", identifier=NATIONAL_ID).status_code in (302, 303)
    assert post(client, "/account/delete", password=NEW_PASSWORD, confirm="y").status_code == 302


def forbidden_values() -> list[str]:
    nfd = unicodedata.normalize("NFD", FULL_NAME)
    return [NATIONAL_ID, UNKNOWN_ID, PHONE, PHONE_E164, PHONE_E164[1:], PHONE[1:], NEW_PHONE,
            NEW_PHONE[1:], EMAIL, NEW_EMAIL, FULL_NAME, nfd, "Bích Ngọc", IP, USER_AGENT,
            "PrivacyProbe"]


def offenders(values: list[str]) -> list[tuple[int, str, str]]:
    found = []
    for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)):
        stored = json.dumps(event.data, ensure_ascii=False) + repr(event.data)
        found += [(event.id, event.tag, value) for value in values
                  if value.casefold() in stored.casefold()]
    return found


def test_no_event_data_holds_personal_data(app):
    walk_through_the_flows(app)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        tags = {event.tag for event in events}
        # The walk reached the flows it is meant to cover.
        assert {"registration.start", "registration.duplicate", "account.create",
                "account.phone.confirm", "account.email.confirm", "account.logout",
                "account.login.failure", "account.login.success", "consent.grant",
                "oidc.code.replay", "account.contact.change", "account.password.change",
                "account.data.export", "account.password.recover", "account.delete"} <= tags
        assert offenders(forbidden_values()) == []
        assert audit_seal.seal_all() > 0
        assert verify_log().ok


# --- the counter: staff see the documents, the events must not hold them ----------------------

CHECK = {"document_type": "can_cuoc", "document_number": NATIONAL_ID, "issued_on": "2024-07-15",
         "expires_on": "2043-02-01", "name_match": True, "birthdate_match": True, "sex_match": True,
         "photo_match": True, "address": {"street": "2 Công xã Paris", "ward": "Phường Sài Gòn",
                                          "province_code": "79"}}
WALK_IN = {
    "national_id": "001099012345", "full_name": "Nguyễn Văn An", "birthdate": "1999-05-17",
    "gender": "male", "phone": "+84912345678", "email": None, "document_type": "can_cuoc",
    "document_number": "001099012345", "issued_on": "2021-06-01", "expires_on": "2039-05-17",
    "photo_match": True,
    "address": {"province_code": "01", "ward": "Phường Hoàn Kiếm", "street": "12 Hàng Bài"},
}


def test_no_counter_event_holds_personal_data(app):
    from tests.counter.helpers import api_headers
    from tests.factories import second_citizen
    from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office
    from tests.verification_factories import pending_verification

    with app.app_context():
        office = post_office()
        clerk, supervisor = enrolled_clerk(office), enrolled_supervisor(office)
        staff_values = [clerk.full_name, supervisor.full_name, clerk.national_id, supervisor.national_id]
        ids = (clerk.id, supervisor.id)
        verification = pending_verification(second_citizen())
        public_id, code = verification.public_id, verification.code
    terminal = browser(app)
    by_clerk, by_supervisor = api_headers(app, ids[0]), api_headers(app, ids[1])
    api = "/counter/api/verifications"
    assert terminal.get(api, query_string={"code": code}, headers=by_clerk).status_code == 200
    refused = terminal.post(f"{api}/{public_id}/submit", headers=by_clerk,
                            json={**CHECK, "document_number": "079303009999"})
    assert refused.status_code == 400 and refused.json["problems"]
    assert terminal.post(f"{api}/{public_id}/submit", json=CHECK, headers=by_clerk).status_code == 200
    assert terminal.post(f"{api}/{public_id}/approve", json={}, headers=by_supervisor).status_code == 200
    assert terminal.post(f"{api}/{public_id}/revoke", json={"reason": "suspected_fraud"},
                         headers=by_supervisor).status_code == 200
    assert terminal.post("/counter/api/registrations", json=WALK_IN, headers=by_clerk).status_code == 201

    with app.app_context():
        tags = set(db.session.scalars(select(AuditEvent.tag)))
        assert {"counter.verification.view", "counter.verification.refused",
                "counter.verification.submit", "counter.verification.approve",
                "counter.verification.revoke", "counter.registration.assisted"} <= tags
        values = [*forbidden_values(), "079303009999", "2 Công xã Paris", "Phường Sài Gòn", code,
                  WALK_IN["national_id"], WALK_IN["full_name"], WALK_IN["phone"], "0912345678",
                  "12 Hàng Bài", "Phường Hoàn Kiếm", *staff_values]
        assert offenders(values) == []
        assert audit_seal.seal_all() > 0
        assert verify_log().ok
