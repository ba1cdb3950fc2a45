"""The counter console pages for looking up a code, recording the document check and
deciding (black-box HTTP through the guard, with the database effects checked)."""

from __future__ import annotations

import html

import pytest

from idp.domain.enrolment_code import qr_payload
from idp.extensions import db
from idp.models import Account, IdentityVerification, VerificationStatus
from tests.conftest import csrf_token
from tests.counter import helpers
from tests.counter.cast import events, make_verification, row
from tests.verification_factories import (
    approved_verification,
    expired_verification,
    pending_verification,
    submitted_verification,
)

LOCALE_COOKIE = "postid_lang"


def console_client(app, staff_id):  # type: ignore[no-untyped-def]
    """These tests read the console's English texts (the Vietnamese ones are checked by the
    translations test and in tests/counter/test_assisted.py)."""
    client = helpers.console_client(app, staff_id)
    client.set_cookie(LOCALE_COOKIE, "en")
    return client


def post(client, path, **data):  # type: ignore[no-untyped-def]
    return client.post(path, data={"csrf_token": csrf_token(client, "/counter/"), **data})


def text(response) -> str:  # type: ignore[no-untyped-def]
    return html.unescape(response.get_data(as_text=True))


CHECK_FORM = {"document_type": "can_cuoc", "document_number": "0793 0300 1234",
              "issued_on": "15/07/2024", "expires_on": "01/02/2043", "name_match": "y",
              "birthdate_match": "y", "sex_match": "y", "photo_match": "y",
              "province_code": "79", "ward": "Phường Sài Gòn", "street": "2 Công xã Paris"}


def test_console_needs_a_signed_in_staff_member(client):
    assert client.get("/counter/").status_code == 302
    assert client.post("/counter/lookup", data={"code": "ABCD-EFGH"}).status_code in (302, 400)


def test_home_has_an_autofocused_code_field_for_qr_scanners(app, cast):
    page = text(console_client(app, cast.clerk).get("/counter/"))
    assert 'name="code"' in page and "autofocus" in page
    assert "<script" not in page and "style=" not in page


def test_scanned_qr_payload_opens_the_record_with_the_declared_data(app, cast):
    public_id, code, _ = make_verification(app, pending_verification)
    client = helpers.console_client(app, cast.clerk)  # Vietnamese: dates as dd/mm/yyyy
    response = post(client, "/counter/lookup", code=qr_payload(code))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/counter/checks/{public_id}"
    page = text(client.get(response.headers["Location"]))
    assert "Trần Thị Bích Ngọc" in page and "079303001234" in page and "01/02/2003" in page
    assert "09*****789" in page and "983 456 789" not in page  # the phone is masked
    assert 'name="document_number"' in page and 'name="reason"' in page


@pytest.mark.parametrize(("kind", "status"), [("unknown", 404), ("foreign", 404), ("expired", 409)])
def test_refused_lookups_say_why(app, cast, kind, status):
    code = "ABCD-EFGH"
    if kind == "foreign":
        code = make_verification(app, submitted_verification, cast.other_clerk)[1]
    if kind == "expired":
        code = make_verification(app, expired_verification)[1]
    response = post(console_client(app, cast.clerk), "/counter/lookup", code=code)
    assert response.status_code == status
    assert 'class="error-message"' in text(response)


def test_empty_lookup_is_a_form_error(app, cast):
    response = post(console_client(app, cast.clerk), "/counter/lookup", code="")
    assert response.status_code == 400 and 'class="error-message"' in text(response)


def test_clerk_submits_the_check_and_the_office_comes_from_the_session(app, cast):
    public_id, _, vid = make_verification(app, pending_verification)
    client = console_client(app, cast.clerk)
    response = post(client, f"/counter/checks/{public_id}/submit", office_id=str(cast.other_office),
                    **CHECK_FORM)
    assert response.status_code == 302, text(response).split("error-summary")[-1][:400]
    assert response.headers["Location"].endswith(f"/counter/checks/{public_id}?done=submitted")
    saved = row(app, vid)
    assert saved["status"] is VerificationStatus.SUBMITTED
    assert (saved["office_id"], saved["clerk_id"]) == (cast.office, cast.clerk)
    assert saved["document_number"] == "079303001234"
    assert saved["verified_address"] == {"street": "2 Công xã Paris", "ward": "Phường Sài Gòn",
                                         "province_code": "79"}
    assert "Submitted." in text(client.get(response.headers["Location"]))


def test_a_card_valid_for_life_needs_the_box_ticked(app, cast):
    public_id, _, vid = make_verification(app, pending_verification)
    client = console_client(app, cast.clerk)
    form = {**CHECK_FORM, "expires_on": ""}
    assert post(client, f"/counter/checks/{public_id}/submit", **form).status_code == 400
    response = post(client, f"/counter/checks/{public_id}/submit", **form, no_expiry="y")
    assert response.status_code == 302
    assert row(app, vid)["document_expires_on"] is None


@pytest.mark.parametrize(("change", "message"), [
    ({"document_number": "079303001235"}, "not the ID number the citizen declared"),
    ({"issued_on": "01/01/2012", "expires_on": "01/01/2022"}, "reject the check"),
    ({"photo_match": ""}, "Every item must match"),
    ({"issued_on": "31/02/2024"}, "dd/mm/yyyy"),
    ({"document_type": "cmnd"}, "Choose the type of document."),
    ({"province_code": "010", "ward": "x"}, "Choose the province or city."),
    ({"street": ""}, "Enter the house number and street."),
    ({"document_number": "12ab"}, "digits only"),
])
def test_a_check_with_problems_is_shown_again_and_nothing_is_stored(app, cast, change, message):
    public_id, _, vid = make_verification(app, pending_verification)
    before = row(app, vid)
    response = post(console_client(app, cast.clerk), f"/counter/checks/{public_id}/submit",
                    **{**CHECK_FORM, **change})
    assert response.status_code == 400
    assert message in text(response)
    assert row(app, vid) == before


def test_clerk_rejects_at_the_counter(app, cast):
    public_id, _, vid = make_verification(app, pending_verification)
    client = console_client(app, cast.clerk)
    assert post(client, f"/counter/checks/{public_id}/reject", reason="bogus").status_code == 400
    assert row(app, vid)["status"] is VerificationStatus.PENDING
    response = post(client, f"/counter/checks/{public_id}/reject", reason="photo_mismatch")
    assert response.status_code == 302
    assert row(app, vid)["status"] is VerificationStatus.REJECTED
    page = text(client.get(response.headers["Location"]))
    assert "Rejected." in page and "The photo does not match the person" in page


def test_clerk_cannot_approve_and_supervisor_can(app, cast):
    public_id, _, vid = make_verification(app, submitted_verification, cast.clerk)
    clerk_page = text(console_client(app, cast.clerk).get(f"/counter/checks/{public_id}"))
    assert f"/counter/checks/{public_id}/approve" not in clerk_page
    response = post(console_client(app, cast.clerk), f"/counter/checks/{public_id}/approve")
    assert response.status_code == 403 and "Only a supervisor can do this." in text(response)
    assert row(app, vid)["status"] is VerificationStatus.SUBMITTED
    supervisor = console_client(app, cast.supervisor)
    assert f"/counter/checks/{public_id}/approve" in text(supervisor.get(f"/counter/checks/{public_id}"))
    response = post(supervisor, f"/counter/checks/{public_id}/approve")
    assert response.status_code == 302
    assert row(app, vid)["status"] is VerificationStatus.APPROVED
    with app.app_context():
        assert db.session.get(IdentityVerification, vid).account.identity_loa == 2


def test_supervisor_cannot_approve_own_submission(app, cast):
    public_id, _, vid = make_verification(app, submitted_verification, cast.supervisor)
    client = console_client(app, cast.supervisor)
    assert f"/counter/checks/{public_id}/approve" not in text(client.get(f"/counter/checks/{public_id}"))
    response = post(client, f"/counter/checks/{public_id}/approve")
    assert response.status_code == 403
    assert row(app, vid)["status"] is VerificationStatus.SUBMITTED


def test_missing_csrf_token_changes_nothing(app, cast):
    public_id, _, vid = make_verification(app, submitted_verification, cast.clerk)
    response = console_client(app, cast.supervisor).post(f"/counter/checks/{public_id}/approve")
    assert response.status_code == 400
    assert row(app, vid)["status"] is VerificationStatus.SUBMITTED


def test_another_offices_record_is_not_found_on_every_page(app, cast):
    public_id, _, vid = make_verification(app, submitted_verification, cast.clerk)
    approved_id = make_verification(app, approved_verification, cast.clerk, cast.supervisor, citizen=cast.citizen)[0]
    client = console_client(app, cast.other_supervisor)
    before = row(app, vid)
    assert client.get(f"/counter/checks/{public_id}").status_code == 404
    assert client.get(f"/counter/checks/{'x' * 300}").status_code == 404
    for action, data in (("submit", CHECK_FORM), ("reject", {"reason": "other"}), ("approve", {})):
        assert post(client, f"/counter/checks/{public_id}/{action}", **data).status_code == 404
    assert post(client, f"/counter/checks/{approved_id}/revoke", reason="other").status_code == 404
    assert row(app, vid) == before


def test_queue_and_approved_lists_are_for_supervisors(app, cast):
    public_id, code, _ = make_verification(app, submitted_verification, cast.clerk)
    approved = make_verification(app, approved_verification, cast.clerk, cast.supervisor, citizen=cast.citizen)
    clerk = console_client(app, cast.clerk)
    assert clerk.get("/counter/queue").status_code == 403
    assert clerk.get("/counter/approved").status_code == 403
    supervisor = console_client(app, cast.supervisor)
    page = text(supervisor.get("/counter/queue?page=abc"))
    assert f"/counter/checks/{public_id}" in page and "Trần Thị Bích Ngọc" in page
    assert approved[0] not in page
    listing = text(supervisor.get("/counter/approved"))
    assert approved[0] in listing and public_id not in listing
    assert approved[0] in text(supervisor.get("/counter/approved", query_string={"code": approved[1].lower()}))
    assert approved[0] not in text(supervisor.get("/counter/approved", query_string={"code": code}))
    assert public_id not in text(console_client(app, cast.other_supervisor).get("/counter/queue"))


def test_supervisor_revokes_from_the_console(app, cast):
    public_id, _, vid = make_verification(app, approved_verification, cast.clerk, cast.supervisor, citizen=cast.citizen)
    client = console_client(app, cast.supervisor)
    page = text(client.get(f"/counter/checks/{public_id}"))
    assert f"/counter/checks/{public_id}/revoke" in page
    assert post(client, f"/counter/checks/{public_id}/revoke", reason="").status_code == 400
    response = post(client, f"/counter/checks/{public_id}/revoke", reason="suspected_fraud")
    assert response.status_code == 302
    assert row(app, vid)["status"] is VerificationStatus.REVOKED
    with app.app_context():
        assert db.session.get(Account, cast.citizen).identity_loa == 1
        assert len(events("counter.verification.revoke")) == 1
