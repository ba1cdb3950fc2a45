"""The supervisor's decisions (idp.services.counter.decisions): approve, reject, revoke; the
four-eyes and office rules, idempotent retries and what each decision does to the account."""

from __future__ import annotations

from idp.extensions import db
from idp.models import Account, AccountStatus, RejectReason, UserSession, VerificationStatus
from idp.services.counter import checks
from idp.services.counter import decisions as counter_decisions
from idp.services.identity import sessions
from tests.counter.cast import (
    event_count,
    events,
    outbox,
    refusal,
    second_supervisor,
    snapshot,
    staff,
)
from tests.factories import second_citizen
from tests.staff_factories import enrolled_supervisor
from tests.verification_factories import (
    ADDRESS,
    approved_verification,
    good_check,
    pending_verification,
    submitted_verification,
)


def account(ctx) -> Account:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(Account, ctx.citizen)


def submitted(ctx, clerk=None):  # type: ignore[no-untyped-def]
    return submitted_verification(account(ctx), staff(clerk or ctx.clerk))


# --- approve -------------------------------------------------------------------------------


def test_approval_makes_the_account_loa2_with_the_verified_address(ctx):
    v = submitted(ctx)
    done = counter_decisions.approve(staff(ctx.supervisor), v.public_id)
    assert done.status is VerificationStatus.APPROVED
    row = snapshot(v.id)
    assert (row["decided_by"], row["live_account_id"]) == (ctx.supervisor, None)
    citizen = account(ctx)
    assert citizen.identity_loa == 2
    assert citizen.postal_address == ADDRESS.to_json() and citizen.address_verified_at is not None
    [event] = events("counter.verification.approve")
    assert (event.staff_id, event.office_id, event.account_id) == (ctx.supervisor, ctx.office, ctx.citizen)
    assert event.data == {"verification": v.public_id, "address": True}
    [sms] = outbox(ctx.citizen)  # no confirmed e-mail: SMS only
    assert (sms.channel.value, sms.template, sms.recipient) == ("sms", "counter.approved", citizen.phone)
    assert "001099012345" not in sms.body and citizen.full_name not in sms.body


def test_approval_without_an_address_keeps_none(ctx):
    v = submitted_verification(account(ctx), staff(ctx.clerk), verified_address=None)
    counter_decisions.approve(staff(ctx.supervisor), v.public_id)
    assert account(ctx).postal_address is None and account(ctx).identity_loa == 2
    assert events("counter.verification.approve")[0].data["address"] is False


def test_approving_twice_is_one_approval(ctx):
    v = submitted(ctx)
    counter_decisions.approve(staff(ctx.supervisor), v.public_id)
    before, count = snapshot(v.id), event_count()
    again = counter_decisions.approve(staff(ctx.supervisor), v.public_id)
    assert again.status is VerificationStatus.APPROVED
    assert snapshot(v.id) == before and event_count() == count
    assert len(outbox(ctx.citizen)) == 1


def test_clerk_cannot_approve(ctx):
    v = submitted(ctx)
    before, loa = snapshot(v.id), account(ctx).identity_loa
    error = refusal(counter_decisions.approve, staff(ctx.clerk), v.public_id)
    assert (error.status, error.code) == (403, "supervisor_only")
    assert snapshot(v.id) == before and account(ctx).identity_loa == loa == 1
    [event] = events("counter.verification.refused")
    assert event.data == {"reason": "supervisor_only", "action": "approve", "verification": v.public_id}
    assert (event.staff_id, event.office_id, event.account_id) == (ctx.clerk, ctx.office, ctx.citizen)
    assert outbox(ctx.citizen) == []


def test_supervisor_cannot_approve_a_check_they_submitted(ctx):
    v = pending_verification(account(ctx))
    checks.submit(staff(ctx.supervisor), v.public_id, good_check(account(ctx)))
    before = snapshot(v.id)
    for action in (counter_decisions.approve, lambda s, p: counter_decisions.reject(s, p, "other")):
        error = refusal(action, staff(ctx.supervisor), v.public_id)
        assert (error.status, error.code) == (403, "own_submission")
    assert snapshot(v.id) == before
    # Another supervisor of the office can.
    other = second_supervisor(ctx)
    assert counter_decisions.approve(staff(other), v.public_id).status is VerificationStatus.APPROVED


def test_supervisor_cannot_approve_their_own_account(ctx):
    v = submitted(ctx)
    office = staff(ctx.supervisor).office
    me = enrolled_supervisor(office, username="sup-me", national_id=account(ctx).national_id)
    error = refusal(counter_decisions.approve, me, v.public_id)
    assert (error.status, error.code) == (403, "own_account")
    assert account(ctx).identity_loa == 1


def test_another_offices_supervisor_sees_nothing(ctx):
    v = submitted(ctx)
    approved = approved_verification(
        second_citizen(),
        staff(ctx.clerk), staff(ctx.supervisor))
    before = snapshot(v.id)
    other = staff(ctx.other_supervisor)
    for call in (lambda: counter_decisions.approve(other, v.public_id),
                 lambda: counter_decisions.reject(other, v.public_id, "other"),
                 lambda: counter_decisions.revoke(other, approved.public_id, "suspected_fraud"),
                 lambda: checks.submit(other, v.public_id, good_check(account(ctx)))):
        error = refusal(call)
        assert (error.status, error.code) == (404, "not_found")
    assert snapshot(v.id) == before


def test_approving_a_pending_record_is_a_conflict(ctx):
    v = pending_verification(account(ctx))
    error = refusal(counter_decisions.approve, staff(ctx.supervisor), v.public_id)
    assert (error.status, error.code, error.current_status) == (409, "conflict", VerificationStatus.PENDING)


def test_a_disabled_account_is_not_approved(ctx):
    v = submitted(ctx)
    citizen = account(ctx)
    citizen.status = AccountStatus.DISABLED
    db.session.commit()
    error = refusal(counter_decisions.approve, staff(ctx.supervisor), v.public_id)
    assert (error.status, error.code) == (409, "account_disabled")
    assert snapshot(v.id)["status"] is VerificationStatus.SUBMITTED


# --- reject --------------------------------------------------------------------------------


def test_supervisor_rejects_a_submitted_check(ctx):
    v = submitted(ctx)
    counter_decisions.reject(staff(ctx.supervisor), v.public_id, RejectReason.PHOTO_MISMATCH)
    row = snapshot(v.id)
    assert (row["status"], row["decided_by"], row["reject_reason"], row["clerk_id"]) == (
        VerificationStatus.REJECTED, ctx.supervisor, RejectReason.PHOTO_MISMATCH, ctx.clerk)
    assert events("counter.verification.reject")[0].data["stage"] == "submitted"
    assert [m.template for m in outbox(ctx.citizen)] == ["counter.rejected"]
    assert account(ctx).identity_loa == 1


def test_a_decided_record_refuses_a_different_decision(ctx):
    v = submitted(ctx)
    counter_decisions.reject(staff(ctx.supervisor), v.public_id, "photo_mismatch")
    count = event_count()
    assert counter_decisions.reject(staff(ctx.supervisor), v.public_id, "photo_mismatch").status \
        is VerificationStatus.REJECTED  # the same decision again: nothing new
    assert event_count() == count
    for call in (lambda: counter_decisions.approve(staff(ctx.supervisor), v.public_id),
                 lambda: counter_decisions.reject(staff(ctx.supervisor), v.public_id, "other")):
        error = refusal(call)
        assert (error.status, error.code, error.current_status) == (409, "conflict", VerificationStatus.REJECTED)
        assert "đã bị từ chối" in error.message % error.message_args  # Vietnamese default
    assert account(ctx).identity_loa == 1


# --- revoke --------------------------------------------------------------------------------


def test_revocation_drops_to_loa1_and_ends_every_session(ctx):
    v = approved_verification(account(ctx), staff(ctx.clerk), staff(ctx.supervisor))
    live = sessions.open_session(account(ctx)).session
    db.session.commit()
    live_id = live.id
    result = counter_decisions.revoke(staff(ctx.supervisor), v.public_id, "suspected_fraud")
    assert result.verification.status is VerificationStatus.REVOKED and result.logouts == []
    row = snapshot(v.id)
    assert (row["revoked_by"], row["revoke_reason"]) == (ctx.supervisor, RejectReason.SUSPECTED_FRAUD)
    citizen = account(ctx)
    assert citizen.identity_loa == 1
    assert citizen.postal_address is None and citizen.address_verified_at is None
    ended = db.session.get(UserSession, live_id)
    assert ended.revoked_at is not None and ended.revoke_reason == "verification_revoked"
    [event] = events("counter.verification.revoke")
    assert event.data == {"verification": v.public_id, "reason": "suspected_fraud"}
    assert [m.template for m in outbox(ctx.citizen)] == ["counter.revoked"]
    # Retried: nothing new.
    count = event_count()
    assert counter_decisions.revoke(staff(ctx.supervisor), v.public_id, "suspected_fraud").logouts == []
    assert event_count() == count


def test_revocation_rules(ctx):
    v = approved_verification(account(ctx), staff(ctx.clerk), staff(ctx.supervisor))
    before = snapshot(v.id)
    error = refusal(counter_decisions.revoke, staff(ctx.clerk), v.public_id, "suspected_fraud")
    assert (error.status, error.code) == (403, "supervisor_only")
    error = refusal(counter_decisions.revoke, staff(ctx.supervisor), v.public_id, None)
    assert (error.status, error.code) == (400, "invalid_reason")
    assert snapshot(v.id) == before and account(ctx).identity_loa == 2
    pending = submitted_verification(
        second_citizen(), staff(ctx.clerk))
    error = refusal(counter_decisions.revoke, staff(ctx.supervisor), pending.public_id, "other")
    assert (error.status, error.code, error.current_status) == (409, "conflict", VerificationStatus.SUBMITTED)
    assert [e.data["reason"] for e in events("counter.verification.refused")] == [
        "supervisor_only", "invalid_reason", "conflict"]
