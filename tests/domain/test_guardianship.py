"""Guardianship: under 14 by the calendar, the 14th birthday, 29 February, registration."""

from __future__ import annotations

from datetime import date

import pytest

from idp.domain.errors import DomainError
from idp.domain.gender import Gender
from idp.domain.guardianship import (
    birthday_at_age,
    check_child_registration,
    guardian_may_act,
    is_under_14,
    link_ends_on,
)


@pytest.mark.parametrize(
    ("birth", "ends"),
    [
        (date(2015, 3, 10), date(2029, 3, 10)),
        (date(2012, 2, 29), date(2026, 3, 1)),  # leap day: 1 March, 2026 is not a leap year
        (date(2016, 2, 29), date(2030, 3, 1)),
        (date(2012, 2, 28), date(2026, 2, 28)),
        (date(2012, 3, 1), date(2026, 3, 1)),
        (date(2011, 12, 31), date(2025, 12, 31)),
        (date(2020, 1, 1), date(2034, 1, 1)),
    ],
)
def test_link_ends_on_the_14th_birthday(birth: date, ends: date) -> None:
    assert link_ends_on(birth) == ends


def test_birthday_at_age_keeps_29_february_in_a_leap_year() -> None:
    assert birthday_at_age(date(2012, 2, 29), 4) == date(2016, 2, 29)
    assert birthday_at_age(date(2012, 2, 29), 1) == date(2013, 3, 1)


@pytest.mark.parametrize(
    ("birth", "today", "may"),
    [
        (date(2015, 3, 10), date(2029, 3, 9), True),    # the day before the 14th birthday
        (date(2015, 3, 10), date(2029, 3, 10), False),  # the 14th birthday exactly
        (date(2015, 3, 10), date(2029, 3, 11), False),
        (date(2015, 3, 10), date(2015, 3, 10), True),   # born today
        (date(2015, 3, 10), date(2015, 3, 9), False),   # not born yet
        (date(2012, 2, 29), date(2026, 2, 28), True),   # 29 February child, non-leap 14th year
        (date(2012, 2, 29), date(2026, 3, 1), False),
        (date(2012, 2, 28), date(2026, 2, 28), False),
        (date(2012, 3, 1), date(2026, 2, 28), True),
        (date(2000, 1, 1), date(2026, 12, 7), False),
    ],
)
def test_guardian_may_act(birth: date, today: date, may: bool) -> None:
    assert guardian_may_act(birth, today) is may
    assert is_under_14(birth, today) is may


# 001: Hà Nội; 4th digit 2 = born in the 2000s, male, 3 = female; 5th-6th: the birth year.
@pytest.mark.parametrize(
    ("number", "birth", "gender", "today"),
    [
        ("001215012345", date(2015, 3, 10), Gender.MALE, date(2029, 3, 9)),
        ("001 312 012 345", date(2012, 2, 29), Gender.FEMALE, date(2026, 2, 28)),
        ("079326000001", date(2026, 12, 7), Gender.FEMALE, date(2026, 12, 7)),
    ],
)
def test_registration_of_a_child_under_14(number: str, birth: date, gender: Gender, today: date) -> None:
    assert check_child_registration(number, birth_date=birth, gender=gender, today=today) == number.replace(" ", "")


@pytest.mark.parametrize(
    ("number", "birth", "gender", "today", "code"),
    [
        ("001215012345", date(2015, 3, 10), Gender.MALE, date(2029, 3, 10), "guardianship.too_old"),
        ("001312012345", date(2012, 2, 29), Gender.FEMALE, date(2026, 3, 1), "guardianship.too_old"),
        ("001099012345", date(1999, 5, 1), Gender.MALE, date(2026, 12, 7), "guardianship.too_old"),
        # The existing ID-number rules decide first:
        ("001315012345", date(2015, 3, 10), Gender.MALE, date(2026, 12, 7), "national_id.gender_mismatch"),
        ("001216012345", date(2015, 3, 10), Gender.MALE, date(2026, 12, 7), "national_id.birth_year_mismatch"),
        ("001015012345", date(2015, 3, 10), Gender.MALE, date(2026, 12, 7), "national_id.birth_year_mismatch"),
        ("001227012345", date(2027, 1, 1), Gender.MALE, date(2026, 12, 7), "birthdate.future"),
        ("12345678", date(2015, 3, 10), Gender.MALE, date(2026, 12, 7), "national_id.format"),
    ],
)
def test_registration_refused(number: str, birth: date, gender: Gender, today: date, code: str) -> None:
    with pytest.raises(DomainError) as info:
        check_child_registration(number, birth_date=birth, gender=gender, today=today)
    assert info.value.code == code
