"""A child under 14 registered under a verified parent through the counter API
(POST /counter/api/children), and a young person's own account activated from the 14th
birthday (POST /counter/api/children/activations). Exact statuses, `error` values and what was
(not) stored."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Account, AccountStatus, Guardianship, OutboxMessage, StaffMember
from idp.services.platform.clock import today_in_vietnam
from tests.counter.helpers import api_headers
from tests.counter.test_openapi import assert_documented, document
from tests.guardian_factories import (
    birthdate_turning_14_in,
    child_number,
    registered_child,
    second_verified_parent,
    turning_14_today,
    verified_parent,
)
from tests.staff_factories import enrolled_clerk, post_office

URL = "/counter/api/children"
ACTIVATIONS = "/counter/api/children/activations"
BODY = {
    "guardian_national_id": "001099012345", "national_id": child_number(date(2018, 3, 9)),
    "full_name": "Nguyễn Thị Mai", "birthdate": "2018-03-09", "gender": "female",
    "certificate_number": "123/2018/KS", "certificate_issued_on": "2018-03-20",
    "certificate_matches": True,
    # The parent's ID card, checked as in a verification.
    "document_type": "can_cuoc", "document_number": "001099012345",
    "issued_on": (today_in_vietnam() - timedelta(days=300)).isoformat(),
    "expires_on": (today_in_vietnam() + timedelta(days=3650)).isoformat(),
    "name_match": True, "birthdate_match": True, "sex_match": True, "photo_match": True,
}


def parent_body(number: str, **changes: object) -> dict[str, object]:
    """BODY for the parent with this ID number, their card checked."""
    return {**BODY, "guardian_national_id": number, "document_number": number, **changes}


@pytest.fixture
def clerk(app: Flask) -> int:
    with app.app_context():
        return enrolled_clerk(post_office()).id


@pytest.fixture
def headers(app: Flask, clerk: int) -> dict[str, str]:
    return api_headers(app, clerk)


@pytest.fixture
def parent(app: Flask) -> int:
    with app.app_context():
        return verified_parent().id


def stored(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(m))  # type: ignore[return-value]
                     for m in (Account, Guardianship, OutboxMessage))


def test_registration_is_201_then_200_for_the_retry(app, client, headers, parent):
    response = client.post(URL, json=BODY, headers=headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["account_status"], body["created"], body["new_account"], body["ended"]) == (
        "minor", True, True, False)
    assert body["grants_until"] == "2032-03-08T17:00:00Z"  # midnight in Vietnam, 9 March 2032
    assert len(body["public_id"]) == 22
    before = stored(app)
    again = client.post(URL, json=BODY, headers=headers)
    assert again.status_code == 200
    assert again.get_json()["public_id"] == body["public_id"]
    assert again.get_json()["created"] is False
    assert stored(app) == before


def test_without_a_bearer_token_it_is_401(client, parent):
    assert client.post(URL, json=BODY).status_code == 401


@pytest.mark.parametrize(("changes", "field"), [
    ({"birthdate": "2010-01-01", "national_id": child_number(date(2010, 1, 1))}, "birthdate"),
    ({"birthdate": (today_in_vietnam() + timedelta(days=3)).isoformat()}, "birthdate"),
    ({"national_id": "0012180"}, "national_id"),
    ({"gender": "male"}, "national_id"),
    ({"certificate_matches": False}, "certificate_matches"),
    ({"certificate_matches": "yes"}, "certificate_matches"),
    ({"certificate_issued_on": "2018-02-31"}, "certificate_issued_on"),
    ({"certificate_number": "x" * 33}, "certificate_number"),
    ({"guardian_national_id": None}, "guardian_national_id"),
    ({"guardian_national_id": "12"}, "guardian_national_id"),
    ({"full_name": 7}, "full_name"),
])
def test_bad_input_is_400_invalid_input_naming_the_field(app, client, headers, parent, changes,
                                                         field):
    before = stored(app)
    response = client.post(URL, json={**BODY, **changes}, headers=headers)
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_input"
    assert field in body["fields"], body
    assert stored(app) == before
    assert_documented(document(), "post", URL, response)


@pytest.mark.parametrize("junk", [None, [], "x", 5, {"a": 1}])
def test_garbage_is_400_never_500(client, headers, junk):
    response = client.post(URL, json=junk, headers=headers)
    assert response.status_code == 400
    assert response.get_json()["error"] in ("invalid_request", "invalid_input")
    raw = client.post(URL, data=b"\xff\xfe", headers={**headers, "Content-Type":
                                                      "application/json"})
    assert raw.status_code == 400


def test_refusals(app, client, headers, clerk):
    response = client.post(URL, json=BODY, headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (409, "guardian_not_verified")
    with app.app_context():
        verified_parent()
        second_verified_parent()
        verified_parent(national_id="001088012345", phone="0911000222", email=None,
                        birthdate=date(1988, 1, 1))
        own = db.session.get(StaffMember, clerk).national_id
    response = client.post(URL, json={**BODY, "guardian_national_id": own}, headers=headers)
    assert (response.status_code, response.get_json()["error"]) == (403, "own_account")
    assert client.post(URL, json=BODY, headers=headers).status_code == 201
    second = client.post(URL, json=parent_body("079303001234"),
                         headers=headers)
    assert second.status_code == 201 and second.get_json()["new_account"] is False
    before = stored(app)
    third = client.post(URL, json=parent_body("001088012345"),
                        headers=headers)
    assert (third.status_code, third.get_json()["error"]) == (409, "account_exists")
    assert stored(app) == before
    for answer in (response, second, third):
        assert_documented(document(), "post", URL, answer)


def test_an_adults_number_is_refused(app, client, headers, parent):
    adult = {**BODY, "national_id": "001099012345", "birthdate": "1999-05-17", "gender": "male",
             "full_name": "Nguyễn Văn An"}
    response = client.post(URL, json=adult, headers=headers)
    assert response.status_code == 400 and "birthdate" in response.get_json()["fields"]


def test_at_14_the_young_persons_account_is_activated(app, client, headers, clerk):
    with app.test_request_context():
        link = registered_child(db.session.get(StaffMember, clerk), verified_parent(),
                                birthdate_turning_14_in(1))
        kid = link.child
        body = {"national_id": kid.national_id, "full_name": kid.full_name,
                "birthdate": kid.birthdate.isoformat(), "gender": kid.gender.value,
                "phone": "+84977123456", "email": None, "document_type": "can_cuoc",
                "document_number": kid.national_id,
                "issued_on": (today_in_vietnam() - timedelta(days=3)).isoformat(),
                "expires_on": None, "photo_match": True, "address": None}
    refused = client.post(ACTIVATIONS, json=body, headers=headers)
    assert (refused.status_code, refused.get_json()["error"]) == (409, "too_young")
    with app.app_context():
        link = db.session.get(Guardianship, link.id)
        turning_14_today(link)
        body.update(national_id=link.child.national_id, birthdate=link.child.birthdate.isoformat(),
                    document_number=link.child.national_id)
    response = client.post(ACTIVATIONS, json=body, headers=headers)
    assert response.status_code == 201, response.get_json()
    for answer in (refused, response):
        assert_documented(document(), "post", ACTIVATIONS, answer)
    assert response.get_json()["account_status"] == "pending_activation"
    assert client.post(ACTIVATIONS, json=body, headers=headers).status_code == 200
    with app.app_context():
        assert db.session.get(Guardianship, link.id).end_reason == "turned_14"
        account = db.session.scalar(select(Account).where(
            Account.national_id == body["national_id"]))
        assert account.status is AccountStatus.PENDING_ACTIVATION
    assert client.post(ACTIVATIONS, json=[], headers=headers).status_code == 400
