"""Assisted registration and activation services: one transaction, refusals write nothing but
their audit event, retries are idempotent, activation is enumeration-safe and single use."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from idp.domain.document_check import DocumentCheck, PostalAddress
from idp.domain.errors import DomainError
from idp.errors import Refusal, Throttled
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditEvent,
    AuditTag,
    IdentityVerification,
    OutboxMessage,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services.counter import assisted_registration
from idp.services.counter.assisted_registration import (
    ACTIVATION_CODE_HOURS,
    AccountExists,
    OwnAccount,
    WalkInInvalid,
)
from idp.services.identity import activation, authentication
from idp.services.platform import otp, passwords, throttle
from tests.factories import active_citizen, citizen_details
from tests.staff_factories import enrolled_clerk, post_office

NEW_PASSWORD = "blue mango river lantern"
WALK_IN_ID = "001099012345"
LINK_PATH = "/register/email/{}".format
ACTIVATION_LINK = "https://id.example.test/activate"  # what the counter pages pass in


def register_walk_in(*args, **kwargs):
    return assisted_registration.register_walk_in(*args, activation_link=ACTIVATION_LINK, **kwargs)


def card(**overrides) -> DocumentCheck:  # type: ignore[no-untyped-def]
    values = {"document_type": "can_cuoc", "document_number": WALK_IN_ID,
              "issued_on": date(2021, 6, 1), "expires_on": date(2039, 5, 17),
              "name_match": True, "birthdate_match": True, "sex_match": True,
              "photo_match": True, "address": None}
    values.update(overrides)
    return DocumentCheck(**values)


@pytest.fixture
def clerk(app):
    with app.test_request_context():
        yield enrolled_clerk(post_office())


def count(model: type, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def tags() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def activation_code(account_id: int) -> str:
    body = db.session.scalars(select(OutboxMessage.body).where(
        OutboxMessage.template == "activate.code", OutboxMessage.account_id == account_id)
        .order_by(OutboxMessage.id)).all()[-1]
    return re.findall(r"(?<!\d)\d{6}(?!\d)", body)[0]


def test_walk_in_creates_a_pending_account_a_submitted_check_and_an_sms(clerk):
    address = PostalAddress(street="12 Hàng Bài", ward="Phường Hoàn Kiếm", province_code="01")
    walk_in = register_walk_in(clerk, citizen_details(), card(address=address), channel="web")
    account, verification = walk_in.account, walk_in.verification
    assert walk_in.created
    assert account.status is AccountStatus.PENDING_ACTIVATION and account.password is None
    assert account.phone_verified_at is None and account.identity_loa == 1
    assert verification.status is VerificationStatus.SUBMITTED and verification.assisted
    assert verification.live_account_id == account.id and verification.clerk_id == clerk.id
    assert verification.office_id == clerk.office_id and verification.document_number == WALK_IN_ID
    assert verification.verified_address["province_code"] == "01"
    assert account.postal_address is None  # only an approval sets it
    challenge = db.session.scalar(select(OtpChallenge))
    assert challenge.purpose is OtpPurpose.ACTIVATE_ACCOUNT and challenge.account_id == account.id
    lifetime = challenge.expires_at - utcnow()
    assert timedelta(hours=ACTIVATION_CODE_HOURS - 1) < lifetime <= timedelta(hours=ACTIVATION_CODE_HOURS)
    sms = db.session.scalar(select(OutboxMessage))
    assert sms.recipient == "+84912345678" and ACTIVATION_LINK in sms.body
    assert tags() == ["account.create", "counter.registration.assisted"]
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.tag == AuditTag.COUNTER_ASSISTED_REGISTRATION.value))
    assert (event.staff_id, event.office_id, event.account_id) == (clerk.id, clerk.office_id, account.id)
    assert event.data == {"verification": verification.public_id}


def test_pending_account_cannot_sign_in(clerk):
    register_walk_in(clerk, citizen_details(), card(), channel="web")
    for identifier in (WALK_IN_ID, "0912345678"):
        with pytest.raises(Refusal):
            authentication.sign_in(identifier, "any password at all")


def test_every_problem_is_reported_and_nothing_is_written(clerk):
    details = citizen_details(full_name="", phone="12345", email="not-an-email")
    bad_card = card(document_number="001099012346", expires_on=date(2020, 1, 1),
                    issued_on=date(2019, 1, 1), photo_match=False, document_type="driving")
    with pytest.raises(WalkInInvalid) as caught:
        register_walk_in(clerk, details, bad_card, channel="api")
    fields = {error.field: error.code for error in caught.value.errors}
    assert fields == {"full_name": fields["full_name"], "phone": fields["phone"],
                      "email": fields["email"], "document_type": "document.type",
                      "document_number": "document.number_mismatch",
                      "expires_on": "document.expired", "photo_match": "document.mismatch"}
    assert count(Account) == count(IdentityVerification) == count(OutboxMessage) == 0
    assert tags() == []


def test_id_number_must_match_birth_date_and_sex_like_self_registration(clerk):
    with pytest.raises(WalkInInvalid) as caught:
        register_walk_in(clerk, citizen_details(gender="female"), card(), channel="web")
    assert [error.field for error in caught.value.errors] == ["national_id"]


def test_document_number_is_normalised(clerk):
    walk_in = register_walk_in(clerk, citizen_details(), card(document_number=" 001 099 012 345 "),
                               channel="web")
    assert walk_in.verification.document_number == WALK_IN_ID


def test_own_id_number_is_refused_and_audited(app):
    with app.test_request_context():
        clerk = enrolled_clerk(post_office(), national_id=WALK_IN_ID)
        with pytest.raises(OwnAccount) as caught:
            register_walk_in(clerk, citizen_details(), card(), channel="web")
        assert caught.value.status == 403 and caught.value.code == "own_account"
        assert count(Account) == count(OutboxMessage) == 0
        event = db.session.scalar(select(AuditEvent))
        assert event.tag == "counter.verification.refused" and event.staff_id == clerk.id
        assert event.data == {"action": "assisted_registration", "reason": "own_account"}


@pytest.mark.parametrize("taken", ["national_id", "phone"])
def test_existing_account_is_refused_without_saying_which_field(clerk, taken):
    if taken == "national_id":  # the same person registered online with another phone
        existing = active_citizen(phone="0983456789", email=None)
    else:  # someone else already uses the phone
        existing = active_citizen(national_id="079303001234", full_name="Trần Thị Bích Ngọc",
                                  birthdate=date(2003, 2, 1), gender="female", email=None)
    before = count(OutboxMessage)
    with pytest.raises(AccountExists) as caught:
        register_walk_in(clerk, citizen_details(), card(), channel="web")
    assert caught.value.status == 409 and caught.value.code == "account_exists"
    assert "ID number or this phone number" in caught.value.message
    assert count(Account) == 1 and count(IdentityVerification) == 0
    assert count(OutboxMessage) == before
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    assert event.tag == "counter.verification.refused" and event.account_id == existing.id


def test_a_retry_of_the_same_registration_returns_the_first(clerk):
    first = register_walk_in(clerk, citizen_details(), card(), channel="web")
    again = register_walk_in(clerk, citizen_details(phone="+84 912 345 678"), card(), channel="api")
    assert not again.created
    assert again.verification.public_id == first.verification.public_id
    assert count(Account) == count(IdentityVerification) == count(OutboxMessage) == 1
    assert tags() == ["account.create", "counter.registration.assisted"]


def test_a_retry_with_other_data_or_by_someone_else_or_later_is_refused(app, clerk):
    first = register_walk_in(clerk, citizen_details(), card(), channel="web")
    with pytest.raises(AccountExists):
        register_walk_in(clerk, citizen_details(email="other@example.vn"), card(), channel="web")
    colleague = enrolled_clerk(clerk.office, username="clerk-2", national_id="001085000009")
    with pytest.raises(AccountExists):
        register_walk_in(colleague, citizen_details(), card(), channel="web")
    first.account.created_at = utcnow() - timedelta(minutes=11)
    db.session.commit()
    with pytest.raises(AccountExists):
        register_walk_in(clerk, citizen_details(), card(), channel="web")
    assert count(Account) == 1


# --- activation -----------------------------------------------------------------------------


@pytest.fixture
def walk_in(clerk):
    return register_walk_in(clerk, citizen_details(), card(), channel="web")


def test_activation_sets_the_citizen_s_password_and_signs_in(walk_in):
    flow = activation.check_code(WALK_IN_ID, activation_code(walk_in.account.id))
    done = activation.activate(flow, NEW_PASSWORD, user_agent="phone", email_link_path=LINK_PATH)
    account = db.session.get(Account, walk_in.account.id)
    assert account.status is AccountStatus.ACTIVE and account.phone_verified_at is not None
    assert passwords.verify_password(account.password.hash, NEW_PASSWORD)
    assert done.new_session.session.account_id == account.id
    assert tags()[-2:] == ["account.activate", "account.login.success"]
    signed_in = authentication.sign_in("0912345678", NEW_PASSWORD)
    assert signed_in.account.id == account.id
    with pytest.raises(Refusal):  # the flow is spent with the activation
        activation.activate(flow, "another good passphrase", email_link_path=LINK_PATH)


def test_wrong_code_unknown_and_active_accounts_fail_the_same_way(walk_in):
    active_citizen(national_id="079303001234", full_name="Trần Thị Bích Ngọc",
                   birthdate=date(2003, 2, 1), gender="female", phone="0983456789")
    code = activation_code(walk_in.account.id)
    wrong = "000000" if code != "000000" else "111111"
    messages = set()
    for national_id, guess in ((WALK_IN_ID, wrong), ("079303001234", code),
                               ("001199012345", code), ("12", code)):
        with pytest.raises(Refusal) as caught:
            activation.check_code(national_id, guess)
        messages.add((caught.value.code, caught.value.message, caught.value.status))
    assert len(messages) == 1


def test_five_wrong_codes_kill_the_code_and_a_new_one_can_be_sent(app, walk_in):
    code = activation_code(walk_in.account.id)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(otp.MAX_FAILURES):
        with pytest.raises(Refusal):
            activation.check_code(WALK_IN_ID, wrong)
    throttle.succeeded(throttle.Attempt(activation._throttle_key("code", WALK_IN_ID)))
    with pytest.raises(Refusal):
        activation.check_code(WALK_IN_ID, code)  # dead
    challenge = db.session.scalar(select(OtpChallenge))
    challenge.last_sent_at -= timedelta(minutes=1)
    db.session.commit()
    activation.send_new_code(WALK_IN_ID)
    assert count(OtpChallenge) == 2
    fresh = activation_code(walk_in.account.id)
    assert activation.load_flow(activation.check_code(WALK_IN_ID, fresh)) is not None


def test_expired_code_is_renewed_after_the_back_off(walk_in):
    challenge = db.session.scalar(select(OtpChallenge))
    old = activation_code(walk_in.account.id)
    challenge.expires_at = challenge.last_sent_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    with pytest.raises(Refusal):
        activation.check_code(WALK_IN_ID, old)
    activation.send_new_code(WALK_IN_ID)
    activation.send_new_code(WALK_IN_ID)  # too early: nothing sent, same answer
    assert count(OtpChallenge) == 1 and count(OutboxMessage) == 2
    renewed = activation_code(walk_in.account.id)
    assert activation.check_code(WALK_IN_ID, renewed)


def test_send_new_code_for_unknown_id_sends_nothing(walk_in):
    before = count(OutboxMessage)
    activation.send_new_code("079303001234")
    activation.send_new_code("not a number")
    assert count(OutboxMessage) == before


def test_policy_error_changes_nothing_and_keeps_the_flow(walk_in):
    flow = activation.check_code(WALK_IN_ID, activation_code(walk_in.account.id))
    for bad in ("short", "postid2026!", "Nguyen Van An 1999", "001099012345x"):
        with pytest.raises(DomainError):
            activation.activate(flow, bad, email_link_path=LINK_PATH)
    account = db.session.get(Account, walk_in.account.id)
    assert account.status is AccountStatus.PENDING_ACTIVATION and account.password is None
    activation.activate(flow, NEW_PASSWORD, email_link_path=LINK_PATH)


def test_a_used_code_does_not_work_twice(walk_in):
    code = activation_code(walk_in.account.id)
    activation.check_code(WALK_IN_ID, code)
    with pytest.raises(Refusal):
        activation.check_code(WALK_IN_ID, code)


def test_forged_or_stale_flow_is_refused(walk_in):
    flow = activation.check_code(WALK_IN_ID, activation_code(walk_in.account.id))
    for bad in (None, "", "x" * 300, flow[:-2] + "AA"):
        with pytest.raises(Refusal):
            activation.activate(bad, NEW_PASSWORD, email_link_path=LINK_PATH)
    challenge = db.session.scalar(select(OtpChallenge))
    challenge.consumed_at = utcnow() - timedelta(seconds=activation.FLOW_SECONDS + 1)
    db.session.commit()
    with pytest.raises(Refusal):
        activation.activate(flow, NEW_PASSWORD, email_link_path=LINK_PATH)


def test_guesses_are_throttled_per_id_number(app, walk_in):
    free = app.config["IDP_SETTINGS"].login_free_failures
    for _ in range(free + 1):
        with pytest.raises(Refusal):
            activation.check_code("079303001234", "000000")
    with pytest.raises(Throttled):
        activation.check_code("0793 0300 1234", "000000")


def test_the_counters_code_goes_out_after_strangers_spent_the_persons_budget(clerk):
    from idp.services.platform import sms_limits

    for _ in range(10):  # /register and /recover with the walk-in's details, by anyone
        sms_limits.admit("+84912345678", template="register.code", national_id=WALK_IN_ID)
    assert sms_limits.admit("+84912345678", template="register.code",
                            national_id=WALK_IN_ID) is not None
    walk_in = register_walk_in(clerk, citizen_details(), card(), channel="web")
    assert count(OutboxMessage, OutboxMessage.template == "activate.code",
                 OutboxMessage.account_id == walk_in.account.id) == 1
