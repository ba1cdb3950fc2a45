"""The services of an organisation's counter check: the clerk's submission, the supervisor's
decisions, the rules they share with citizens' checks, and what each stores (or does not)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    MembershipStatus,
    Organisation,
    OrganisationStatus,
    RejectReason,
    RepresentativeAuthority,
    RepresentativeTitle,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.counter import organisation_checks as checks
from idp.services.counter import organisation_decisions as decisions
from tests.counter.cast import Counter, event_count, events, outbox, refusal, second_supervisor, staff
from tests.counter.org_cast import (
    clerk_as_citizen,
    good_business_check,
    make_org_check,
    org_snapshot,
    with_card,
)
from tests.organisation_factories import (
    OTHER_TAX_CODE,
    active_member,
    invited_member,
    pending_organisation_check,
    registered_organisation,
    submitted_organisation_check,
)


def representative(check) -> Account:  # type: ignore[no-untyped-def]
    account = db.session.get(Account, check.representative)
    assert account is not None
    return account


def test_a_good_check_is_submitted_by_the_clerks_office(app, cast: Counter):
    check = make_org_check(app, pending_organisation_check)
    with app.app_context():
        clerk = staff(cast.clerk)
        before = event_count()
        v = checks.submit(clerk, check.public_id, good_business_check(representative(check)))
        row = org_snapshot(check.id)
        assert row["status"] is VerificationStatus.SUBMITTED and row["live_organisation_id"] == check.organisation
        assert (row["office_id"], row["clerk_id"]) == (cast.office, cast.clerk)
        assert (row["certificate_number"], row["certificate_issued_on"], row["certificate_match"]) == (
            "0100233488", date(2015, 3, 2), True)
        assert (row["document_number"], row["person_match"], row["authority"]) == (
            "079303001234", True, RepresentativeAuthority.LEGAL_REPRESENTATIVE)
        assert row["power_of_attorney_ref"] is None and row["version"] == 2
        assert row["organisation.status"] is OrganisationStatus.UNVERIFIED
        assert event_count() == before + 1
        event = events("counter.organisation.submit")[-1]
        assert (event.staff_id, event.office_id, event.account_id) == (cast.clerk, cast.office, check.representative)
        assert event.data["verification"] == v.public_id and event.data["authority"] == "legal_representative"


def test_a_power_of_attorney_is_recorded(app, cast):
    check = make_org_check(app, pending_organisation_check,
                           organisation={"representative_title": RepresentativeTitle.AUTHORISED})
    with app.app_context():
        good = good_business_check(representative(check), authority="power_of_attorney",
                                   power_of_attorney_ref="15/2025/UQ", power_of_attorney_date=date(2025, 1, 10))
        checks.submit(staff(cast.clerk), check.public_id, good)
        row = org_snapshot(check.id)
        assert (row["authority"], row["power_of_attorney_ref"], row["power_of_attorney_date"]) == (
            RepresentativeAuthority.POWER_OF_ATTORNEY, "15/2025/UQ", date(2025, 1, 10))


@pytest.mark.parametrize(("change", "problems"), [
    ({"card": {"document_number": "079303001235"}}, ["document.number_mismatch"]),
    ({"card": {"issued_on": date(2012, 1, 1), "expires_on": date(2022, 1, 1)}}, ["document.expired"]),
    ({"certificate_issued_on": date(2099, 1, 1)}, ["certificate.issued_future"]),
    ({"certificate_match": False}, ["certificate.mismatch"]),
    ({"authority": "power_of_attorney"}, ["power_of_attorney.reference_missing", "power_of_attorney.date_missing"]),
    ({"power_of_attorney_ref": "x"}, ["power_of_attorney.unexpected"]),
    ({"certificate_number": "", "card": {"document_type": "cmnd", "photo_match": False}},
     ["certificate.number_missing", "document.type", "document.mismatch"]),
])
def test_a_check_with_problems_stores_only_the_refusal(app, cast, change, problems):
    check = make_org_check(app, pending_organisation_check)
    with app.app_context():
        card = change.pop("card", {})
        bad = with_card(good_business_check(representative(check), **change), **card)
        before, count = org_snapshot(check.id), event_count()
        refused = refusal(checks.submit, staff(cast.clerk), check.public_id, bad)
        assert (refused.status, refused.code) == (400, problems[0])
        assert [p.code for p in refused.problems] == problems
        assert org_snapshot(check.id) == before and event_count() == count + 1
        event = events("counter.organisation.refused")[-1]
        assert event.data == {"reason": problems[0], "action": "submit",
                              "verification": check.public_id, "problems": problems}
        assert (event.staff_id, event.office_id) == (cast.clerk, cast.office)


def test_an_authorised_registrant_without_power_of_attorney_is_refused(app, cast):
    check = make_org_check(app, pending_organisation_check,
                           organisation={"representative_title": RepresentativeTitle.AUTHORISED})
    with app.app_context():
        refused = refusal(checks.submit, staff(cast.clerk), check.public_id,
                          good_business_check(representative(check)))
        assert refused.code == "authority.power_of_attorney_required"


def test_submitting_twice_is_one_submission_and_other_data_is_a_conflict(app, cast):
    check = make_org_check(app, pending_organisation_check)
    with app.app_context():
        good = good_business_check(representative(check))
        checks.submit(staff(cast.clerk), check.public_id, good)
        saved, count = org_snapshot(check.id), event_count()
        checks.submit(staff(cast.clerk), check.public_id, good)
        assert org_snapshot(check.id) == saved and event_count() == count
        other = refusal(checks.submit, staff(cast.clerk), check.public_id,
                        good_business_check(representative(check), certificate_number="0100233489"))
        assert (other.status, other.code, other.current_status) == (409, "conflict", VerificationStatus.SUBMITTED)
        colleague = refusal(checks.submit, staff(cast.supervisor), check.public_id, good)
        assert colleague.code == "conflict"
        assert org_snapshot(check.id) == saved


def test_a_disabled_representative_cannot_be_submitted_nor_approved(app, cast):
    pending = make_org_check(app, pending_organisation_check)
    submitted = make_org_check(app, submitted_organisation_check, cast.clerk, representative=cast.citizen,
                               organisation={"tax_code": OTHER_TAX_CODE})
    with app.app_context():
        for check in (pending, submitted):
            representative(check).status = AccountStatus.DISABLED
        db.session.commit()
        refused = refusal(checks.submit, staff(cast.clerk), pending.public_id,
                          good_business_check(representative(pending)))
        assert (refused.status, refused.code) == (409, "account_disabled")
        refused = refusal(decisions.approve, staff(cast.supervisor), submitted.public_id)
        assert (refused.status, refused.code) == (409, "account_disabled")
        assert org_snapshot(submitted.id)["organisation.status"] is OrganisationStatus.UNVERIFIED


def test_approval_verifies_the_organisation_and_tells_the_representative(app, cast):
    check = make_org_check(app, submitted_organisation_check, cast.clerk)
    with app.app_context():
        account = representative(check)
        account.email_verified_at, account.email = utcnow(), "ngoc@example.vn"
        db.session.commit()
        decisions.approve(staff(cast.supervisor), check.public_id)
        row = org_snapshot(check.id)
        assert row["status"] is VerificationStatus.APPROVED and row["live_organisation_id"] is None
        assert (row["decided_by"], row["organisation.status"]) == (cast.supervisor, OrganisationStatus.VERIFIED)
        assert row["organisation.verified_at"] is not None and row["organisation.version"] == 2
        notices = outbox(check.representative)
        assert [(m.template, m.channel.value) for m in notices] == [
            ("counter.organisation.approved", "sms"), ("counter.organisation.approved", "email")]
        assert "Công ty TNHH Sen Vàng" in notices[0].body and notices[0].locale == "vi"
        event = events("counter.organisation.approve")[-1]
        assert (event.staff_id, event.office_id, event.data["organisation"]) == (
            cast.supervisor, cast.office, row["organisation.public_id"])
        decided, count = org_snapshot(check.id), event_count()
        decisions.approve(staff(cast.supervisor), check.public_id)  # a retry
        assert org_snapshot(check.id) == decided and event_count() == count
        assert len(outbox(check.representative)) == 2


def test_a_revoked_organisation_can_be_verified_again(app, cast):
    check = make_org_check(app, submitted_organisation_check, cast.clerk,
                           organisation={"status": OrganisationStatus.REVOKED})
    with app.app_context():
        decisions.approve(staff(cast.supervisor), check.public_id)
        assert org_snapshot(check.id)["organisation.status"] is OrganisationStatus.VERIFIED


def test_four_eyes(app, cast):
    own = make_org_check(app, submitted_organisation_check, cast.supervisor)
    with app.app_context():
        for call, args in ((decisions.approve, ()), (decisions.reject, ("other",))):
            refused = refusal(call, staff(cast.supervisor), own.public_id, *args)
            assert (refused.status, refused.code) == (403, "own_submission")
        for call, args in ((decisions.approve, ()), (decisions.reject, ("other",))):
            refused = refusal(call, staff(cast.clerk), own.public_id, *args)
            assert (refused.status, refused.code) == (403, "supervisor_only")
        assert org_snapshot(own.id)["status"] is VerificationStatus.SUBMITTED
        decisions.approve(staff(second_supervisor(cast)), own.public_id)
        refused = refusal(decisions.revoke, staff(cast.supervisor), own.public_id, "suspected_fraud")
        assert refused.code == "own_submission"
        assert org_snapshot(own.id)["organisation.status"] is OrganisationStatus.VERIFIED


def test_another_office_sees_nothing_once_an_office_has_acted(app, cast):
    submitted = make_org_check(app, submitted_organisation_check, cast.clerk)
    with app.app_context():
        before = org_snapshot(submitted.id)
        for call, args in ((checks.get, ()), (checks.lookup, ()), (decisions.approve, ()),
                           (decisions.reject, ("other",)), (decisions.revoke, ("other",))):
            target = submitted.code if call is checks.lookup else submitted.public_id
            refused = refusal(call, staff(cast.other_supervisor), target, *args)
            assert (refused.status, refused.code) == (404, "not_found")
        assert org_snapshot(submitted.id) == before
        assert refusal(checks.get, staff(cast.clerk), "x" * 200).code == "not_found"


def test_a_pending_code_can_be_taken_by_any_office(app, cast):
    check = make_org_check(app, pending_organisation_check)
    with app.app_context():
        v = checks.lookup(staff(cast.other_clerk), f"postid:{check.code.lower()}")
        assert v.public_id == check.public_id
        assert events("counter.organisation.view")[-1].data["via"] == "code"


@pytest.mark.parametrize("how", ["representative", "invited", "active", "suspended"])
def test_staff_cannot_act_on_an_organisation_of_their_own(app, cast, how):
    if how == "representative":
        with app.app_context():
            check_owner = clerk_as_citizen().id
        check = make_org_check(app, pending_organisation_check, representative=check_owner)
    else:
        check = make_org_check(app, pending_organisation_check)
        with app.app_context():
            org = db.session.get(Organisation, check.organisation)
            if how == "invited":
                invited_member(org, "001085000001")
            else:
                membership = active_member(org, clerk_as_citizen())
                membership.status = MembershipStatus(how)
                db.session.commit()
    with app.app_context():
        before = org_snapshot(check.id)
        for call, target in ((checks.lookup, check.code), (checks.get, check.public_id)):
            refused = refusal(call, staff(cast.clerk), target)
            assert (refused.status, refused.code) == (403, "own_account")
        assert "organisation" in refused.message
        refused = refusal(checks.submit, staff(cast.clerk), check.public_id,
                          good_business_check(representative(check)))
        assert refused.code == "own_account"
        assert org_snapshot(check.id) == before
        assert checks.get(staff(cast.supervisor), check.public_id).public_id == check.public_id


def test_a_former_member_may_act(app, cast):
    check = make_org_check(app, pending_organisation_check)
    with app.app_context():
        org = db.session.get(Organisation, check.organisation)
        invited_member(org, "001085000001", status=MembershipStatus.REMOVED, live_national_id=None)
        assert checks.get(staff(cast.clerk), check.public_id).public_id == check.public_id


def test_an_expired_code_expires_and_is_refused(app, cast):
    check = make_org_check(app, pending_organisation_check, expires_at=utcnow() - timedelta(minutes=1))
    with app.app_context():
        refused = refusal(checks.lookup, staff(cast.clerk), check.code)
        assert (refused.status, refused.code) == (409, "expired")
        assert "representative" in refused.message
        row = org_snapshot(check.id)
        assert row["status"] is VerificationStatus.EXPIRED and row["live_organisation_id"] is None
        assert [e.data["verification"] for e in events("organisation.verification.expire")] == [check.public_id]
        refused = refusal(checks.submit, staff(cast.clerk), check.public_id,
                          good_business_check(representative(check)))
        assert refused.code == "expired"


def test_used_codes_cannot_be_opened(app, cast):
    check = make_org_check(app, submitted_organisation_check, cast.clerk)
    with app.app_context():
        decisions.reject(staff(cast.supervisor), check.public_id, "suspected_fraud")
        refused = refusal(checks.lookup, staff(cast.clerk), check.code)
        assert (refused.status, refused.code) == (409, "already_used")


def test_rejection_at_the_counter_and_its_retry(app, cast):
    check = make_org_check(app, pending_organisation_check)
    with app.app_context():
        refused = refusal(decisions.reject, staff(cast.clerk), check.public_id, "bored")
        assert (refused.status, refused.code) == (400, "invalid_reason")
        decisions.reject(staff(cast.clerk), check.public_id, RejectReason.DATA_MISMATCH)
        row = org_snapshot(check.id)
        assert (row["status"], row["office_id"], row["clerk_id"], row["decided_by"]) == (
            VerificationStatus.REJECTED, cast.office, cast.clerk, cast.clerk)
        assert row["organisation.status"] is OrganisationStatus.UNVERIFIED
        count = event_count()
        decisions.reject(staff(cast.clerk), check.public_id, "data_mismatch")
        assert event_count() == count
        other = refusal(decisions.reject, staff(cast.clerk), check.public_id, "other")
        assert (other.status, other.code, other.current_status) == (409, "conflict", VerificationStatus.REJECTED)
        [sms] = outbox(check.representative)
        assert sms.template == "counter.organisation.rejected" and "Công ty TNHH Sen Vàng" in sms.body


def test_revocation_unverifies_the_organisation(app, cast):
    check = make_org_check(app, submitted_organisation_check, cast.clerk)
    with app.app_context():
        decisions.approve(staff(cast.supervisor), check.public_id)
        refused = refusal(decisions.revoke, staff(cast.clerk), check.public_id, "suspected_fraud")
        assert refused.code == "supervisor_only"
        other = staff(second_supervisor(cast))
        decisions.revoke(other, check.public_id, "suspected_fraud")
        row = org_snapshot(check.id)
        assert (row["status"], row["revoked_by"], row["revoke_reason"]) == (
            VerificationStatus.REVOKED, other.id, RejectReason.SUSPECTED_FRAUD)
        assert row["organisation.status"] is OrganisationStatus.REVOKED
        assert row["organisation.verified_at"] is None and row["organisation.version"] == 3
        count = event_count()
        decisions.revoke(other, check.public_id, "suspected_fraud")  # a retry
        assert event_count() == count
        refused = refusal(decisions.approve, staff(cast.supervisor), check.public_id)
        assert (refused.code, refused.current_status) == ("conflict", VerificationStatus.REVOKED)
        assert [m.template for m in outbox(check.representative)] == [
            "counter.organisation.approved", "counter.organisation.revoked"]


def test_the_queue_and_the_approved_list_are_the_offices(app, cast):
    waiting = make_org_check(app, submitted_organisation_check, cast.clerk)
    elsewhere = make_org_check(app, submitted_organisation_check, cast.other_clerk, representative=cast.citizen,
                               organisation={"tax_code": OTHER_TAX_CODE})
    with app.app_context():
        assert [v.public_id for v in decisions.approval_queue(staff(cast.supervisor)).items] == [waiting.public_id]
        assert [v.public_id for v in decisions.approval_queue(staff(cast.other_supervisor)).items] == [elsewhere.public_id]
        decisions.approve(staff(cast.supervisor), waiting.public_id)
        assert decisions.approval_queue(staff(cast.supervisor)).total == 0
        mine = staff(cast.supervisor)
        for search in (None, "0100233488", waiting.code.lower(), f"{waiting.code[:4]}-{waiting.code[4:]}"):
            assert [v.public_id for v in decisions.approved(mine, search=search).items] == [waiting.public_id]
        for search in (OTHER_TAX_CODE, "not a code", "x" * 64):
            assert decisions.approved(mine, search=search).items == []


def test_holds_code_tells_the_kinds_apart(app, cast):
    check = make_org_check(app, pending_organisation_check)
    with app.app_context():
        count = event_count()
        assert checks.holds_code(f"POSTID:{check.code}") and checks.holds_code(check.code.lower())
        assert not checks.holds_code("ABCD-EFGH") and not checks.holds_code("x" * 1000)
        assert event_count() == count


def test_a_clerk_from_another_organisation_is_fine(app, cast):
    """Membership of a *different* organisation is no bar."""
    check = make_org_check(app, pending_organisation_check)
    with app.app_context():
        registered_organisation(clerk_as_citizen(), tax_code=OTHER_TAX_CODE)
        assert checks.get(staff(cast.clerk), check.public_id).public_id == check.public_id
