"""Guardians and children for the tests (docs/architecture.md §14). Call inside an application
context (a request context for the services that send SMS)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from idp.domain.document_check import DocumentCheck
from idp.domain.guardianship import birthday_at_age
from idp.extensions import db
from idp.models import Account, Guardianship, MandateConfirmation, StaffMember
from idp.services.counter import guardians
from idp.services.counter.child_details import BirthCertificate, ChildDetails
from idp.services.identity import guardian_confirmation
from idp.services.platform.clock import today_in_vietnam
from tests.factories import active_citizen

PARENT_ID = "001099012345"  # tests.factories.citizen_details
SECOND_PARENT_ID = "079303001234"


def verified_parent(**overrides: Any) -> Account:
    """An active citizen verified at a counter (LoA2)."""
    account = active_citizen(**overrides)
    account.identity_loa = 2
    db.session.commit()
    return account


def second_verified_parent() -> Account:
    return verified_parent(national_id=SECOND_PARENT_ID, full_name="Trần Thị Bích Ngọc",
                           birthdate=date(2003, 2, 1), gender="female", phone="+84 983 456 789",
                           email=None)


def child_number(birthdate: date, gender: str = "female", serial: str = "012345") -> str:
    """A Hanoi ID number that agrees with the birth date and sex (4th digit: century and sex)."""
    century = (birthdate.year // 100 - 19) * 2 + (1 if gender == "female" else 0)
    return f"001{century}{birthdate.year % 100:02d}{serial}"


def birthdate_turning_14_in(days: int) -> date:
    """A birth date whose 14th birthday is `days` from today in Vietnam (0: today)."""
    target = today_in_vietnam() + timedelta(days=days)
    return birthday_at_age(target, -14) if (target.month, target.day) != (2, 29) else \
        date(target.year - 14, 2, 28)


def child(birthdate: date | None = None, gender: str = "female", serial: str = "012345",
          **overrides: Any) -> ChildDetails:
    birthdate = birthdate or date(2018, 3, 9)
    values: dict[str, Any] = {"national_id": child_number(birthdate, gender, serial),
                              "full_name": "Nguyễn Thị Mai", "birthdate": birthdate,
                              "gender": gender}
    values.update(overrides)
    return ChildDetails(**values)


def certificate(**overrides: Any) -> BirthCertificate:
    values: dict[str, Any] = {"number": "123/2018/KS", "issued_on": date(2018, 3, 20),
                              "matches": True}
    values.update(overrides)
    return BirthCertificate(**values)


def card_of(parent: Account | str, **overrides: Any) -> DocumentCheck:
    """The parent's ID card (of the account, or with this ID number), every item ticked."""
    number = parent if isinstance(parent, str) else parent.national_id
    values: dict[str, Any] = {
        "document_type": "can_cuoc", "document_number": number,
        "issued_on": today_in_vietnam() - timedelta(days=300),
        "expires_on": today_in_vietnam() + timedelta(days=3650), "name_match": True,
        "birthdate_match": True, "sex_match": True, "photo_match": True, "address": None}
    values.update(overrides)
    return DocumentCheck(**values)


def registered_child(staff: StaffMember, guardian: Account, birthdate: date | None = None,
                     **overrides: Any) -> Guardianship:
    """A child registered under `guardian` at `staff`'s counter, the link still pending."""
    details = child(birthdate, **overrides)
    cert = certificate(issued_on=max(details.birthdate or date.min, date(2018, 3, 20))
                       if birthdate is None else details.birthdate)
    return guardians.register_child(staff, guardian.national_id, details, cert,
                                    card_of(guardian), channel="web").link


def linked_child(staff: StaffMember, guardian: Account, birthdate: date | None = None,
                 **overrides: Any) -> Guardianship:
    """A child registered under `guardian`, who confirmed the link."""
    return confirmed(registered_child(staff, guardian, birthdate, **overrides))


def turning_14_today(link: Guardianship) -> None:
    """Move the child's birth date (and ID number) so that the 14th birthday is today."""
    born = birthdate_turning_14_in(0)
    link.child.birthdate = born
    link.child.national_id = child_number(born, link.child.gender.value,
                                          link.child.national_id[-6:])
    db.session.commit()


def confirmed(link: Guardianship) -> Guardianship:
    """The parent confirmed the link on their own phone (the notices are in the outbox)."""
    guardian_confirmation.confirm_in_transaction(link, MandateConfirmation.OWN_DEVICE)
    db.session.commit()
    return link
