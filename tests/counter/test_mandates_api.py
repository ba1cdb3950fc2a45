"""The counter JSON API of mandates (black-box HTTP through the bearer guard): exact statuses,
`error` codes, what was (not) stored and audited, and every answer as the OpenAPI document
describes it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from idp.extensions import db
from idp.models import Mandate, MandateEnder, PostOffice, UserSession
from idp.models.base import utcnow
from idp.services.identity import acting
from tests.counter.cast import events, staff
from tests.counter.helpers import api_headers
from tests.counter.test_openapi import assert_documented, document
from tests.factories import last_sent
from tests.mandate_factories import (
    VERIFIED_ID,
    active_mandate,
    another_verified_citizen,
    delegating_portal,
    pending_mandate,
    verified_citizen,
)

API = "/counter/api/mandates"
BODY = {"national_id": "0010 8800 4567", "document_type": "can_cuoc",
        "document_number": VERIFIED_ID, "issued_on": "2021-06-01", "expires_on": "2040-04-12",
        "name_match": True, "birthdate_match": True, "sex_match": True, "photo_match": True,
        "kinds": ["social_insurance"], "client_ids": [], "months": 6}


@pytest.fixture
def citizen(app: Flask, cast) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return verified_citizen().id


def call(client, app: Flask, staff_id: int, method: str, url: str, doc_path: str,  # type: ignore[no-untyped-def]
         **kwargs: Any):
    response = client.open(url, method=method.upper(), headers=api_headers(app, staff_id), **kwargs)
    assert_documented(document(), method, doc_path, response)
    return response


def count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Mandate)) or 0


def make(app: Flask, factory, office_id: int, staff_id: int, **kwargs: Any) -> str:  # type: ignore[no-untyped-def]
    with app.app_context():
        return factory(db.session.get(PostOffice, office_id), staff(staff_id), **kwargs).public_id


def test_create_send_and_confirm_with_the_citizens_code(app, client, cast, citizen):
    made = call(client, app, cast.clerk, "post", API, "/counter/api/mandates", json=BODY)
    assert made.status_code == 201
    body = made.json
    assert (body["status"], body["kinds"], body["months"], body["code_sent"], body["resend_in"]) == (
        "pending", ["social_insurance"], 6, False, 0)
    assert body["citizen"] == {"full_name": "Hoàng Văn Minh", "national_id": VERIFIED_ID,
                               "phone": "09*****999"}
    public_id = body["id"]
    one = f"{API}/{public_id}"
    sent = call(client, app, cast.clerk, "post", f"{one}/send-code",
                "/counter/api/mandates/{public_id}/send-code")
    assert sent.status_code == 200 and sent.json["sent"] is True and sent.json["code_sent"] is True
    again = call(client, app, cast.clerk, "post", f"{one}/send-code",
                 "/counter/api/mandates/{public_id}/send-code", json={})
    assert again.status_code == 200 and again.json["sent"] is False and again.json["resend_in"] > 0
    code = last_sent(app, "mandate.confirm_code", r"\b(\d{6})\b")
    wrong = call(client, app, cast.clerk, "post", f"{one}/confirm",
                 "/counter/api/mandates/{public_id}/confirm",
                 json={"code": "000000" if code != "000000" else "111111"})
    assert (wrong.status_code, wrong.json["error"]) == (400, "wrong_code")
    done = call(client, app, cast.clerk, "post", f"{one}/confirm",
                "/counter/api/mandates/{public_id}/confirm", json={"code": code})
    assert done.status_code == 200
    assert (done.json["status"], done.json["confirmed_by"]) == ("active", "sms_code")
    retry = call(client, app, cast.clerk, "post", f"{one}/confirm",
                 "/counter/api/mandates/{public_id}/confirm", json={"code": code})
    assert retry.status_code == 200 and retry.json["confirmed_at"] == done.json["confirmed_at"]
    shown = call(client, app, cast.supervisor, "get", one, "/counter/api/mandates/{public_id}")
    assert shown.json["status"] == "active" and shown.json["resend_in"] is None
    with app.app_context():
        [created] = events("mandate.create")
        assert (created.staff_id, created.office_id, created.channel) == (cast.clerk, cast.office, "api")
        assert len(events("mandate.confirm")) == 1
        assert len(events("mandate.confirm.failure")) == 1


def test_five_wrong_codes_and_the_code_is_used_up(app, client, cast):
    public_id = make(app, pending_mandate, cast.office, cast.clerk)
    one = f"{API}/{public_id}"
    call(client, app, cast.clerk, "post", f"{one}/send-code", "/counter/api/mandates/{public_id}/send-code")
    code = last_sent(app, "mandate.confirm_code", r"\b(\d{6})\b")
    wrong = "000000" if code != "000000" else "111111"
    errors = [call(client, app, cast.clerk, "post", f"{one}/confirm",
                   "/counter/api/mandates/{public_id}/confirm", json={"code": wrong}).json["error"]
              for _ in range(5)]
    assert errors == ["wrong_code"] * 4 + ["code_used_up"]
    last = call(client, app, cast.clerk, "post", f"{one}/confirm",
                "/counter/api/mandates/{public_id}/confirm", json={"code": code})
    assert (last.status_code, last.json["error"]) == (409, "code_used_up")
    with app.app_context():
        assert db.session.scalar(select(Mandate.confirmed_at).where(
            Mandate.public_id == public_id)) is None


def test_a_code_from_another_day_is_refused(app, client, cast):
    public_id = make(app, pending_mandate, cast.office, cast.clerk, months=3)
    one = f"{API}/{public_id}"
    call(client, app, cast.clerk, "post", f"{one}/send-code", "/counter/api/mandates/{public_id}/send-code")
    with app.app_context():
        mandate = db.session.scalar(select(Mandate).where(Mandate.public_id == public_id))
        mandate.created_at -= timedelta(days=1)
        db.session.commit()
    code = last_sent(app, "mandate.confirm_code", r"\b(\d{6})\b")
    response = call(client, app, cast.clerk, "post", f"{one}/confirm",
                    "/counter/api/mandates/{public_id}/confirm", json={"code": code})
    assert (response.status_code, response.json["error"]) == (409, "day_passed")


@pytest.mark.parametrize(("change", "status", "error"), [
    ({"national_id": "001099012345"}, 409, "not_verified"),  # the cast's citizen: LoA1
    ({"national_id": "001099099999"}, 404, "citizen_not_found"),
    ({"national_id": "12"}, 400, "invalid_national_id"),
    ({"document_number": "001088004568"}, 400, "document.number_mismatch"),
    ({"photo_match": False}, 400, "document.mismatch"),
    ({"expires_on": "2020-01-01", "issued_on": "2015-01-01"}, 400, "document.expired"),
    ({"kinds": []}, 400, "scope_required"),
    ({"kinds": ["lottery"]}, 400, "invalid_scope"),
    ({"kinds": [], "client_ids": ["nope"]}, 400, "invalid_scope"),
    ({"months": 13}, 400, "invalid_duration"),
    ({"months": "6"}, 400, "invalid_request"),
    ({"kinds": "social_insurance"}, 400, "invalid_request"),
    ({"issued_on": "01/06/2021"}, 400, "invalid_request"),
])
def test_refusals_store_nothing(app, client, cast, citizen, change, status, error):
    response = call(client, app, cast.clerk, "post", API, "/counter/api/mandates",
                    json={**BODY, **change})
    assert (response.status_code, response.json["error"]) == (status, error)
    assert count(app) == 0
    if error.startswith("document."):
        assert [p["code"] for p in response.json["problems"]] == [error]


def test_own_account_and_colleague_are_403(app, client, cast):
    with app.app_context():
        verified_citizen(national_id="001085000001", birthdate=date(1985, 3, 1), phone="0912000222")
    own = call(client, app, cast.clerk, "post", API, "/counter/api/mandates",
               json={**BODY, "national_id": "001085000001", "document_number": "001085000001"})
    colleague = call(client, app, cast.supervisor, "post", API, "/counter/api/mandates",
                     json={**BODY, "national_id": "001085000001", "document_number": "001085000001"})
    assert (own.status_code, own.json["error"]) == (403, "own_account")
    assert (colleague.status_code, colleague.json["error"]) == (403, "colleague")
    assert count(app) == 0
    with app.app_context():
        assert [e.data["reason"] for e in events("mandate.refused")] == ["own_account", "colleague"]
        assert all((e.office_id, e.channel) == (cast.office, "api") for e in events("mandate.refused"))


def test_a_malformed_body_is_400(app, client, cast):
    for body in (b"[]", b"{", b"x" * 9000):
        response = call(client, app, cast.clerk, "post", API, "/counter/api/mandates", data=body,
                        content_type="application/json")
        assert (response.status_code, response.json["error"]) == (400, "invalid_request")


def test_another_offices_mandate_is_404_everywhere(app, client, cast):
    public_id = make(app, active_mandate, cast.other_office, cast.other_clerk)
    one = f"{API}/{public_id}"
    for method, url, path in [("get", one, "/counter/api/mandates/{public_id}"),
                              ("post", f"{one}/send-code", "/counter/api/mandates/{public_id}/send-code"),
                              ("post", f"{one}/end", "/counter/api/mandates/{public_id}/end")]:
        response = call(client, app, cast.supervisor, method, url, path)
        assert (response.status_code, response.json["error"]) == (404, "not_found")
    response = call(client, app, cast.supervisor, "post", f"{one}/confirm",
                    "/counter/api/mandates/{public_id}/confirm", json={"code": "123456"})
    assert response.status_code == 404


def test_clerks_cannot_list_or_end(app, client, cast):
    public_id = make(app, active_mandate, cast.office, cast.clerk)
    listing = call(client, app, cast.clerk, "get", API, "/counter/api/mandates")
    ending = call(client, app, cast.clerk, "post", f"{API}/{public_id}/end",
                  "/counter/api/mandates/{public_id}/end")
    assert (listing.status_code, listing.json["error"]) == (403, "supervisor_only")
    assert (ending.status_code, ending.json["error"]) == (403, "supervisor_only")
    with app.app_context():
        assert db.session.scalar(select(Mandate.revoked_at).where(Mandate.public_id == public_id)) is None


def test_a_supervisor_lists_and_ends_one_and_its_sessions_end(app, client, cast):
    public_id = make(app, active_mandate, cast.office, cast.clerk)
    with app.app_context():  # another office's: not listed
        pending_mandate(db.session.get(PostOffice, cast.other_office), staff(cast.other_clerk),
                        account=another_verified_citizen())
    with app.app_context():
        mandate = db.session.scalar(select(Mandate).where(Mandate.public_id == public_id))
        session_id = acting.open_mandate_session_in_transaction(
            mandate, staff=staff(cast.clerk), client=delegating_portal(),
            amr="pwd otp mfa").session.id
        db.session.commit()
    listing = call(client, app, cast.supervisor, "get", API, "/counter/api/mandates",
                   query_string={"page": "0"})
    assert listing.json["total"] == 1 and listing.json["items"][0]["id"] == public_id
    assert listing.json["items"][0]["status"] == "active"
    ended = call(client, app, cast.supervisor, "post", f"{API}/{public_id}/end",
                 "/counter/api/mandates/{public_id}/end")
    assert ended.status_code == 200
    assert (ended.json["status"], ended.json["revoked_by"]) == ("revoked", "supervisor")
    again = call(client, app, cast.supervisor, "post", f"{API}/{public_id}/end",
                 "/counter/api/mandates/{public_id}/end", json={})
    assert again.status_code == 200 and again.json["revoked_at"] == ended.json["revoked_at"]
    with app.app_context():
        assert db.session.get(UserSession, session_id).revoked_at is not None
        [event] = events("mandate.revoke")
        assert (event.staff_id, event.office_id, event.data["by"]) == (
            cast.supervisor, cast.office, MandateEnder.SUPERVISOR.value)


def test_an_expired_mandate_cannot_be_ended(app, client, cast):
    public_id = make(app, active_mandate, cast.office, cast.clerk, months=0,
                     created_at=utcnow() - timedelta(days=3))
    response = call(client, app, cast.supervisor, "post", f"{API}/{public_id}/end",
                    "/counter/api/mandates/{public_id}/end")
    assert response.status_code == 409
    assert (response.json["error"], response.json["current_status"]) == ("already_ended", "expired")


@pytest.mark.parametrize("suffix", ["", "/send-code", "/confirm", "/end"])
def test_a_nul_or_stray_character_in_an_id_is_not_found_never_a_500(app, client, cast, suffix):
    method = "get" if suffix == "" else "post"
    for bad in ("a%00b", "a%20b", "x" * 23):
        response = client.open(f"{API}/{bad}{suffix}", method=method.upper(),
                               headers=api_headers(app, cast.supervisor), json={"code": "123456"})
        assert response.status_code == 404 and response.json["error"] == "not_found", (bad, suffix)


def test_a_nul_in_a_portal_id_is_a_bad_scope_and_stores_nothing(app, client, cast, citizen):
    response = client.post(API, headers=api_headers(app, cast.clerk),
                           json={**BODY, "client_ids": ["demo\x00portal"]})
    assert (response.status_code, response.json["error"]) == (400, "invalid_scope")
    assert count(app) == 0
