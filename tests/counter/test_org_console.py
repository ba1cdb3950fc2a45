"""The counter console for organisations: one lookup field for both kinds of code, the check
page and its forms, the decisions, the queue and the list of verified organisations (black-box
HTTP through the guard, with the database effects checked)."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from werkzeug.datastructures import MultiDict

from idp.domain.enrolment_code import qr_payload
from idp.models import OrganisationStatus, VerificationStatus
from idp.models.base import utcnow
from tests.conftest import csrf_token
from tests.counter import helpers
from tests.counter.cast import event_count, events, make_verification
from tests.counter.org_cast import (
    CHECK_FORM,
    approved_organisation_check,
    clerk_as_citizen,
    make_org_check,
    org_row,
)
from tests.organisation_factories import (
    OTHER_TAX_CODE,
    pending_organisation_check,
    submitted_organisation_check,
)
from tests.verification_factories import pending_verification


def console_client(app, staff_id):  # type: ignore[no-untyped-def]
    client = helpers.console_client(app, staff_id)
    client.set_cookie("postid_lang", "en")
    return client


def post(client, path, **data):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, "/counter/"), **data})


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


def count(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        return event_count()


def test_one_field_opens_both_kinds_of_code(app, cast):
    org = make_org_check(app, pending_organisation_check, representative=cast.citizen)
    citizen_id, citizen_code, _ = make_verification(app, pending_verification)
    client = console_client(app, cast.clerk)
    response = post(client, "/counter/lookup", code=qr_payload(org.code))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/counter/organisation-checks/{org.public_id}"
    response = post(client, "/counter/lookup", code=citizen_code.lower())
    assert response.headers["Location"] == f"/counter/checks/{citizen_id}"
    with app.app_context():
        assert [e.data["verification"] for e in events("counter.organisation.view")] == [org.public_id]
        assert events("counter.organisation.refused") == []


def test_the_check_page_shows_the_organisation_and_its_representative(app, cast):
    org = make_org_check(app, pending_organisation_check)
    page = text(console_client(app, cast.clerk).get(f"/counter/organisation-checks/{org.public_id}"))
    assert "Công ty TNHH Sen Vàng" in page and "0100233488" in page and "Director" in page
    assert "35 Ngô Quyền" in page and "Trần Thị Bích Ngọc" in page and "079303001234" in page
    assert "09*****789" in page and "983 456 789" not in page  # the phone is masked
    assert "Declared online (level 1)" in page
    for name in ("certificate_number", "certificate_match", "document_number", "authority",
                 "power_of_attorney_ref", "reason"):
        assert f'name="{name}"' in page
    assert 'name="street"' not in page  # no postal address for an organisation
    assert "<script" not in page and "style=" not in page


@pytest.mark.parametrize(("kind", "status"), [("unknown", 404), ("foreign", 404), ("expired", 409), ("own", 403)])
def test_refused_lookups_say_why(app, cast, kind, status):
    code = "ABCD-EFGH"
    if kind == "foreign":
        code = make_org_check(app, submitted_organisation_check, cast.other_clerk).code
    if kind == "expired":
        code = make_org_check(app, pending_organisation_check, expires_at=utcnow() - timedelta(days=1)).code
    if kind == "own":
        with app.app_context():
            me = clerk_as_citizen().id
        code = make_org_check(app, pending_organisation_check, representative=me).code
    response = post(console_client(app, cast.clerk), "/counter/lookup", code=code)
    assert response.status_code == status
    assert 'class="error-message"' in text(response)


def test_the_clerk_submits_a_check(app, cast):
    org = make_org_check(app, pending_organisation_check)
    client = console_client(app, cast.clerk)
    response = post(client, f"/counter/organisation-checks/{org.public_id}/submit", **CHECK_FORM)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/counter/organisation-checks/{org.public_id}?done=submitted"
    saved = org_row(app, org.id)
    assert (saved["status"], saved["office_id"], saved["clerk_id"]) == (VerificationStatus.SUBMITTED, cast.office, cast.clerk)
    assert (saved["certificate_number"], saved["document_number"]) == ("0100233488", "079303001234")
    page = text(client.get(response.headers["Location"]))
    assert "Submitted. A supervisor" in page and "0100233488" in page
    assert 'name="certificate_number"' not in page


def test_the_clerk_records_a_power_of_attorney(app, cast):
    org = make_org_check(app, pending_organisation_check)
    form = {**CHECK_FORM, "authority": "power_of_attorney", "power_of_attorney_ref": " Số 15/2025/UQ ",
            "power_of_attorney_date": "10/01/2025"}
    client = console_client(app, cast.clerk)
    assert post(client, f"/counter/organisation-checks/{org.public_id}/submit", **form).status_code == 302
    saved = org_row(app, org.id)
    assert (saved["power_of_attorney_ref"], saved["power_of_attorney_date"].isoformat()) == ("Số 15/2025/UQ", "2025-01-10")
    assert "Số 15/2025/UQ" in text(client.get(f"/counter/organisation-checks/{org.public_id}"))


@pytest.mark.parametrize(("change", "message"), [
    ({"document_number": "079303001235"}, "not the ID number"),
    ({"issued_on": "01/01/2012", "expires_on": "01/01/2022"}, "has expired"),
    ({"certificate_issued_on": "01/01/2099"}, "cannot be in the future"),
    ({"certificate_match": None}, "must be those registered online"),  # unticked: not sent
    ({"authority": "power_of_attorney"}, "reference (number) of the power of attorney"),
    ({"power_of_attorney_ref": "UQ-1"}, "Leave the power of attorney empty"),
])
def test_a_check_with_problems_is_shown_again_and_nothing_is_stored(app, cast, change, message):
    org = make_org_check(app, pending_organisation_check)
    before = org_row(app, org.id)
    form = {k: v for k, v in {**CHECK_FORM, **change}.items() if v is not None}
    response = post(console_client(app, cast.clerk), f"/counter/organisation-checks/{org.public_id}/submit", **form)
    assert response.status_code == 400
    page = text(response)
    assert 'id="error-summary"' in page and message in page
    assert org_row(app, org.id) == before


@pytest.mark.parametrize("change", [
    {"certificate_number": ""}, {"certificate_number": "x" * 5000}, {"certificate_issued_on": "31/02/2020"},
    {"certificate_issued_on": "٢٠٢٠-٠١-٠١"}, {"authority": "owner"}, {"authority": "ủy quyền"},
    {"power_of_attorney_ref": "ủy quyền " * 20}, {"power_of_attorney_date": "yesterday"},
    {"power_of_attorney_ref": "UQ\x00\x07"}, {"document_type": "cmnd"}, {"document_number": "０７９３"},
    {"issued_on": ""},
])
def test_malformed_forms_are_400_and_store_nothing(app, cast, change):
    org = make_org_check(app, pending_organisation_check)
    before = org_row(app, org.id)
    response = post(console_client(app, cast.clerk), f"/counter/organisation-checks/{org.public_id}/submit",
                    **{**CHECK_FORM, **change})
    assert response.status_code == 400
    assert org_row(app, org.id) == before


def test_missing_and_repeated_fields_never_500(app, cast):
    org = make_org_check(app, pending_organisation_check)
    client = console_client(app, cast.clerk)
    token = csrf_token(client, "/counter/")
    url = f"/counter/organisation-checks/{org.public_id}/submit"
    assert client.post(url, data={"csrf_token": token}).status_code == 400
    repeated = MultiDict([("csrf_token", token), *CHECK_FORM.items(),
                          ("authority", "power_of_attorney"), ("certificate_number", "X")])
    response = client.post(url, data=repeated)
    assert response.status_code in (302, 400)
    invalid_utf8 = b"&".join([b"csrf_token=" + token.encode(), b"certificate_number=%FF%FE",
                              b"authority=%C3%28", b"power_of_attorney_ref=%ED%A0%80"])
    response = client.post(url, data=invalid_utf8, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert client.post(url, data=CHECK_FORM).status_code == 400  # no CSRF token
    assert client.get(url).status_code == 405  # no state change on GET
    saved = org_row(app, org.id)
    assert saved["certificate_number"] in (None, "0100233488")


def test_the_supervisor_approves_from_the_queue(app, cast):
    org = make_org_check(app, submitted_organisation_check, cast.clerk)
    clerk = console_client(app, cast.clerk)
    assert clerk.get("/counter/queue").status_code == 403
    assert "/approve" not in text(clerk.get(f"/counter/organisation-checks/{org.public_id}"))
    assert post(clerk, f"/counter/organisation-checks/{org.public_id}/approve").status_code == 403
    supervisor = console_client(app, cast.supervisor)
    queue = text(supervisor.get("/counter/queue?org_page=x"))
    assert f"/counter/organisation-checks/{org.public_id}" in queue and "Công ty TNHH Sen Vàng" in queue
    page = text(supervisor.get(f"/counter/organisation-checks/{org.public_id}"))
    assert f"/counter/organisation-checks/{org.public_id}/approve" in page and "0100233488" in page
    response = post(supervisor, f"/counter/organisation-checks/{org.public_id}/approve")
    assert response.status_code == 302 and response.headers["Location"].endswith("?done=approved")
    saved = org_row(app, org.id)
    assert (saved["status"], saved["organisation.status"]) == (VerificationStatus.APPROVED, OrganisationStatus.VERIFIED)
    assert f"/counter/organisation-checks/{org.public_id}" not in text(supervisor.get("/counter/queue"))
    assert org.public_id not in text(console_client(app, cast.other_supervisor).get("/counter/queue"))


def test_rejections_need_a_reason(app, cast):
    org = make_org_check(app, pending_organisation_check)
    client = console_client(app, cast.clerk)
    url = f"/counter/organisation-checks/{org.public_id}/reject"
    assert post(client, url, reason="").status_code == 400
    assert post(client, url, reason="bored").status_code == 400
    assert org_row(app, org.id)["status"] is VerificationStatus.PENDING
    response = post(client, url, reason="other")
    assert response.status_code == 302
    assert org_row(app, org.id)["status"] is VerificationStatus.REJECTED
    assert "no power of attorney" in text(client.get(response.headers["Location"]))


def test_the_supervisor_finds_and_revokes_a_verified_organisation(app, cast):
    org = make_org_check(app, approved_organisation_check, cast.clerk, cast.supervisor)
    other = make_org_check(app, approved_organisation_check, cast.other_clerk, cast.other_supervisor,
                           representative=cast.citizen, organisation={"tax_code": OTHER_TAX_CODE})
    supervisor = console_client(app, cast.supervisor)
    assert console_client(app, cast.clerk).get("/counter/organisations/approved").status_code == 403
    listing = text(supervisor.get("/counter/organisations/approved?page=-1"))
    assert org.public_id in listing and other.public_id not in listing
    assert org.public_id in text(supervisor.get("/counter/organisations/approved", query_string={"q": "0100 233 488"}))
    assert org.public_id not in text(supervisor.get("/counter/organisations/approved", query_string={"q": OTHER_TAX_CODE}))
    assert supervisor.get("/counter/organisations/approved", query_string={"q": "\x00" * 500}).status_code == 200
    url = f"/counter/organisation-checks/{org.public_id}/revoke"
    assert url in text(supervisor.get(f"/counter/organisation-checks/{org.public_id}"))
    assert post(supervisor, url, reason="").status_code == 400
    response = post(supervisor, url, reason="suspected_fraud")
    assert response.status_code == 302
    saved = org_row(app, org.id)
    assert (saved["status"], saved["organisation.status"]) == (VerificationStatus.REVOKED, OrganisationStatus.REVOKED)


def test_another_office_gets_404_everywhere(app, cast):
    org = make_org_check(app, submitted_organisation_check, cast.clerk)
    before, events_before = org_row(app, org.id), count(app)
    client = console_client(app, cast.other_supervisor)
    assert client.get(f"/counter/organisation-checks/{org.public_id}").status_code == 404
    for action, data in (("submit", CHECK_FORM), ("reject", {"reason": "other"}), ("approve", {}),
                         ("revoke", {"reason": "other"})):
        assert post(client, f"/counter/organisation-checks/{org.public_id}/{action}", **data).status_code == 404
    assert client.get("/counter/organisation-checks/" + "x" * 300).status_code == 404
    assert org_row(app, org.id) == before
    assert count(app) == events_before + 6  # one refusal event each


def test_home_says_organisation_codes_work_too(app, cast):
    assert "organisations work here too" in text(console_client(app, cast.clerk).get("/counter/"))


def test_the_queue_pages_citizens_and_organisations_separately(app, cast, monkeypatch):
    from idp.services.counter import decisions as counter_decisions
    from idp.services.counter import organisation_decisions

    monkeypatch.setattr(counter_decisions, "PAGE_SIZE", 1)
    monkeypatch.setattr(organisation_decisions, "PAGE_SIZE", 1)
    make_org_check(app, submitted_organisation_check, cast.clerk)
    make_org_check(app, submitted_organisation_check, cast.clerk,
                   representative=cast.citizen, organisation={"tax_code": OTHER_TAX_CODE})
    queue = html.unescape(text(console_client(app, cast.supervisor).get("/counter/queue")))
    assert 'href="/counter/queue?org_page=2" rel="next"' in queue  # organisations: page 2
    second = html.unescape(text(console_client(app, cast.supervisor).get(
        "/counter/queue?org_page=2")))
    assert 'href="/counter/queue?org_page=1" rel="prev"' in second
