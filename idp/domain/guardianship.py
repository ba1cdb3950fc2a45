"""A guardian signs in for a child under 14 (the ``act`` claim, RFC 8693 §4.1, names the
guardian; ``sub`` is the child). Pure rules over dates; the caller passes the Vietnamese
calendar date (``idp.domain.mandates.vietnam_date`` of the current instant).

Under 14: from "đủ 14 tuổi" (14 years completed) a citizen must hold their own ID card (Law on
Identification 2023, art. 19) and so has their own account; below it, their electronic identity
is used through a parent or guardian (Decree 69/2024/ND-CP). So the link grants sign-in up to
the day before the 14th birthday, and stops on that birthday.

The birthday rule chosen: a person turns 14 on the same day and month 14 years after birth.
A child born on 29 February has no such day in a non-leap year and turns 14 on 1 March, the
first day after the 14 years have fully run (28 February is still within them). Since 14 years
after a leap year is never a leap year (14 is not a multiple of 4), a child born on 29 February
always turns 14 on 1 March.
"""

from __future__ import annotations

from datetime import date

from idp.domain.errors import N_, DomainError
from idp.domain.gender import Gender
from idp.domain.national_id import check_national_id

AGE_OF_SELF_SIGN_IN = 14

MSG_NOT_UNDER_14 = N_("A guardian can be registered only for a child under 14. From the "
                      "14th birthday, the child signs in with their own account.")


def birthday_at_age(birth_date: date, years: int) -> date:
    """The day ``years`` after ``birth_date``; 29 February falls on 1 March in a non-leap year."""
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:  # 29 February into a non-leap year
        return date(birth_date.year + years, 3, 1)


def link_ends_on(child_birth_date: date) -> date:
    """The first day the guardian's link no longer grants sign-in: the 14th birthday."""
    return birthday_at_age(child_birth_date, AGE_OF_SELF_SIGN_IN)


def is_under_14(birth_date: date, today: date) -> bool:
    """Born by ``today`` (a birth date in the future is no child yet) and not yet 14."""
    return birth_date <= today < link_ends_on(birth_date)


def guardian_may_act(child_birth_date: date, today: date) -> bool:
    """Whether a guardian may sign in for the child on ``today`` (a Vietnamese calendar day)."""
    return is_under_14(child_birth_date, today)


def check_child_registration(national_id: str, *, birth_date: date, gender: Gender,
                             today: date) -> str:
    """Check a child's ID number, declared birth date and sex, then the age.

    Returns the normalised 12-digit number. The number is checked first by
    ``idp.domain.national_id.check_national_id`` (its codes: structure, ``birthdate.future``,
    ``birthdate.too_old``, ``national_id.gender_mismatch``, ``national_id.birth_year_mismatch``),
    then ``DomainError("guardianship.too_old")`` when the child is 14 or older ``today``.
    """
    number = check_national_id(national_id, birthdate=birth_date, gender=gender, today=today)
    if not is_under_14(birth_date, today):
        raise DomainError("guardianship.too_old", MSG_NOT_UNDER_14)
    return number
