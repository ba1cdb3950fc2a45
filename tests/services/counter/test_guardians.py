"""A child under 14 registered under a verified parent at the counter: one transaction, refusals
write nothing but their audit event, retries are idempotent, at most two guardians; and the
young person's own account activated from the 14th birthday."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from idp.domain.document_check import DocumentCheck
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditEvent,
    AuditTag,
    Guardianship,
    OutboxMessage,
)
from idp.services.counter import guardian_activation, guardians
from idp.services.counter.assisted_registration import WalkInInvalid
from idp.services.counter.guardian_activation import ActivationRefusal
from idp.services.counter.guardians import ChildInvalid, GuardianRefusal
from idp.services.identity.accounts import CitizenDetails
from idp.services.platform.clock import today_in_vietnam
from tests.factories import active_citizen
from tests.guardian_factories import (
    PARENT_ID,
    birthdate_turning_14_in,
    certificate,
    child,
    child_number,
    confirmed,
    registered_child,
    second_verified_parent,
    turning_14_today,
    verified_parent,
)
from tests.guardian_factories import card_of as parent_card
from tests.staff_factories import enrolled_clerk, enrolled_supervisor, post_office

LINK = "https://id.example.test/activate"


@pytest.fixture
def clerk(app):
    with app.test_request_context():
        yield enrolled_clerk(post_office())


def count(model: type, *where) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def tags() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.tag).order_by(AuditEvent.id)))


def register(staff, guardian_id=PARENT_ID, details=None, cert=None):  # type: ignore[no-untyped-def]
    return guardians.register_child(staff, guardian_id, details or child(), cert or certificate(),
                                    parent_card(guardian_id), channel="web")


def test_registration_creates_a_minor_account_its_pending_link_and_confirmation_tells(clerk):
    parent = verified_parent()
    result = register(clerk)
    assert (result.created, result.new_account) == (True, True)
    kid = result.link.child
    assert (kid.status, kid.phone, kid.identity_loa, kid.password) == (
        AccountStatus.MINOR, None, 2, None)
    assert (kid.full_name, kid.birthdate) == ("Nguyễn Thị Mai", date(2018, 3, 9))
    link = result.link
    assert (link.guardian_account_id, link.office_id, link.created_by_id) == (
        parent.id, clerk.office_id, clerk.id)
    assert (link.birth_certificate_number, link.birth_certificate_matches) == ("123/2018/KS", True)
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.tag == AuditTag.GUARDIAN_CHILD_REGISTER.value))
    assert (event.account_id, event.actor_id, event.staff_id, event.office_id) == (
        kid.id, parent.id, clerk.id, clerk.office_id)
    assert link.confirmed_at is None and link.document_number == parent.national_id
    assert count(OutboxMessage, OutboxMessage.template == "guardian.linked") == 0
    confirmed(link)
    sms = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "guardian.linked")).all()
    assert [m.account_id for m in sms] == [parent.id]
    assert "Bưu điện Bờ Hồ" in sms[0].body and "Mai" in sms[0].body


def test_the_same_registration_retried_returns_it_and_writes_nothing(clerk):
    verified_parent()
    first = register(clerk)
    before = (tags(), count(OutboxMessage), count(Account))
    again = register(clerk)
    assert (again.created, again.new_account, again.link.id) == (False, True, first.link.id)
    assert (tags(), count(OutboxMessage), count(Account)) == before


def stored() -> tuple[int, int, int]:
    return count(Account), count(Guardianship), count(OutboxMessage)


@pytest.mark.parametrize(("details", "cert", "code", "field"), [
    (child(birthdate_turning_14_in(0)), None, "guardianship.too_old", "birthdate"),
    (child(date(2010, 1, 1)), None, "guardianship.too_old", "birthdate"),
    (child(date(2030, 1, 1), national_id="001230012345"), None, "birthdate.future", "birthdate"),
    (child(national_id="001218"), None, "national_id.format", "national_id"),
    (child(national_id=child_number(date(2018, 3, 9), "male")), None,
     "national_id.gender_mismatch", "national_id"),
    (child(national_id="001317012345"), None, "national_id.birth_year_mismatch", "national_id"),
    (child(full_name="Mai 2"), None, None, "full_name"),
    (None, certificate(matches=False), "certificate.mismatch", "certificate_matches"),
    (None, certificate(number=" "), "certificate.number", "certificate_number"),
    (None, certificate(issued_on=date(2017, 1, 1)), "certificate.issued_on",
     "certificate_issued_on"),
])
def test_bad_data_are_refused_field_by_field_and_nothing_is_stored(clerk, details, cert, code,
                                                                     field):
    verified_parent()
    before, events = stored(), len(tags())
    with pytest.raises(ChildInvalid) as caught:
        register(clerk, details=details, cert=cert)
    errors = {e.field: e.code for e in caught.value.errors}
    assert field in errors, errors
    if code:
        assert errors[field] == code
    assert (stored(), len(tags())) == (before, events)


def test_turning_14_tomorrow_may_still_be_registered(clerk):
    verified_parent()
    born = birthdate_turning_14_in(1)
    result = register(clerk, details=child(born), cert=certificate(issued_on=born))
    assert result.created


def refused(staff, code, **kwargs):  # type: ignore[no-untyped-def]
    before = stored()
    with pytest.raises(GuardianRefusal) as caught:
        register(staff, **kwargs)
    assert caught.value.code == code
    assert stored() == before
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert (event.tag, event.data["reason"], event.data["action"]) == (
        AuditTag.COUNTER_VERIFICATION_REFUSED.value, code, "guardian_registration")
    assert event.staff_id == staff.id
    return caught.value


def test_an_unverified_or_unknown_or_disabled_guardian_is_refused(clerk):
    parent = active_citizen()
    assert refused(clerk, "guardian_not_verified").status == 409
    refused(clerk, "guardian_not_verified", guardian_id="079303001234")
    parent.identity_loa = 2
    parent.status = AccountStatus.DISABLED
    db.session.commit()
    refused(clerk, "guardian_not_verified")


def test_the_clerks_own_id_and_colleagues_are_refused(clerk):
    verified_parent()
    assert refused(clerk, "own_account", guardian_id=clerk.national_id).status == 403
    supervisor = enrolled_supervisor(clerk.office, national_id=PARENT_ID)
    assert refused(clerk, "colleague").status == 403
    # The child's number is checked the same way (a staff record holding it, for the test).
    supervisor.national_id = child().national_id
    db.session.commit()
    refused(clerk, "colleague")
    # Staff of another office may do it.
    other = enrolled_clerk(post_office(code="HCM-SG", name="Bưu điện Sài Gòn", province_code="79"),
                           national_id="079090000011")
    assert register(other).created


def test_an_adult_id_number_is_refused_without_saying_why(clerk):
    verified_parent()
    second_verified_parent()
    adult = child(date(2003, 2, 1), national_id="079303001234", full_name="Trần Thị Bích Ngọc")
    # An adult's number is refused by the age rule before any account is looked at...
    with pytest.raises(ChildInvalid):
        register(clerk, details=adult)
    # ...and a child's number that belongs to another account is `account_exists`.
    registered = register(clerk).link
    registered.child.status = AccountStatus.PENDING_ACTIVATION
    db.session.commit()
    assert refused(clerk, "account_exists", guardian_id="079303001234").status == 409


def test_a_second_guardian_is_linked_and_a_third_refused(clerk, app):
    parent = verified_parent()
    first = register(clerk).link
    other = second_verified_parent()
    second = register(clerk, guardian_id=other.national_id)
    assert (second.created, second.new_account) == (True, False)
    assert second.link.child_account_id == first.child_account_id
    assert count(Account) == 3
    event = db.session.scalars(select(AuditEvent).where(
        AuditEvent.tag == AuditTag.GUARDIAN_LINK.value)).one()
    assert (event.account_id, event.actor_id) == (first.child_account_id, other.id)
    third = verified_parent(national_id="001088012345", phone="0911000222", email=None,
                            birthdate=date(1988, 1, 1))
    refused(clerk, "account_exists", guardian_id=third.national_id)
    # Other data for an existing child (another name) is refused the same way.
    first.ended_at = first.created_at
    db.session.commit()
    refused(clerk, "account_exists", guardian_id=third.national_id,
            details=child(full_name="Nguyễn Thị Lan"))
    assert parent.id


def test_another_clerk_repeating_a_registration_is_refused(clerk):
    verified_parent()
    register(clerk)
    colleague = enrolled_clerk(clerk.office, username="clerk-2", national_id="001085000077")
    refused(colleague, "account_exists")


# --- from the 14th birthday --------------------------------------------------------------------

def card_of(kid: Account, **overrides) -> DocumentCheck:  # type: ignore[no-untyped-def]
    values = {"document_type": "can_cuoc", "document_number": kid.national_id,
              "issued_on": today_in_vietnam() - timedelta(days=30),
              "expires_on": today_in_vietnam() + timedelta(days=3650), "name_match": True,
              "birthdate_match": True, "sex_match": True, "photo_match": True, "address": None}
    values.update(overrides)
    return DocumentCheck(**values)


def details_of(kid: Account, phone: str = "0977123456") -> CitizenDetails:
    return CitizenDetails(national_id=kid.national_id, full_name=kid.full_name,
                          birthdate=kid.birthdate, gender=kid.gender.value, phone=phone,
                          email=None)


def activate(staff, kid, **kwargs):  # type: ignore[no-untyped-def]
    return guardian_activation.activate_young_person(
        staff, kwargs.pop("details", None) or details_of(kid), kwargs.pop("check", None)
        or card_of(kid), channel="web", activation_link=LINK)


def test_at_14_the_account_is_activated_at_the_counter_and_the_links_end(clerk):
    link = registered_child(clerk, verified_parent())
    second = register(clerk, guardian_id=second_verified_parent().national_id).link
    turning_14_today(link)
    kid = link.child
    done = activate(clerk, kid)
    assert done.created
    db.session.refresh(kid)
    assert (kid.status, kid.phone) == (AccountStatus.PENDING_ACTIVATION, "+84977123456")
    for each in (link, second):
        db.session.refresh(each)
        assert (each.ended_at is not None, each.end_reason) == (True, "turned_14")
    assert tags().count(AuditTag.GUARDIAN_LINK_END.value) == 2
    sms = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.template == "activate.code", OutboxMessage.account_id == kid.id)).all()
    assert len(sms) == 1 and LINK in sms[0].body
    before = (tags(), count(OutboxMessage))
    again = activate(clerk, kid)
    assert (again.created, again.verification.id) == (False, done.verification.id)
    assert (tags(), count(OutboxMessage)) == before


def test_activation_before_14_or_with_other_data_is_refused(clerk):
    parent = verified_parent()
    born = birthdate_turning_14_in(1)
    link = registered_child(clerk, parent, born)
    kid = link.child
    with pytest.raises(ActivationRefusal) as caught:
        activate(clerk, kid)
    assert (caught.value.code, caught.value.status) == ("too_young", 409)
    turning_14_today(link)
    with pytest.raises(ActivationRefusal) as caught:
        activate(clerk, kid, details=CitizenDetails(
            national_id=kid.national_id, full_name="Nguyễn Thị Lan", birthdate=kid.birthdate,
            gender="female", phone="0977123456", email=None))
    assert caught.value.code == "not_found"
    with pytest.raises(ActivationRefusal) as caught:
        activate(clerk, kid, details=details_of(kid, phone="0912345678"))  # the parent's phone
    assert caught.value.code == "phone_taken"
    with pytest.raises(WalkInInvalid):
        activate(clerk, kid, check=card_of(kid, photo_match=False))
    db.session.refresh(kid)
    assert (kid.status, kid.phone) == (AccountStatus.MINOR, None)
    assert count(Guardianship, Guardianship.ended_at.is_not(None)) == 0
