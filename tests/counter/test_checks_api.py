"""The counter JSON API for verifications: exact statuses and error codes, the database
effects, and a revocation that signs the citizen out of their portals."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, LogoutDelivery, OAuthToken, UserSession, VerificationStatus
from tests.counter.cast import event_count, events, make_verification, outbox, row, staff
from tests.counter.helpers import api_headers
from tests.oidc.flow import exchange, obtain_code, refresh, registered_portal, sign_in
from tests.oidc.test_logout import Receiver
from tests.staff_factories import enrolled_clerk
from tests.verification_factories import (
    approved_verification,
    cancelled_verification,
    expired_verification,
    pending_verification,
    rejected_verification,
    submitted_verification,
)

API = "/counter/api"
CHECK = {"document_type": "can_cuoc", "document_number": "079303001234", "issued_on": "2024-07-15",
         "expires_on": "2043-02-01", "name_match": True, "birthdate_match": True, "sex_match": True,
         "photo_match": True, "address": {"street": "2 Công xã Paris", "ward": "Phường Sài Gòn",
                                          "province_code": "79"}}


def count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return event_count()


def test_every_endpoint_needs_a_bearer_token(client):
    for method, path in (("get", "/verifications?code=ABCDEFGH"), ("get", "/verifications/x"),
                         ("post", "/verifications/x/approve"), ("get", "/queue")):
        response = getattr(client, method)(API + path)
        assert response.status_code == 401 and response.json["error"] == "unauthorized"


def test_lookup_returns_the_declared_data_with_a_masked_phone(app, client, cast):
    public_id, code, _ = make_verification(app, pending_verification)
    response = client.get(f"{API}/verifications", query_string={"code": f"postid:{code.lower()}"},
                          headers=api_headers(app, cast.clerk))
    assert response.status_code == 200
    body = response.json
    assert (body["id"], body["status"], body["code"]) == (public_id, "pending", f"{code[:4]}-{code[4:]}")
    assert body["citizen"] == {"full_name": "Trần Thị Bích Ngọc", "national_id": "079303001234",
                               "birthdate": "2003-02-01", "sex": "female", "phone": "09*****789"}
    assert body["actions"] == ["submit", "reject"] and body["check"] is None


@pytest.mark.parametrize(("factory", "status", "error"), [
    (None, 404, "not_found"), ("foreign", 404, "not_found"), (expired_verification, 409, "expired"),
    (cancelled_verification, 409, "cancelled"), ("rejected", 409, "already_used"),
])
def test_refused_lookups(app, client, cast, factory, status, error):
    code = "ABCD-EFGH"
    if factory == "foreign":
        code = make_verification(app, submitted_verification, cast.other_clerk)[1]
    elif factory == "rejected":
        code = make_verification(app, rejected_verification, cast.clerk)[1]
    elif factory is not None:
        code = make_verification(app, factory)[1]
    before = count(app)
    response = client.get(f"{API}/verifications", query_string={"code": code},
                          headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (status, error)
    assert response.json["message"]
    with app.app_context():
        assert events("counter.verification.refused")[-1].data["reason"] == error
    assert count(app) > before


def test_lookup_without_a_code_is_a_bad_request(app, client, cast):
    for query in ({}, {"code": ""}, {"code": "x" * 100}):
        response = client.get(f"{API}/verifications", query_string=query, headers=api_headers(app, cast.clerk))
        assert (response.status_code, response.json["error"]) == (400, "invalid_request")


def test_own_account_is_refused(app, client, cast):
    public_id, code, _ = make_verification(app, pending_verification)
    with app.app_context():
        me = enrolled_clerk(staff(cast.clerk).office, username="clerk-me", national_id="079303001234").id
    headers = api_headers(app, me)
    response = client.get(f"{API}/verifications", query_string={"code": code}, headers=headers)
    assert (response.status_code, response.json["error"]) == (403, "own_account")
    response = client.post(f"{API}/verifications/{public_id}/submit", json=CHECK, headers=headers)
    assert (response.status_code, response.json["error"]) == (403, "own_account")


def test_submit_takes_the_office_from_the_session_and_is_idempotent(app, client, cast):
    public_id, _, vid = make_verification(app, pending_verification)
    headers = api_headers(app, cast.clerk)
    body = {**CHECK, "office_id": cast.other_office, "clerk_id": cast.other_clerk}
    response = client.post(f"{API}/verifications/{public_id}/submit", json=body, headers=headers)
    assert response.status_code == 200, response.json
    assert response.json["status"] == "submitted" and response.json["actions"] == []
    assert response.json["check"]["address"] == CHECK["address"]
    assert response.json["submitted_by"]["username"] == "clerk-hn-boho"
    saved = row(app, vid)
    assert (saved["office_id"], saved["clerk_id"]) == (cast.office, cast.clerk)
    before = count(app)
    again = client.post(f"{API}/verifications/{public_id}/submit", json=body, headers=headers)
    assert again.status_code == 200 and again.json["status"] == "submitted"
    assert count(app) == before and row(app, vid) == saved


@pytest.mark.parametrize(("change", "error", "problems"), [
    ({"document_number": "079303001235"}, "document.number_mismatch", ["document.number_mismatch"]),
    ({"issued_on": "2012-01-01", "expires_on": "2022-01-01"}, "document.expired", ["document.expired"]),
    ({"sex_match": False, "document_type": "cmnd"}, "document.type", ["document.type", "document.mismatch"]),
    ({"address": {"street": "x", "ward": "y", "province_code": "001"}}, "address.province", None),
    ({"address": {"street": "", "ward": "y", "province_code": "79"}}, "address.street", None),
])
def test_a_refused_check_lists_its_problems_and_stores_nothing(app, client, cast, change, error, problems):
    public_id, _, vid = make_verification(app, pending_verification)
    before = row(app, vid)
    response = client.post(f"{API}/verifications/{public_id}/submit", json={**CHECK, **change},
                           headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (400, error)
    if problems:
        assert [p["code"] for p in response.json["problems"]] == problems
    assert row(app, vid) == before


@pytest.mark.parametrize("body", [
    b"not json", b"[1, 2]", b'"text"', b"{", json.dumps({**CHECK, "name_match": "yes"}).encode(),
    json.dumps({**CHECK, "issued_on": "15/07/2024"}).encode(),
    json.dumps({**CHECK, "issued_on": "2024-02-30"}).encode(),
    json.dumps({**CHECK, "document_number": 79303001234}).encode(),
    json.dumps({**CHECK, "address": "Hà Nội"}).encode(),
    json.dumps({k: v for k, v in CHECK.items() if k != "expires_on"}).encode(),
    json.dumps({**CHECK, "padding": "x" * 20000}).encode(),
    json.dumps({**CHECK, "padding": "x" * 100_000}).encode(),
])
def test_malformed_bodies_are_bad_requests(app, client, cast, body):
    public_id, _, vid = make_verification(app, pending_verification)
    before = row(app, vid)
    response = client.post(f"{API}/verifications/{public_id}/submit", data=body,
                           headers={**api_headers(app, cast.clerk), "Content-Type": "application/json"})
    assert (response.status_code, response.json["error"]) == (400, "invalid_request")
    assert row(app, vid) == before


def test_reject_needs_a_reason(app, client, cast):
    public_id, _, vid = make_verification(app, pending_verification)
    headers = api_headers(app, cast.clerk)
    url = f"{API}/verifications/{public_id}/reject"
    assert client.post(url, json={}, headers=headers).json["error"] == "invalid_request"
    response = client.post(url, json={"reason": "tired"}, headers=headers)
    assert (response.status_code, response.json["error"]) == (400, "invalid_reason")
    assert row(app, vid)["status"] is VerificationStatus.PENDING
    response = client.post(url, json={"reason": "document_damaged"}, headers=headers)
    assert response.status_code == 200
    assert response.json["decision"]["reject_reason"] == "document_damaged"


def test_approve_rules_and_retries(app, client, cast):
    public_id, _, vid = make_verification(app, submitted_verification, cast.clerk)
    url = f"{API}/verifications/{public_id}/approve"
    response = client.post(url, headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (403, "supervisor_only")
    own_id = make_verification(app, submitted_verification, cast.supervisor, citizen=cast.citizen)[0]
    response = client.post(f"{API}/verifications/{own_id}/approve", json={}, headers=api_headers(app, cast.supervisor))
    assert (response.status_code, response.json["error"]) == (403, "own_submission")
    headers = api_headers(app, cast.supervisor)
    assert client.post(url, data=b"{", headers={**headers, "Content-Type": "application/json"}).status_code == 400
    response = client.post(url, headers=headers)
    assert response.status_code == 200 and response.json["status"] == "approved"
    assert response.json["decision"]["decided_by"]["username"] == "supervisor-hn-boho"
    assert response.json["actions"] == ["revoke"]
    before = count(app)
    assert client.post(url, headers=headers).status_code == 200  # retried: nothing new
    assert count(app) == before
    response = client.post(f"{API}/verifications/{public_id}/reject", json={"reason": "other"}, headers=headers)
    assert (response.status_code, response.json["error"], response.json["current_status"]) == (
        409, "conflict", "approved")
    assert "đã phê duyệt" in response.json["message"]  # Vietnamese unless the terminal asks
    with app.app_context():
        assert len(events("counter.verification.approve")) == 1
        assert [m.template for m in outbox(row(app, vid)["account_id"])] == ["counter.approved"]


def test_another_offices_record_is_not_found_on_every_endpoint(app, client, cast):
    public_id, code, vid = make_verification(app, submitted_verification, cast.clerk)
    approved_id = make_verification(app, approved_verification, cast.clerk, cast.supervisor, citizen=cast.citizen)[0]
    headers = api_headers(app, cast.other_supervisor)
    before = row(app, vid)
    calls = [client.get(f"{API}/verifications", query_string={"code": code}, headers=headers),
             client.get(f"{API}/verifications/{public_id}", headers=headers),
             client.post(f"{API}/verifications/{public_id}/submit", json=CHECK, headers=headers),
             client.post(f"{API}/verifications/{public_id}/reject", json={"reason": "other"}, headers=headers),
             client.post(f"{API}/verifications/{public_id}/approve", json={}, headers=headers),
             client.post(f"{API}/verifications/{approved_id}/revoke", json={"reason": "other"}, headers=headers)]
    assert [(r.status_code, r.json["error"]) for r in calls] == [(404, "not_found")] * 6
    assert row(app, vid) == before
    assert client.get(f"{API}/queue", headers=headers).json["items"] == []


def test_queue_is_for_supervisors(app, client, cast):
    public_id = make_verification(app, submitted_verification, cast.clerk)[0]
    response = client.get(f"{API}/queue", headers=api_headers(app, cast.clerk))
    assert (response.status_code, response.json["error"]) == (403, "supervisor_only")
    response = client.get(f"{API}/queue?page=-3", headers=api_headers(app, cast.supervisor))
    assert response.status_code == 200
    assert [item["id"] for item in response.json["items"]] == [public_id]
    assert (response.json["page"], response.json["pages"], response.json["total"]) == (1, 1, 1)
    assert "national_id" not in response.json["items"][0]["citizen"]


def test_wrong_method_is_refused(app, client, cast):
    # Routing errors happen before the blueprint is known: idp.web.error_pages answers them
    # (JSON only if the client asks for it, until /counter/api/ is one of its JSON_PREFIXES).
    response = client.delete(f"{API}/verifications/x", headers={**api_headers(app, cast.clerk),
                                                               "Accept": "application/json"})
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    r = Receiver()
    yield r
    r.close()


def test_revocation_signs_the_citizen_out_of_every_portal(app, client, cast, receiver):
    portal = registered_portal(app, backchannel_logout_uri=receiver.uri)
    sign_in(client)  # the cast's citizen, 001099012345
    code, request = obtain_code(client, portal, scope="openid offline_access")
    tokens = exchange(client, portal, code, request.verifier).json
    public_id, _, vid = make_verification(app, approved_verification, cast.clerk, cast.supervisor, citizen=cast.citizen)
    terminal = app.test_client()
    response = terminal.post(f"{API}/verifications/{public_id}/revoke", json={"reason": "suspected_fraud"},
                             headers=api_headers(app, cast.supervisor))
    assert response.status_code == 200 and response.json["status"] == "revoked"
    assert response.json["revocation"]["reason"] == "suspected_fraud"
    assert refresh(client, portal, tokens["refresh_token"]).json["error"] == "invalid_grant"
    assert client.get("/account").status_code == 302  # signed out
    assert len(receiver.tokens) == 1  # the back-channel logout reached the portal
    with app.app_context():
        account = db.session.get(Account, cast.citizen)
        assert (account.identity_loa, account.postal_address, account.address_verified_at) == (1, None, None)
        assert {s.revoke_reason for s in db.session.scalars(select(UserSession))} == {"verification_revoked"}
        assert all(t.revoked_at is not None for t in db.session.scalars(select(OAuthToken)))
        assert db.session.scalar(select(LogoutDelivery)).delivered_at is not None
        assert [m.template for m in outbox(cast.citizen)] == ["counter.revoked"]
        [event] = events("counter.verification.revoke")
        assert (event.channel, event.staff_id, event.office_id) == ("api", cast.supervisor, cast.office)
    assert row(app, vid)["status"] is VerificationStatus.REVOKED
