"""The organisation page (/business/<id>): who sees it, and the representative's enrolment code
for the counter check (request, cancel, lazy expiry, the check's outcome)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask

from idp.extensions import db
from idp.models import (
    Account,
    IdentityVerification,
    OrganisationVerification,
    RejectReason,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.identity import enrolment
from tests.business.helpers import (
    SECOND,
    STRANGER,
    THIRD,
    browser,
    events,
    membership_of,
    organisation_row,
    organisation_with,
    person,
    post,
    refusals,
)
from tests.organisation_factories import (
    pending_organisation_check,
    submitted_organisation_check,
)
from tests.staff_factories import enrolled_clerk, post_office
from tests.verification_factories import pending_verification
from tests.web.account.test_verification import PRINT_BUTTON, PRINT_SCRIPT

CODE_RE = re.compile(r'class="enrolment-code[^"]*"><strong>([A-Z0-9]{4}-[A-Z0-9]{4})</strong>')


def _organisation(app: Flask, *, verified: bool = False, **members: str) -> str:
    return organisation_with(app, verified=verified, **members)


def _checks(app: Flask) -> list[OrganisationVerification]:
    with app.app_context():
        rows = list(db.session.scalars(db.select(OrganisationVerification)
                                       .order_by(OrganisationVerification.id)))
        db.session.expunge_all()
        return rows


def test_members_see_the_page_others_get_404(app: Flask) -> None:
    public_id = _organisation(app, second="suspended", third="invited")
    page = browser(app).get(f"/business/{public_id}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Công ty TNHH Sen Vàng" in text and "0100233488" in text and "Not verified yet" in text
    suspended = browser(app, SECOND).get(f"/business/{public_id}")
    assert suspended.status_code == 200 and "Your membership</dt><dd>Suspended" in suspended.get_data(as_text=True)
    assert browser(app, THIRD).get(f"/business/{public_id}").status_code == 404  # only invited
    stranger = browser(app, STRANGER)
    assert stranger.get(f"/business/{public_id}").status_code == 404
    for bad in ("x" * 22, "short", "ü" * 22, "a" * 400):
        assert browser(app).get(f"/business/{bad}").status_code == 404


def test_a_suspended_member_is_told_why_they_cannot_act(app: Flask) -> None:
    public_id = _organisation(app, verified=True, second="suspended")
    text = browser(app, SECOND).get(f"/business/{public_id}").get_data(as_text=True)
    assert 'id="can-act">No. Your membership is suspended.' in text
    assert 'id="members"' not in text  # members do not see the member list


def test_removed_member_gets_404(app: Flask) -> None:
    public_id = _organisation(app, verified=True, second="removed")
    assert browser(app, SECOND).get(f"/business/{public_id}").status_code == 404


def test_verified_organisation_shows_no_code_section(app: Flask) -> None:
    public_id = _organisation(app, verified=True)
    text = browser(app).get(f"/business/{public_id}").get_data(as_text=True)
    assert "Verified at a post office on" in text and 'id="verification"' not in text
    assert 'id="can-act">Yes' in text


def test_request_shows_code_qr_and_what_to_bring(app: Flask) -> None:
    public_id = _organisation(app)
    client = browser(app)
    response = post(client, f"/business/{public_id}/verification/request")
    assert response.status_code == 303 and response.headers["Location"] == f"/business/{public_id}"
    [check] = _checks(app)
    assert check.status is VerificationStatus.PENDING and check.live_organisation_id == check.organisation_id
    assert timedelta(days=29) < check.expires_at - utcnow() <= timedelta(days=30)
    text = client.get(f"/business/{public_id}").get_data(as_text=True)
    assert CODE_RE.search(text).group(1) == check.display_code
    assert '<img class="qr" src="data:image/svg+xml;base64,' in text
    assert "registration certificate" in text and "power of attorney" in text and "own original chip ID card" in text
    assert PRINT_BUTTON in text and PRINT_SCRIPT in text
    # Again (double click, another tab): the same code.
    assert post(client, f"/business/{public_id}/verification/request").status_code == 303
    assert [c.id for c in _checks(app)] == [check.id]
    assert events(app, "organisation.verification.request") == [
        {"organisation": public_id, "verification": check.public_id}]


def test_cancel_then_new_code(app: Flask) -> None:
    public_id = _organisation(app)
    client = browser(app)
    post(client, f"/business/{public_id}/verification/request")
    [first] = _checks(app)
    path = f"/business/{public_id}/verification/cancel"
    response = post(client, path, target=first.public_id)
    assert response.status_code == 303
    assert _checks(app)[0].status is VerificationStatus.CANCELLED and _checks(app)[0].live_organisation_id is None
    assert post(client, path, target=first.public_id).status_code == 303  # a retry: no-op
    assert len(events(app, "organisation.verification.cancel")) == 1
    assert post(client, f"/business/{public_id}/verification/request").status_code == 303
    assert [c.status for c in _checks(app)] == [VerificationStatus.CANCELLED, VerificationStatus.PENDING]
    assert post(client, path, target="x" * 22).status_code == 404
    assert refusals(app) == [("organisation.verification_not_found", "verification_cancel")]


def test_a_code_past_its_expiry_expires_when_looked_at(app: Flask) -> None:
    public_id = _organisation(app)
    with app.app_context():
        pending_organisation_check(organisation_row(public_id), expires_at=utcnow() - timedelta(minutes=1))
    client = browser(app)
    text = client.get(f"/business/{public_id}").get_data(as_text=True)
    assert "The last enrolment code expired before it was used." in text
    [check] = _checks(app)
    assert check.status is VerificationStatus.EXPIRED and check.live_organisation_id is None
    assert events(app, "organisation.verification.expire") == [
        {"organisation": public_id, "verification": check.public_id}]
    assert post(client, f"/business/{public_id}/verification/request").status_code == 303
    assert [c.status for c in _checks(app)] == [VerificationStatus.EXPIRED, VerificationStatus.PENDING]


def test_at_most_five_codes_a_day(app: Flask) -> None:
    public_id = _organisation(app)
    client = browser(app)
    path = f"/business/{public_id}/verification/request"
    for _ in range(5):
        assert post(client, path).status_code == 303
        [*_, latest] = _checks(app)
        assert post(client, f"/business/{public_id}/verification/cancel", target=latest.public_id).status_code == 303
    response = post(client, path)
    assert response.status_code == 429
    assert "too many codes" in response.get_data(as_text=True)
    assert len(_checks(app)) == 5
    assert refusals(app) == [("organisation.too_many_codes", "verification_request")]


@pytest.mark.parametrize(("who", "status", "reason"), [
    ("admin", 403, "organisation.forbidden"),
    ("stranger", 404, "organisation.not_found"),
])
def test_only_the_representative_asks_for_a_code(app: Flask, who: str, status: int, reason: str) -> None:
    public_id = _organisation(app, **({"second": "admin"} if who == "admin" else {}))
    client = browser(app, SECOND)
    assert post(client, f"/business/{public_id}/verification/request").status_code == status
    assert _checks(app) == []
    assert refusals(app) == [(reason, "verification_request")]


def test_a_verified_organisation_needs_no_code(app: Flask) -> None:
    public_id = _organisation(app, verified=True)
    assert post(browser(app), f"/business/{public_id}/verification/request").status_code == 409
    assert _checks(app) == [] and refusals(app) == [("organisation.already_verified", "verification_request")]


def test_submitted_check_waits_for_the_supervisor_and_cannot_be_cancelled(app: Flask) -> None:
    public_id = _organisation(app)
    with app.app_context():
        check = submitted_organisation_check(organisation_row(public_id), enrolled_clerk(post_office()))
        check_id = check.public_id
    client = browser(app)
    text = client.get(f"/business/{public_id}").get_data(as_text=True)
    assert "waiting for the supervisor's approval" in text and "Bưu điện Bờ Hồ" in text
    response = post(client, f"/business/{public_id}/verification/cancel", target=check_id)
    assert response.status_code == 409
    assert _checks(app)[0].status is VerificationStatus.SUBMITTED
    assert refusals(app) == [("organisation.not_cancellable", "verification_cancel")]


def test_rejected_check_shows_the_reason_in_plain_words(app: Flask) -> None:
    public_id = _organisation(app)
    with app.app_context():
        submitted_organisation_check(organisation_row(public_id), enrolled_clerk(post_office()), status=VerificationStatus.REJECTED,
                                     live_organisation_id=None, decided_at=utcnow(),
                                     reject_reason=RejectReason.DATA_MISMATCH)
    text = browser(app).get(f"/business/{public_id}").get_data(as_text=True)
    assert "was not approved" in text and "do not match what was registered online" in text
    assert "data_mismatch" not in text and "Get a new enrolment code" in text


def test_codes_are_unique_across_citizens_and_organisations(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    with app.app_context():
        taken = pending_verification(db.session.get(Account, person(app, STRANGER))).code
    public_id = _organisation(app)
    drawn = iter([taken, "ABCD2345"])
    monkeypatch.setattr(enrolment, "new_code", lambda: next(drawn))
    assert post(browser(app), f"/business/{public_id}/verification/request").status_code == 303
    assert [c.code for c in _checks(app)] == ["ABCD2345"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(IdentityVerification.id))) == 1


def test_csrf_is_required(app: Flask) -> None:
    public_id = _organisation(app)
    client = browser(app)
    assert client.post(f"/business/{public_id}/verification/request").status_code == 400
    assert _checks(app) == [] and refusals(app) == []


def test_pages_render_in_vietnamese_by_default(app: Flask) -> None:
    public_id = _organisation(app, verified=True, second="admin", third="invited")
    client = browser(app)
    client.delete_cookie("postid_lang")
    member = membership_of(app, SECOND)
    for path in ("/business/", "/business/register", f"/business/{public_id}",
                 f"/business/{public_id}/members/{member.public_id}"):
        response = client.get(path)
        assert response.status_code == 200 and '<html lang="vi">' in response.get_data(as_text=True), path
    third = browser(app, THIRD)
    third.delete_cookie("postid_lang")
    assert third.get("/business/").status_code == 200
