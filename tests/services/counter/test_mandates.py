"""The counter's side of mandates (idp.services.counter.mandates, mandate_confirmation): who a
mandate may be made for, what is stored and audited, the SMS-code confirmation, the
supervisor's list and ending one."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from idp.domain.mandates import Status
from idp.domain.procedures import Procedure
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    Mandate,
    MandateConfirmation,
    MandateEnder,
    MandateUse,
    OtpChallenge,
    OutboxMessage,
    PostOffice,
    UserSession,
)
from idp.models.base import utcnow
from idp.services.counter import mandate_confirmation as confirmation
from idp.services.counter import mandates
from idp.services.counter.mandate_refusals import MandateRefusal
from idp.services.identity import acting
from idp.services.standing import delegation
from tests.counter.cast import events, staff
from tests.mandate_factories import (
    VERIFIED_ID,
    active_mandate,
    another_verified_citizen,
    card_check,
    delegating_portal,
    non_delegating_portal,
    pending_mandate,
    verified_citizen,
)

ANY = [Procedure.ANY_DELEGATING_PORTAL.value]


def refused(call, *args, **kwargs) -> MandateRefusal:  # type: ignore[no-untyped-def]
    with pytest.raises(MandateRefusal) as caught:
        call(*args, **kwargs)
    return caught.value


def mandate_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Mandate)) or 0


def office(ctx, other: bool = False) -> PostOffice:  # type: ignore[no-untyped-def]
    found = db.session.get(PostOffice, ctx.other_office if other else ctx.office)
    assert found is not None
    return found


def create(ctx, account: Account, **overrides):  # type: ignore[no-untyped-def]
    values = {"kinds": ANY, "client_ids": [], "months": 3}
    check = overrides.pop("check", None) or card_check(account)
    values.update(overrides)
    return mandates.create_mandate(staff(ctx.clerk), account.national_id, check, **values)


def sent_code() -> str:
    body = db.session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.template == "mandate.confirm_code").order_by(OutboxMessage.id.desc())).first()
    assert body
    match = re.search(r"\b(\d{6})\b", body)
    assert match
    return match.group(1)


# --- who a mandate may be made for -------------------------------------------------------


def test_a_verified_citizen_is_found_by_id_number_written_any_way(ctx):
    account = verified_citizen()
    found = mandates.find_citizen(staff(ctx.clerk), " 001 088 004 567 ")
    assert found.id == account.id
    assert events("mandate.refused") == []
    [event] = events("mandate.lookup")
    assert (event.account_id, event.staff_id, event.office_id, event.data) == (
        account.id, ctx.clerk, ctx.office, {})


@pytest.mark.parametrize(("number", "code", "status"), [
    ("12345", "invalid_national_id", 400), ("", "invalid_national_id", 400),
    ("001099099999", "citizen_not_found", 404),
    ("001099012345", "not_verified", 409),  # the cast's citizen: active, LoA1
])
def test_lookup_refusals_are_audited_with_staff_and_office(ctx, number, code, status):
    error = refused(mandates.find_citizen, staff(ctx.clerk), number)
    assert (error.status, error.code) == (status, code)
    [event] = events("mandate.refused")
    assert event.data == {"reason": code, "action": "lookup"}
    assert (event.staff_id, event.office_id) == (ctx.clerk, ctx.office)
    assert "001099" not in str(event.data)


def test_own_account_and_a_colleagues_are_refused(ctx):
    # The clerk's own number (tests/staff_factories), and the office supervisor's.
    verified_citizen(national_id="001085000001", birthdate=date(1985, 3, 1), phone="0912000222",
                     email=None)
    verified_citizen(national_id="001075000002", birthdate=date(1975, 3, 1), phone="0912000333",
                     email=None)
    own = refused(mandates.find_citizen, staff(ctx.clerk), "001085000001")
    colleague = refused(mandates.find_citizen, staff(ctx.clerk), "001075000002")
    assert (own.status, own.code) == (403, "own_account")
    assert (colleague.status, colleague.code) == (403, "colleague")
    # A staff member of another office is an ordinary citizen here.
    assert mandates.find_citizen(staff(ctx.other_clerk), "001075000002").national_id == "001075000002"


def test_a_disabled_verified_account_is_not_verified(ctx):
    account = verified_citizen()
    account.status = AccountStatus.DISABLED
    db.session.commit()
    assert refused(mandates.find_citizen, staff(ctx.clerk), VERIFIED_ID).code == "not_verified"


# --- making one --------------------------------------------------------------------------


def test_create_stores_a_pending_mandate_and_audits_ids_only(ctx):
    account = verified_citizen()
    portal = delegating_portal()
    mandate = create(ctx, account, kinds=["land_housing", "land_housing"],
                     client_ids=[portal.client_id], months=3)
    assert (mandate.account_id, mandate.office_id, mandate.created_by_id) == (
        account.id, ctx.office, ctx.clerk)
    assert (mandate.kinds, mandate.client_ids, mandate.months, mandate.loa) == (
        ["land_housing"], [portal.client_id], 3, 2)
    assert mandate.confirmed_at is None and delegation.status_of(mandate) is Status.PENDING
    assert mandate.document_number == account.national_id
    [event] = events("mandate.create")
    assert (event.account_id, event.staff_id, event.office_id) == (account.id, ctx.clerk, ctx.office)
    assert event.data == {"mandate": mandate.public_id, "kinds": ["land_housing"],
                          "client_ids": [portal.client_id], "months": 3}


def test_the_same_mandate_sent_twice_is_made_once(ctx):
    account = verified_citizen()
    first, again = create(ctx, account), create(ctx, account)
    assert first.id == again.id and mandate_count() == 1
    assert len(events("mandate.create")) == 1
    assert create(ctx, account, months=4).id != first.id  # other data: another mandate


@pytest.mark.parametrize(("change", "code"), [
    ({"document_number": "001099012398"}, "document.number_mismatch"),
    ({"expires_on": date(2020, 1, 1), "issued_on": date(2015, 1, 1)}, "document.expired"),
    ({"photo_match": False}, "document.mismatch"),
    ({"document_type": "driving_licence"}, "document.type"),
])
def test_a_document_problem_refuses_and_stores_nothing(ctx, change, code):
    account = verified_citizen()
    error = refused(create, ctx, account, check=card_check(account, **change))
    assert (error.status, error.code) == (400, code)
    assert [p.code for p in error.problems] == [code]
    assert mandate_count() == 0 and events("mandate.create") == []
    [event] = events("mandate.refused")
    assert event.data == {"reason": code, "action": "create", "problems": [code]}


@pytest.mark.parametrize(("values", "code"), [
    ({"kinds": [], "client_ids": []}, "scope_required"),
    ({"kinds": ["tax"]}, "invalid_scope"),
    ({"kinds": [], "client_ids": ["no-such-portal"]}, "invalid_scope"),
    ({"months": 13}, "invalid_duration"), ({"months": -1}, "invalid_duration"),
    ({"months": True}, "invalid_duration"), ({"months": "3"}, "invalid_duration"),
])
def test_scope_and_duration_are_checked(ctx, values, code):
    account = verified_citizen()
    error = refused(create, ctx, account, **values)
    assert (error.status, error.code) == (400, code)
    assert mandate_count() == 0


def test_a_portal_that_does_not_accept_delegation_cannot_be_named(ctx):
    account = verified_citizen()
    portal = non_delegating_portal()
    assert refused(create, ctx, account, kinds=[], client_ids=[portal.client_id]).code == "invalid_scope"


# --- the SMS code ------------------------------------------------------------------------


def test_the_code_goes_to_the_citizens_phone_naming_office_scope_and_duration(ctx):
    account = verified_citizen()
    mandate = create(ctx, account, kinds=["social_insurance"], months=3)
    result = confirmation.send_confirmation_code(staff(ctx.clerk), mandate.public_id)
    assert result.sent and result.resend_in == 30
    [sms] = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "mandate.confirm_code")).all()
    assert sms.recipient == "+84912888999" and sms.account_id == account.id
    assert "Bưu điện Bờ Hồ" in sms.body and "Bảo hiểm xã hội" in sms.body and "3 tháng" in sms.body
    [event] = events("mandate.code.sent")
    assert (event.account_id, event.staff_id, event.office_id) == (account.id, ctx.clerk, ctx.office)
    assert event.data == {"mandate": mandate.public_id, "sends": 1}


def test_sending_again_inside_the_back_off_sends_nothing_and_after_it_replaces_the_code(ctx):
    account = verified_citizen()
    mandate = create(ctx, account)
    confirmation.send_confirmation_code(staff(ctx.clerk), mandate.public_id)
    first = sent_code()
    again = confirmation.send_confirmation_code(staff(ctx.clerk), mandate.public_id)
    assert not again.sent and 0 < (again.resend_in or 0) <= 30
    assert len(events("mandate.code.sent")) == 1
    challenge = db.session.get(OtpChallenge, mandate.confirmation_challenge_id)
    challenge.last_sent_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert confirmation.send_confirmation_code(staff(ctx.clerk), mandate.public_id).sent
    second = sent_code()
    if second != first:  # the old code died with the new one
        assert refused(confirmation.confirm_with_code, staff(ctx.clerk), mandate.public_id,
                       first).code == "wrong_code"
    confirmation.confirm_with_code(staff(ctx.clerk), mandate.public_id, second)


def test_the_right_code_activates_the_mandate_once(ctx):
    account = verified_citizen()
    mandate = create(ctx, account)
    confirmation.send_confirmation_code(staff(ctx.clerk), mandate.public_id)
    code = sent_code()
    done = confirmation.confirm_with_code(staff(ctx.clerk), mandate.public_id, code)
    assert done.confirmed_by is MandateConfirmation.SMS_CODE
    assert delegation.status_of(done) is Status.ACTIVE
    [event] = events("mandate.confirm")
    assert (event.account_id, event.staff_id, event.office_id) == (account.id, ctx.clerk, ctx.office)
    assert event.data == {"mandate": mandate.public_id, "by": "sms_code"}
    # The same code again (a retry) changes nothing; sending a new code is refused.
    assert confirmation.confirm_with_code(staff(ctx.clerk), mandate.public_id, code).id == mandate.id
    assert len(events("mandate.confirm")) == 1
    error = refused(confirmation.send_confirmation_code, staff(ctx.clerk), mandate.public_id)
    assert (error.status, error.code, error.mandate_status) == (409, "conflict", Status.ACTIVE)


def test_five_wrong_codes_kill_it_and_each_failure_is_committed(ctx):
    account = verified_citizen()
    mandate = create(ctx, account)
    confirmation.send_confirmation_code(staff(ctx.clerk), mandate.public_id)
    code = sent_code()
    wrong = "000000" if code != "000000" else "111111"
    codes = [refused(confirmation.confirm_with_code, staff(ctx.clerk), mandate.public_id,
                     wrong).code for _ in range(5)]
    assert codes == ["wrong_code"] * 4 + ["code_used_up"]
    error = refused(confirmation.confirm_with_code, staff(ctx.clerk), mandate.public_id, code)
    assert (error.status, error.code) == (409, "code_used_up")
    failures = events("mandate.confirm.failure")
    assert len(failures) == 6
    assert [e.data.get("failures") for e in failures[:5]] == [1, 2, 3, 4, 5]
    assert all((e.staff_id, e.office_id) == (ctx.clerk, ctx.office) for e in failures)
    db.session.expire_all()
    assert db.session.get(Mandate, mandate.id).confirmed_at is None
    # A new code cannot revive it: the citizen approves on their phone, or a new mandate.
    error = refused(confirmation.send_confirmation_code, staff(ctx.clerk), mandate.public_id)
    assert error.code == "no_more_codes"


def test_a_code_is_refused_on_another_day_than_the_mandates(ctx):
    account = verified_citizen()
    mandate = create(ctx, account, months=2)
    confirmation.send_confirmation_code(staff(ctx.clerk), mandate.public_id)
    mandate.created_at = mandate.created_at - timedelta(days=1)
    db.session.commit()
    error = refused(confirmation.confirm_with_code, staff(ctx.clerk), mandate.public_id, sent_code())
    assert (error.status, error.code) == (409, "day_passed")
    assert refused(confirmation.send_confirmation_code, staff(ctx.clerk),
                   mandate.public_id).code == "day_passed"
    db.session.expire_all()
    assert db.session.get(Mandate, mandate.id).confirmed_at is None


def test_confirming_without_a_code_sent_or_after_the_citizen_declined(ctx):
    mandate = pending_mandate(office(ctx), staff(ctx.clerk))
    error = refused(confirmation.confirm_with_code, staff(ctx.clerk), mandate.public_id, "123456")
    assert (error.status, error.code) == (409, "code_not_sent")
    confirmation.send_confirmation_code(staff(ctx.clerk), mandate.public_id)
    acting.end_mandate_in_transaction(mandate, by=MandateEnder.CITIZEN)
    db.session.commit()
    error = refused(confirmation.confirm_with_code, staff(ctx.clerk), mandate.public_id, sent_code())
    assert (error.code, error.mandate_status) == ("conflict", Status.REVOKED)


def test_another_offices_mandate_is_not_found(ctx):
    mandate = pending_mandate(office(ctx, other=True), staff(ctx.other_clerk))
    for call, args in [(mandates.get_mandate, ()), (confirmation.send_confirmation_code, ()),
                       (confirmation.confirm_with_code, ("123456",))]:
        error = refused(call, staff(ctx.clerk), mandate.public_id, *args)
        assert (error.status, error.code) == (404, "not_found")
    error = refused(mandates.end_mandate, staff(ctx.supervisor), mandate.public_id)
    assert (error.status, error.code) == (404, "not_found")
    assert all(e.account_id is None for e in events("mandate.refused"))
    assert refused(mandates.get_mandate, staff(ctx.clerk), "x" * 200).code == "not_found"


# --- the supervisor's list and ending one --------------------------------------------------


def test_clerks_can_neither_list_nor_end(ctx):
    mandate = active_mandate(office(ctx), staff(ctx.clerk))
    for call, args in [(mandates.office_mandates, ()), (mandates.end_mandate, (mandate.public_id,))]:
        error = refused(call, staff(ctx.clerk), *args)
        assert (error.status, error.code) == (403, "supervisor_only")
    assert db.session.get(Mandate, mandate.id).revoked_at is None


def test_the_list_shows_the_offices_mandates_with_status_and_uses(ctx):
    portal = delegating_portal()
    used = active_mandate(office(ctx), staff(ctx.clerk))
    pending = pending_mandate(office(ctx), staff(ctx.clerk), account=another_verified_citizen())
    pending_mandate(office(ctx, other=True), staff(ctx.other_clerk),
                    account=db.session.get(Account, pending.account_id))
    db.session.add(MandateUse(mandate_id=used.id, client_pk=portal.id, staff_id=ctx.clerk))
    db.session.commit()
    page = mandates.office_mandates(staff(ctx.supervisor))
    assert page.total == 2
    assert {(r.mandate.id, r.status, r.uses) for r in page.items} == {
        (used.id, Status.ACTIVE, 1), (pending.id, Status.PENDING, 0)}


def test_a_supervisor_ends_a_mandate_and_the_sessions_under_it(ctx):
    portal = delegating_portal()
    mandate = active_mandate(office(ctx), staff(ctx.clerk))
    new = acting.open_mandate_session_in_transaction(mandate, staff=staff(ctx.clerk),
                                                     client=portal, amr="pwd otp mfa")
    db.session.commit()
    ended = mandates.end_mandate(staff(ctx.supervisor), mandate.public_id)
    assert (ended.revoked_by, ended.revoked_by_staff_id) == (MandateEnder.SUPERVISOR, ctx.supervisor)
    assert delegation.status_of(ended) is Status.REVOKED
    db.session.expire_all()
    assert db.session.get(UserSession, new.session.id).revoked_at is not None
    [event] = events("mandate.revoke")
    assert (event.staff_id, event.office_id, event.account_id) == (
        ctx.supervisor, ctx.office, mandate.account_id)
    # Ending it again is a retry: nothing new.
    assert mandates.end_mandate(staff(ctx.supervisor), mandate.public_id).id == mandate.id
    assert len(events("mandate.revoke")) == 1


def test_an_expired_mandate_cannot_be_ended(ctx):
    mandate = active_mandate(office(ctx), staff(ctx.clerk), months=0,
                             created_at=utcnow() - timedelta(days=2))
    error = refused(mandates.end_mandate, staff(ctx.supervisor), mandate.public_id)
    assert (error.status, error.code, error.mandate_status) == (409, "already_ended", Status.EXPIRED)
    assert events("mandate.revoke") == []
