"""SMS limits through HTTP: registrations cannot pump SMS to one number, one ID
number or in total, and the answers never tell whether a message went out or whether the
number belongs to an account."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditEvent, AuditTag, OutboxMessage
from idp.services.platform import notify
from tests.conftest import csrf_token
from tests.factories import PASSWORD, active_citizen

FRESH_PHONE = "0983456789"
CUSTOMER_PHONE = "0912345678"  # the factory citizen's


def details(i: int, **changes: str) -> dict[str, str]:
    """The i-th distinct new person (own ID number, own phone) unless `changes` say otherwise."""
    return {"national_id": f"0793030012{i:02d}", "full_name": "Trần Thị Bích Ngọc",
            "birthdate": "2003-02-01", "gender": "female", "phone": f"09834567{i:02d}",
            "email": "", "password": PASSWORD, "password_confirm": PASSWORD,
            "accept_terms": "y", **changes}


def register(client: FlaskClient, data: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post("/register", data={**data, "csrf_token": csrf_token(client, "/register")})


def sms(app: Flask, template: str) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.recipient)
                                       .where(OutboxMessage.template == template)))


def suppressed(app: Flask) -> list[AuditEvent]:
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == AuditTag.NOTIFY_SMS_SUPPRESSED.value)))
        db.session.expunge_all()
        return events


def customer(app: Flask) -> None:
    with app.app_context():
        active_citizen()


def test_registrations_with_one_new_phone_queue_at_most_the_per_number_limit(app, client):
    responses = [register(client, details(i, phone=FRESH_PHONE)) for i in range(8)]
    assert [r.status_code for r in responses] == [303] * 8
    assert sms(app, "register.code") == ["+84983456789"] * 5  # 5 per hour
    events = suppressed(app)
    assert len(events) == 3
    assert {(e.data["template"], e.data["limit"]) for e in events} == {("register.code", "number")}
    assert "983456789" not in str([e.data for e in events])  # no number in the audit


def test_registrations_with_a_customers_phone_warn_the_customer_at_most_the_limit(app, client):
    customer(app)
    responses = [register(client, details(i, phone=CUSTOMER_PHONE)) for i in range(8)]
    assert [r.status_code for r in responses] == [303] * 8
    assert sms(app, "register.duplicate") == ["+84912345678"] * 5
    assert sms(app, "register.code") == []
    assert [e.data["limit"] for e in suppressed(app)] == ["number"] * 3


def test_registrations_with_one_id_number_and_many_phones_stop_at_the_per_id_limit(app, client):
    for i in range(8):
        assert register(client, details(i, national_id="079303001234")).status_code == 303
    assert len(sms(app, "register.code")) == 5
    assert len(set(sms(app, "register.code"))) == 5  # five different numbers
    assert [e.data["limit"] for e in suppressed(app)] == ["national_id"] * 3


def alarms(app: Flask) -> int:
    with app.app_context():
        return len(db.session.scalars(select(AuditEvent).where(
            AuditEvent.tag == AuditTag.NOTIFY_SMS_TOTAL_REACHED.value)).all())


def test_the_daily_total_is_an_alarm_raised_once_not_a_nationwide_stop(settings, make_app):
    app = make_app(replace(settings, sms_total_limit="3 per day"))
    client = app.test_client()
    for i in range(6):
        assert register(client, details(i)).status_code == 303
    assert len(sms(app, "register.code")) == 6  # nobody's code is held back
    assert suppressed(app) == []
    assert alarms(app) == 1  # the fourth SMS passed the total; once per window
    with app.app_context():  # notices are not counted at all
        account = active_citizen()
        notify.send_sms(account.phone, "PostID: your password was changed.",
                        template="account.password_changed", account_id=account.id)
        db.session.commit()
    assert len(sms(app, "account.password_changed")) == 1
    assert alarms(app) == 1


def test_recovery_stand_ins_do_not_count_towards_the_total(settings, make_app):
    app = make_app(replace(settings, sms_total_limit="2 per day"))
    client = app.test_client()
    for identifier in ("001099099991", "001099099992", "0987650001", "0987650002"):
        response = client.post("/recover", data={"csrf_token": csrf_token(client, "/recover"),
                                                 "identifier": identifier})
        assert response.status_code == 303
    assert register(client, details(1)).status_code == 303
    assert len(sms(app, "register.code")) == 1
    assert alarms(app) == 0  # four stand-ins and one real SMS: under a total of 2


def _answer(client: FlaskClient, response) -> tuple:  # type: ignore[no-untyped-def]
    page = client.get("/register/confirm")
    text = re.sub(r'value="[^"]*"', "", page.get_data(as_text=True))
    text = text.replace("0912 *** 678", "PHONE").replace("0983 *** 789", "PHONE")
    cookies = sorted(h.split("=")[0] for h in response.headers.getlist("Set-Cookie"))
    return response.status_code, response.headers.get("Location"), cookies, page.status_code, text


@pytest.mark.parametrize("nth", [1, 6])  # sent, and suppressed by the per-number limit
def test_the_answer_is_the_same_for_a_customers_phone_and_a_new_one(app, nth):
    customer(app)
    answers = []
    for phone in (CUSTOMER_PHONE, FRESH_PHONE):
        client = app.test_client()
        for i in range(nth):
            response = register(client, details(i + (20 if phone == FRESH_PHONE else 0),
                                                 phone=phone))
        answers.append(_answer(client, response))
    assert answers[0] == answers[1]
    assert answers[0][:2] == (303, "/register/confirm")
    expected = 1 if nth == 1 else 5
    assert len(sms(app, "register.duplicate")) == len(sms(app, "register.code")) == expected
