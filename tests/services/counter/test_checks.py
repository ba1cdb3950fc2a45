"""The clerk's side of counter verification (idp.services.counter.checks): lookup, the
document check, rejection at the counter, the office lists, and how refusals are recorded."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from idp.domain.enrolment_code import display_code, qr_payload
from idp.extensions import db
from idp.models import Account, DocumentType, VerificationStatus
from idp.models.base import utcnow
from idp.services.counter import checks, decisions
from idp.services.platform import clock
from tests.counter.cast import event_count, events, outbox, refusal, snapshot, staff
from tests.factories import active_citizen, second_citizen
from tests.staff_factories import enrolled_clerk
from tests.verification_factories import (
    approved_verification,
    cancelled_verification,
    expired_verification,
    good_check,
    pending_verification,
    rejected_verification,
    submitted_verification,
)


def citizen(ctx) -> Account:  # type: ignore[no-untyped-def]
    return db.session.get(Account, ctx.citizen)


# --- lookup ----------------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["lower", "display", "qr"])
def test_lookup_accepts_typed_and_scanned_codes_and_audits_a_view(ctx, typed):
    v = pending_verification(citizen(ctx))
    raw = {"lower": v.code.lower(), "display": f" {display_code(v.code)} ",
           "qr": qr_payload(v.code)}[typed]
    found = checks.lookup(staff(ctx.clerk), raw)
    assert found.id == v.id and found.status is VerificationStatus.PENDING
    [event] = events("counter.verification.view")
    assert (event.staff_id, event.office_id, event.account_id) == (ctx.clerk, ctx.office, ctx.citizen)
    assert event.data == {"verification": v.public_id, "via": "code"}  # ids only, never the code


@pytest.mark.parametrize("raw", ["ABCDEFGH", "", "x" * 200, "POSTID:", "0O1IL000"])
def test_unknown_or_malformed_code_is_not_found_and_audited(ctx, raw):
    pending_verification(citizen(ctx))
    error = refusal(checks.lookup, staff(ctx.clerk), raw)
    assert (error.status, error.code) == (404, "not_found")
    [event] = events("counter.verification.refused")
    assert event.data == {"reason": "not_found", "action": "lookup"}
    assert (event.staff_id, event.office_id, event.account_id) == (ctx.clerk, ctx.office, None)


def test_code_taken_by_another_office_looks_unknown(ctx):
    submitted = submitted_verification(citizen(ctx), staff(ctx.other_clerk))
    rejected = rejected_verification(second_citizen(), staff(ctx.other_clerk))
    for v in (submitted, rejected):
        error = refusal(checks.lookup, staff(ctx.clerk), v.code)
        assert (error.status, error.code, error.message) == (
            404, "not_found", checks.MESSAGES["not_found"])
    assert [e.data["reason"] for e in events("counter.verification.refused")] == ["not_found"] * 2


def test_expired_code_is_refused_and_becomes_expired(ctx):
    v = expired_verification(citizen(ctx))
    error = refusal(checks.lookup, staff(ctx.clerk), v.code)
    assert (error.status, error.code) == (409, "expired")
    assert snapshot(v.id)["status"] is VerificationStatus.EXPIRED
    assert snapshot(v.id)["live_account_id"] is None
    assert len(events("verification.expire")) == 1
    assert events("counter.verification.refused")[0].data["reason"] == "expired"


def test_cancelled_code_is_refused(ctx):
    v = cancelled_verification(citizen(ctx))
    error = refusal(checks.lookup, staff(ctx.clerk), v.code)
    assert (error.status, error.code) == (409, "cancelled")


def test_used_codes_are_refused(ctx):
    approved = approved_verification(citizen(ctx), staff(ctx.clerk), staff(ctx.supervisor))
    rejected = rejected_verification(second_citizen(), staff(ctx.clerk))
    for v in (approved, rejected):
        error = refusal(checks.lookup, staff(ctx.supervisor), v.code)
        assert (error.status, error.code) == (409, "already_used")


def test_staff_never_open_their_own_account(ctx):
    me = enrolled_clerk(staff(ctx.clerk).office, username="clerk-2",
                        national_id=citizen(ctx).national_id)
    v = pending_verification(citizen(ctx))
    before = snapshot(v.id)
    error = refusal(checks.lookup, me, v.code)
    assert (error.status, error.code) == (403, "own_account")
    error = refusal(checks.get, me, v.public_id)
    assert (error.status, error.code) == (403, "own_account")
    assert snapshot(v.id) == before
    assert [e.data["reason"] for e in events("counter.verification.refused")] == ["own_account"] * 2
    assert events("counter.verification.view") == []


def test_get_by_public_id_follows_the_office_rule(ctx):
    v = submitted_verification(citizen(ctx), staff(ctx.clerk))
    assert checks.get(staff(ctx.supervisor), v.public_id).id == v.id
    for public_id in (v.public_id, "nope", "x" * 500):
        error = refusal(checks.get, staff(ctx.other_supervisor), public_id)
        assert (error.status, error.code) == (404, "not_found")


# --- the document check ----------------------------------------------------------------


def test_submit_records_the_check_at_the_clerks_office(ctx):
    v = pending_verification(citizen(ctx))
    done = checks.submit(staff(ctx.clerk), v.public_id, good_check(citizen(ctx)))
    assert done.status is VerificationStatus.SUBMITTED
    row = snapshot(v.id)
    assert (row["office_id"], row["clerk_id"], row["live_account_id"]) == (ctx.office, ctx.clerk, ctx.citizen)
    assert row["document_type"] is DocumentType.CAN_CUOC
    assert row["document_number"] == "001099012345"
    assert (row["document_issued_on"], row["document_expires_on"]) == (date(2024, 7, 15), date(2039, 5, 17))
    assert row["verified_address"] == {"street": "12 Tràng Tiền", "ward": "Phường Hoàn Kiếm",
                                       "province_code": "01"}
    assert row["submitted_at"] is not None and row["decided_by"] is None
    [event] = events("counter.verification.submit")
    assert event.data == {"verification": v.public_id, "document_type": "can_cuoc", "address": True}
    assert (event.staff_id, event.office_id) == (ctx.clerk, ctx.office)


def test_submitting_the_same_check_twice_changes_nothing_the_second_time(ctx):
    v = pending_verification(citizen(ctx))
    check = good_check(citizen(ctx))
    checks.submit(staff(ctx.clerk), v.public_id, check)
    before, count = snapshot(v.id), event_count()
    again = checks.submit(staff(ctx.clerk), v.public_id, check)
    assert again.status is VerificationStatus.SUBMITTED
    assert snapshot(v.id) == before and event_count() == count


def test_a_different_check_on_a_submitted_record_is_a_conflict(ctx):
    v = pending_verification(citizen(ctx))
    checks.submit(staff(ctx.clerk), v.public_id, good_check(citizen(ctx)))
    before = snapshot(v.id)
    for who, check in ((ctx.clerk, good_check(citizen(ctx), address=None)),
                       (ctx.supervisor, good_check(citizen(ctx)))):
        error = refusal(checks.submit, staff(who), v.public_id, check)
        assert (error.status, error.code, error.current_status) == (409, "conflict", VerificationStatus.SUBMITTED)
        assert "đã gửi chờ phê duyệt" in error.message % error.message_args  # Vietnamese default
    assert snapshot(v.id) == before


@pytest.mark.parametrize(("overrides", "codes"), [
    ({"document_number": "001099012346"}, ["document.number_mismatch"]),
    ({"issued_on": date(2010, 1, 1), "expires_on": date(2020, 1, 1)}, ["document.expired"]),
    ({"photo_match": False}, ["document.mismatch"]),
    ({"document_type": "cmnd"}, ["document.type"]),
    ({"issued_on": date(1990, 1, 1)}, ["document.issued_before_birth"]),
    ({"document_number": "079303001234", "expires_on": date(2001, 1, 1), "sex_match": False},
     ["document.number_mismatch", "document.expiry_before_issue", "document.mismatch"]),
])
def test_a_check_with_problems_is_refused_with_all_of_them(ctx, overrides, codes):
    v = pending_verification(citizen(ctx))
    before = snapshot(v.id)
    error = refusal(checks.submit, staff(ctx.clerk), v.public_id,
                    good_check(citizen(ctx), **overrides))
    assert (error.status, error.code) == (400, codes[0])
    assert [p.code for p in error.problems] == codes
    assert snapshot(v.id) == before
    [event] = events("counter.verification.refused")
    assert event.data == {"reason": codes[0], "action": "submit", "verification": v.public_id,
                          "problems": codes}
    assert events("counter.verification.submit") == []


def test_an_expired_card_tells_the_clerk_to_reject(ctx):
    v = pending_verification(citizen(ctx))
    yesterday = clock.today_in_vietnam() - timedelta(days=1)
    error = refusal(checks.submit, staff(ctx.clerk), v.public_id,
                    good_check(citizen(ctx), expires_on=yesterday))
    assert error.code == "document.expired" and "reject" in error.message


def test_submit_of_expired_cancelled_or_decided_records_is_refused(ctx):
    clerk = staff(ctx.clerk)
    expired = expired_verification(citizen(ctx))
    error = refusal(checks.submit, clerk, expired.public_id, good_check(citizen(ctx)))
    assert (error.status, error.code) == (409, "expired")
    other = second_citizen()
    rejected = rejected_verification(other, clerk)
    error = refusal(checks.submit, clerk, rejected.public_id, good_check(other))
    assert (error.status, error.code, error.current_status) == (409, "conflict", VerificationStatus.REJECTED)


# --- rejection at the counter ----------------------------------------------------------


def test_clerk_rejects_a_pending_check_and_the_citizen_is_told(ctx):
    account = citizen(ctx)
    account.email_verified_at = account.created_at
    db.session.commit()
    v = pending_verification(account)
    done = decisions.reject(staff(ctx.clerk), v.public_id, "number_mismatch")
    assert done.status is VerificationStatus.REJECTED
    row = snapshot(v.id)
    assert (row["office_id"], row["clerk_id"], row["decided_by"]) == (ctx.office, ctx.clerk, ctx.clerk)
    assert row["reject_reason"].value == "number_mismatch" and row["live_account_id"] is None
    [event] = events("counter.verification.reject")
    assert event.data == {"verification": v.public_id, "reason": "number_mismatch", "stage": "pending"}
    assert [(m.channel.value, m.template) for m in outbox(ctx.citizen)] == [
        ("sms", "counter.rejected"), ("email", "counter.rejected")]
    # Now the record belongs to this office: invisible elsewhere.
    error = refusal(checks.lookup, staff(ctx.other_clerk), v.code)
    assert error.code == "not_found"


def test_reject_needs_a_known_reason(ctx):
    v = pending_verification(citizen(ctx))
    before = snapshot(v.id)
    for reason in (None, "", "because", 3):
        error = refusal(decisions.reject, staff(ctx.clerk), v.public_id, reason)
        assert (error.status, error.code) == (400, "invalid_reason")
    assert snapshot(v.id) == before


def test_clerk_cannot_reject_a_submitted_check(ctx):
    v = submitted_verification(citizen(ctx), staff(ctx.clerk))
    error = refusal(decisions.reject, staff(ctx.clerk), v.public_id, "other")
    assert (error.status, error.code) == (403, "supervisor_only")


# --- lists -------------------------------------------------------------------------------


def test_queue_lists_submitted_checks_of_the_office_oldest_first(ctx):
    clerk = staff(ctx.clerk)
    now = utcnow()
    accounts = [active_citizen(national_id=f"00109901234{i}", phone=f"09123450{i}{i}", email=None)
                for i in range(6, 9)]
    newer = submitted_verification(accounts[0], clerk, submitted_at=now)
    older = submitted_verification(accounts[1], clerk, submitted_at=now - timedelta(hours=1))
    submitted_verification(accounts[2], staff(ctx.other_clerk))  # another office
    pending_verification(citizen(ctx))
    page = decisions.approval_queue(staff(ctx.supervisor))
    assert [v.id for v in page.items] == [older.id, newer.id]
    assert (page.page, page.pages, page.total) == (1, 1, 2)
    assert decisions.approval_queue(staff(ctx.supervisor), page=99).page == 1


def test_queue_is_paginated(ctx, monkeypatch):
    monkeypatch.setattr(decisions, "PAGE_SIZE", 1)
    submitted_verification(citizen(ctx), staff(ctx.clerk))
    submitted_verification(second_citizen(), staff(ctx.clerk))
    page = decisions.approval_queue(staff(ctx.supervisor), page=2)
    assert (page.page, page.pages, page.total, len(page.items)) == (2, 2, 2, 1)


def test_approved_list_of_the_office_can_be_searched_by_code(ctx):
    mine = approved_verification(citizen(ctx), staff(ctx.clerk), staff(ctx.supervisor))
    theirs = approved_verification(second_citizen(), staff(ctx.other_clerk), staff(ctx.other_supervisor))
    assert [v.id for v in decisions.approved(staff(ctx.supervisor)).items] == [mine.id]
    assert [v.id for v in decisions.approved(staff(ctx.supervisor), code=qr_payload(mine.code)).items] == [mine.id]
    assert decisions.approved(staff(ctx.supervisor), code=theirs.code).items == []
    assert decisions.approved(staff(ctx.supervisor), code="!!!").items == []
