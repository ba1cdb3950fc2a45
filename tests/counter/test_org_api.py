"""The counter JSON API for organisation checks: exact statuses and error codes, the JSON shape,
and the database effects."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from idp.extensions import db
from idp.models import Account, AccountStatus, Organisation, OrganisationStatus, VerificationStatus
from idp.models.base import utcnow
from tests.counter.cast import event_count, events, make_verification, outbox, second_supervisor
from tests.counter.helpers import api_headers
from tests.counter.org_cast import (
    CHECK,
    POA,
    approved_organisation_check,
    clerk_as_citizen,
    make_org_check,
    org_row,
)
from tests.organisation_factories import (
    OTHER_TAX_CODE,
    active_member,
    pending_organisation_check,
    submitted_organisation_check,
)
from tests.verification_factories import pending_verification

API = "/counter/api/organisation-checks"


def count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return event_count()


def test_every_endpoint_needs_a_bearer_token(client):
    for method, path in (("get", "?code=ABCDEFGH"), ("get", "/x"), ("post", "/x/submit"),
                         ("post", "/x/reject"), ("post", "/x/approve"), ("post", "/x/revoke")):
        response = getattr(client, method)(API + path)
        assert response.status_code == 401 and response.json["error"] == "unauthorized"
    assert client.get("/counter/api/organisation-queue").status_code == 401


def test_lookup_shows_the_organisation_and_its_representative(app, client, cast):
    org = make_org_check(app, pending_organisation_check)
    response = client.get(API, query_string={"code": f"postid:{org.code.lower()}"},
                          headers=api_headers(app, cast.clerk))
    assert response.status_code == 200
    body = response.json
    assert (body["id"], body["status"], body["code"]) == (org.public_id, "pending", f"{org.code[:4]}-{org.code[4:]}")
    assert body["organisation"] == {
        "name": "Công ty TNHH Sen Vàng", "tax_code": "0100233488", "tax_code_kind": "enterprise",
        "head_office": {"street": "35 Ngô Quyền", "ward": "Phường Hoàn Kiếm", "province_code": "01"},
        "representative_title": "director", "status": "unverified"}
    assert body["representative"] == {"full_name": "Trần Thị Bích Ngọc", "national_id": "079303001234",
                                      "birthdate": "2003-02-01", "sex": "female", "phone": "09*****789",
                                      "identity_level": 1}
    assert body["actions"] == ["submit", "reject"] and body["check"] is None
    assert body["decision"] is None and body["revocation"] is None


def test_a_citizens_code_is_not_an_organisations(app, client, cast):
    _, code, _ = make_verification(app, pending_verification)
    response = client.get(API, query_string={"code": code}, headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (404, "not_found")


@pytest.mark.parametrize(("kind", "status", "error"), [
    ("unknown", 404, "not_found"), ("foreign", 404, "not_found"), ("expired", 409, "expired"),
    ("cancelled", 409, "cancelled"), ("rejected", 409, "already_used"), ("own", 403, "own_account"),
])
def test_refused_lookups(app, client, cast, kind, status, error):
    code = "ABCD-EFGH"
    if kind == "foreign":
        code = make_org_check(app, submitted_organisation_check, cast.other_clerk).code
    elif kind == "expired":
        code = make_org_check(app, pending_organisation_check, expires_at=utcnow() - timedelta(seconds=1)).code
    elif kind == "cancelled":
        code = make_org_check(app, pending_organisation_check, status=VerificationStatus.CANCELLED,
                              live_organisation_id=None, cancelled_at=utcnow()).code
    elif kind == "rejected":
        code = make_org_check(app, submitted_organisation_check, cast.clerk, status=VerificationStatus.REJECTED,
                              live_organisation_id=None).code
    elif kind == "own":
        org = make_org_check(app, pending_organisation_check)
        with app.app_context():
            active_member(db.session.get(Organisation, org.organisation), clerk_as_citizen())
        code = org.code
    before = count(app)
    response = client.get(API, query_string={"code": code}, headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (status, error)
    assert response.json["message"]
    with app.app_context():
        assert events("counter.organisation.refused")[-1].data["reason"] == error
    assert count(app) > before


def test_lookup_without_a_code_is_a_bad_request(app, client, cast):
    for query in ({}, {"code": ""}, {"code": "x" * 100}):
        response = client.get(API, query_string=query, headers=api_headers(app, cast.clerk))
        assert (response.status_code, response.json["error"]) == (400, "invalid_request")


def test_submit_takes_the_office_from_the_session_and_is_idempotent(app, client, cast):
    org = make_org_check(app, pending_organisation_check)
    headers = api_headers(app, cast.clerk)
    body = {**CHECK, **POA, "office_id": cast.other_office, "clerk_id": cast.other_clerk}
    response = client.post(f"{API}/{org.public_id}/submit", json=body, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "submitted" and response.json["actions"] == []
    assert response.json["check"] == {
        "certificate_number": "0100233488", "certificate_issued_on": "2015-03-02", "certificate_match": True,
        "document_type": "can_cuoc", "document_number": "079303001234", "document_issued_on": "2024-07-15",
        "document_expires_on": "2043-02-01", "person_match": True, "authority": "power_of_attorney",
        "power_of_attorney_ref": "15/2025/UQ", "power_of_attorney_date": "2025-01-10"}
    assert response.json["submitted_by"]["username"] == "clerk-hn-boho"
    saved = org_row(app, org.id)
    assert (saved["office_id"], saved["clerk_id"]) == (cast.office, cast.clerk)
    before = count(app)
    again = client.post(f"{API}/{org.public_id}/submit", json=body, headers=headers)
    assert again.status_code == 200 and again.json["status"] == "submitted"
    assert count(app) == before and org_row(app, org.id) == saved
    other = client.post(f"{API}/{org.public_id}/submit", json=CHECK, headers=headers)
    assert (other.status_code, other.json["error"], other.json["current_status"]) == (409, "conflict", "submitted")


@pytest.mark.parametrize(("change", "problems"), [
    ({"document_number": "079303001235"}, ["document.number_mismatch"]),
    ({"document_issued_on": "2012-01-01", "document_expires_on": "2022-01-01"}, ["document.expired"]),
    ({"certificate_issued_on": "2099-01-01"}, ["certificate.issued_future"]),
    ({"certificate_match": False}, ["certificate.mismatch"]),
    ({"certificate_number": "  "}, ["certificate.number_missing"]),
    ({"certificate_number": "0100233488<script>"}, ["certificate.number_format"]),
    ({"authority": "power_of_attorney"}, ["power_of_attorney.reference_missing", "power_of_attorney.date_missing"]),
    ({**POA, "power_of_attorney_ref": None}, ["power_of_attorney.reference_missing"]),
    ({**POA, "power_of_attorney_ref": "x" * 65}, ["power_of_attorney.reference_format"]),
    ({**POA, "power_of_attorney_date": "2015-03-01"}, ["power_of_attorney.date_before_certificate"]),
    ({"power_of_attorney_date": "2025-01-10"}, ["power_of_attorney.unexpected"]),
    ({"authority": "ceo"}, ["authority.invalid"]),
    ({"document_type": "cmnd", "sex_match": False, "certificate_match": False},
     ["certificate.mismatch", "document.type", "document.mismatch"]),
])
def test_a_refused_check_lists_every_problem_and_stores_nothing(app, client, cast, change, problems):
    org = make_org_check(app, pending_organisation_check)
    before, events_before = org_row(app, org.id), count(app)
    response = client.post(f"{API}/{org.public_id}/submit", json={**CHECK, **change},
                           headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (400, problems[0])
    assert [p["code"] for p in response.json["problems"]] == problems
    assert all(p["message"] for p in response.json["problems"])
    assert org_row(app, org.id) == before
    assert count(app) == events_before + 1
    with app.app_context():
        assert events("counter.organisation.refused")[-1].data["problems"] == problems


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b'"text"', b"{", b"null",
    json.dumps({**CHECK, "certificate_match": "yes"}).encode(),
    json.dumps({**CHECK, "certificate_issued_on": "02/03/2015"}).encode(),
    json.dumps({**CHECK, "document_issued_on": "2024-02-30"}).encode(),
    json.dumps({**CHECK, "certificate_number": 100233488}).encode(),
    json.dumps({**CHECK, "certificate_number": "x" * 65}).encode(),
    json.dumps({**CHECK, "authority": ["legal_representative"]}).encode(),
    json.dumps({**CHECK, **POA, "power_of_attorney_ref": 15}).encode(),
    json.dumps({**CHECK, **POA, "power_of_attorney_ref": "x" * 129}).encode(),
    json.dumps({**CHECK, **POA, "power_of_attorney_date": "10/01/2025"}).encode(),
    json.dumps({k: v for k, v in CHECK.items() if k != "document_expires_on"}).encode(),
    json.dumps({k: v for k, v in CHECK.items() if k != "certificate_issued_on"}).encode(),
    json.dumps({k: v for k, v in CHECK.items() if k != "authority"}).encode(),
    json.dumps({**CHECK, "padding": "x" * 20000}).encode(),
    b'{"certificate_number": "\\ud800"}',
])
def test_malformed_bodies_are_bad_requests(app, client, cast, body):
    org = make_org_check(app, pending_organisation_check)
    before = org_row(app, org.id)
    response = client.post(f"{API}/{org.public_id}/submit", data=body,
                           headers={**api_headers(app, cast.clerk), "Content-Type": "application/json"})
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert org_row(app, org.id) == before


def test_non_ascii_text_is_a_problem_not_a_crash(app, client, cast):
    org = make_org_check(app, pending_organisation_check)
    body = {**CHECK, "certificate_number": "ĐKKD-0100233488", **POA, "power_of_attorney_ref": "Giấy ủy quyền số 15"}
    response = client.post(f"{API}/{org.public_id}/submit", json=body, headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (400, "certificate.number_format")
    assert [p["code"] for p in response.json["problems"]] == ["certificate.number_format"]


def test_reject_needs_a_reason(app, client, cast):
    org = make_org_check(app, pending_organisation_check)
    headers = api_headers(app, cast.clerk)
    url = f"{API}/{org.public_id}/reject"
    assert client.post(url, json={}, headers=headers).json["error"] == "invalid_request"
    response = client.post(url, json={"reason": "tired"}, headers=headers)
    assert (response.status_code, response.json["error"]) == (400, "invalid_reason")
    assert org_row(app, org.id)["status"] is VerificationStatus.PENDING
    response = client.post(url, json={"reason": "document_damaged"}, headers=headers)
    assert response.status_code == 200
    assert response.json["decision"]["reject_reason"] == "document_damaged"
    assert response.json["organisation"]["status"] == "unverified"


def test_approve_rules_retries_and_conflicts(app, client, cast):
    org = make_org_check(app, submitted_organisation_check, cast.clerk)
    url = f"{API}/{org.public_id}/approve"
    response = client.post(url, headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (403, "supervisor_only")
    own = make_org_check(app, submitted_organisation_check, cast.supervisor, representative=cast.citizen,
                         organisation={"tax_code": OTHER_TAX_CODE})
    response = client.post(f"{API}/{own.public_id}/approve", json={}, headers=api_headers(app, cast.supervisor))
    assert (response.status_code, response.json["error"]) == (403, "own_submission")
    headers = api_headers(app, cast.supervisor)
    assert client.post(url, data=b"{", headers={**headers, "Content-Type": "application/json"}).status_code == 400
    response = client.post(url, headers=headers)
    assert response.status_code == 200 and response.json["status"] == "approved"
    assert response.json["organisation"]["status"] == "verified"
    assert response.json["decision"]["decided_by"]["username"] == "supervisor-hn-boho"
    assert response.json["actions"] == ["revoke"]
    before = count(app)
    assert client.post(url, headers=headers).status_code == 200  # retried: nothing new
    assert count(app) == before
    response = client.post(f"{API}/{org.public_id}/reject", json={"reason": "other"}, headers=headers)
    assert (response.status_code, response.json["error"], response.json["current_status"]) == (
        409, "conflict", "approved")
    with app.app_context():
        assert len(events("counter.organisation.approve")) == 1
        assert [m.template for m in outbox(org.representative)] == ["counter.organisation.approved"]


def test_a_disabled_representative_is_refused(app, client, cast):
    org = make_org_check(app, submitted_organisation_check, cast.clerk)
    with app.app_context():
        db.session.get(Account, org.representative).status = AccountStatus.DISABLED
        db.session.commit()
    response = client.post(f"{API}/{org.public_id}/approve", headers=api_headers(app, cast.supervisor))
    assert (response.status_code, response.json["error"]) == (409, "account_disabled")
    assert org_row(app, org.id)["organisation.status"] is OrganisationStatus.UNVERIFIED


def test_revoke(app, client, cast):
    org = make_org_check(app, approved_organisation_check, cast.clerk, cast.supervisor)
    url = f"{API}/{org.public_id}/revoke"
    response = client.post(url, json={"reason": "suspected_fraud"}, headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (403, "supervisor_only")
    with app.app_context():
        other = second_supervisor(cast)
    headers = api_headers(app, other)
    assert client.post(url, json={"reason": ""}, headers=headers).json["error"] == "invalid_request"
    response = client.post(url, json={"reason": "suspected_fraud"}, headers=headers)
    assert response.status_code == 200
    assert (response.json["status"], response.json["organisation"]["status"]) == ("revoked", "revoked")
    assert response.json["revocation"]["reason"] == "suspected_fraud"
    before = count(app)
    assert client.post(url, json={"reason": "suspected_fraud"}, headers=headers).status_code == 200
    assert count(app) == before
    response = client.post(url, json={"reason": "other"}, headers=headers)
    assert (response.status_code, response.json["error"], response.json["current_status"]) == (409, "conflict", "revoked")


def test_another_offices_record_is_not_found_on_every_endpoint(app, client, cast):
    org = make_org_check(app, submitted_organisation_check, cast.clerk)
    approved = make_org_check(app, approved_organisation_check, cast.clerk, cast.supervisor,
                              representative=cast.citizen, organisation={"tax_code": OTHER_TAX_CODE})
    headers = api_headers(app, cast.other_supervisor)
    before = org_row(app, org.id)
    calls = [client.get(API, query_string={"code": org.code}, headers=headers),
             client.get(f"{API}/{org.public_id}", headers=headers),
             client.post(f"{API}/{org.public_id}/submit", json=CHECK, headers=headers),
             client.post(f"{API}/{org.public_id}/reject", json={"reason": "other"}, headers=headers),
             client.post(f"{API}/{org.public_id}/approve", json={}, headers=headers),
             client.post(f"{API}/{approved.public_id}/revoke", json={"reason": "other"}, headers=headers),
             client.get(f"{API}/{'x' * 300}", headers=headers)]
    assert [(r.status_code, r.json["error"]) for r in calls] == [(404, "not_found")] * len(calls)
    assert org_row(app, org.id) == before


def test_the_queue_is_for_supervisors_of_the_office(app, client, cast):
    org = make_org_check(app, submitted_organisation_check, cast.clerk)
    url = "/counter/api/organisation-queue"
    response = client.get(url, headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (403, "supervisor_only")
    response = client.get(url, query_string={"page": "abc"}, headers=api_headers(app, cast.supervisor))
    assert response.status_code == 200
    assert response.json["total"] == 1 and response.json["page"] == 1
    [item] = response.json["items"]
    assert (item["id"], item["organisation"]) == (org.public_id, {"name": "Công ty TNHH Sen Vàng", "tax_code": "0100233488"})
    assert client.get(url, headers=api_headers(app, cast.other_supervisor)).json["items"] == []
