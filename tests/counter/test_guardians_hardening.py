"""Review fixes to guardians (docs/architecture.md §14), black-box through the counter API and
the citizen's own pages: a second guardian brings the first one's birth certificate and the
first guardian is told; at 14 the young person's account is at level 1 until the card check is
approved and the guardians are told; a deleted guardian's link ends."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AuditEvent, AuditTag, Guardianship, OutboxMessage, StaffMember
from idp.services.counter import guardians
from idp.services.platform.clock import today_in_vietnam
from tests.conftest import csrf_token
from tests.counter.helpers import api_headers
from tests.counter.test_guardians_api import URL, parent_body
from tests.factories import PASSWORD
from tests.guardian_factories import (
    SECOND_PARENT_ID,
    birthdate_turning_14_in,
    card_of,
    certificate,
    child,
    confirmed,
    linked_child,
    second_verified_parent,
    turning_14_today,
    verified_parent,
)
from tests.oidc.flow import sign_in
from tests.staff_factories import enrolled_clerk, post_office

ACTIVATIONS = "/counter/api/children/activations"
THIRD_PARENT_ID = "001088012345"


@pytest.fixture
def clerk(app: Flask) -> int:
    with app.app_context():
        return enrolled_clerk(post_office()).id


@pytest.fixture
def headers(app: Flask, clerk: int) -> dict[str, str]:
    return api_headers(app, clerk)


def stored(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))  # type: ignore[return-value]
                     for m in (Account, Guardianship, OutboxMessage))


def sms_to(app: Flask, template: str) -> list[int | None]:
    with app.app_context():
        return list(db.session.scalars(select(OutboxMessage.account_id).where(
            OutboxMessage.template == template).order_by(OutboxMessage.id)))


def first_guardian(app: Flask, clerk: int) -> tuple[int, int]:
    """The child registered under the first parent, the link confirmed; (parent, link) ids."""
    with app.test_request_context():
        parent = verified_parent()
        link = linked_child(db.session.get(StaffMember, clerk), parent)
        return parent.id, link.id


@pytest.mark.parametrize("changes", [{"certificate_number": "124/2018/KS"},
                                     {"certificate_issued_on": "2018-03-21"}])
def test_a_second_guardian_with_another_certificate_is_refused_without_saying_why(
        app, client, headers, clerk, changes):
    first_guardian(app, clerk)
    with app.app_context():
        second_verified_parent()
    before = stored(app)
    response = client.post(URL, json=parent_body(SECOND_PARENT_ID, **changes),
                           headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (409, "account_exists")
    assert stored(app) == before


def test_the_first_guardian_is_told_when_a_second_one_is_linked(app, client, headers, clerk):
    parent, _ = first_guardian(app, clerk)
    with app.app_context():
        second_verified_parent()
    response = client.post(URL, json=parent_body(SECOND_PARENT_ID),
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    assert sms_to(app, "guardian.other_linked") == []  # nothing granted yet
    with app.test_request_context():
        confirmed(db.session.scalar(select(Guardianship).filter_by(
            public_id=response.get_json()["public_id"])))
    assert sms_to(app, "guardian.other_linked") == [parent]


def test_at_14_the_account_is_level_1_and_each_guardian_is_told(app, client, headers, clerk):
    with app.test_request_context():
        staff = db.session.get(StaffMember, clerk)
        parent = verified_parent()
        link = linked_child(staff, parent, birthdate_turning_14_in(1))
        other = second_verified_parent()
        second = guardians_link(staff, other, link)
        turning_14_today(link)
        kid = link.child
        body = {"national_id": kid.national_id, "full_name": kid.full_name,
                "birthdate": kid.birthdate.isoformat(), "gender": kid.gender.value,
                "phone": "+84977123456", "email": None, "document_type": "can_cuoc",
                "document_number": kid.national_id,
                "issued_on": (today_in_vietnam() - timedelta(days=3)).isoformat(),
                "expires_on": None, "photo_match": True, "address": None}
        ids = (parent.id, other.id, kid.id, second.id)
    response = client.post(ACTIVATIONS, json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    with app.app_context():
        assert db.session.get(Account, ids[2]).identity_loa == 1
    assert sorted(sms_to(app, "guardian.link_ended")) == sorted(ids[:2])


def guardians_link(staff: StaffMember, parent: Account, first: Guardianship) -> Guardianship:
    kid = first.child
    details = child(kid.birthdate, national_id=kid.national_id)
    cert = certificate(number=first.birth_certificate_number,
                       issued_on=first.birth_certificate_issued_on)
    return confirmed(guardians.register_child(staff, parent.national_id, details, cert,
                                              card_of(parent), channel="web").link)


def test_a_deleted_guardians_link_ends_and_frees_its_place(app, client, headers, clerk):
    parent, link_id = first_guardian(app, clerk)
    with app.test_request_context():
        guardians_link(db.session.get(StaffMember, clerk), second_verified_parent(),
                       db.session.get(Guardianship, link_id))
        verified_parent(national_id=THIRD_PARENT_ID, phone="0911000222", email=None,
                        birthdate=date(1988, 1, 1))
    third = parent_body(THIRD_PARENT_ID)
    assert client.post(URL, json=third, headers=headers).status_code == 409
    citizen = app.test_client()
    sign_in(citizen)
    response = citizen.post("/account/delete", data={
        "csrf_token": csrf_token(citizen, "/account/delete"), "password": PASSWORD,
        "confirm": "y"})
    assert response.status_code == 302
    with app.app_context():
        link = db.session.get(Guardianship, link_id)
        assert (link.ended_at is not None, link.end_reason) == (True, "guardian_deleted")
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.tag == AuditTag.GUARDIAN_LINK_END.value))
        assert (event.actor_id, event.data["reason"]) == (parent, "guardian_deleted")
    response = client.post(URL, json=third, headers=headers)
    assert response.status_code == 201, response.get_json()
