"""Gender parsing: English claim values and Vietnamese words."""

from __future__ import annotations

import unicodedata

import pytest

from idp.domain.errors import DomainError
from idp.domain.gender import Gender, parse_gender


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("male", Gender.MALE),
        ("MALE", Gender.MALE),
        ("  Male\n", Gender.MALE),
        ("nam", Gender.MALE),
        ("Nam", Gender.MALE),
        ("female", Gender.FEMALE),
        ("Female ", Gender.FEMALE),
        ("nữ", Gender.FEMALE),
        ("NỮ", Gender.FEMALE),
        (unicodedata.normalize("NFD", "Nữ"), Gender.FEMALE),
        ("nu", Gender.FEMALE),
        ("NU", Gender.FEMALE),
    ],
)
def test_parse_gender(raw: str, expected: Gender) -> None:
    assert parse_gender(raw) is expected


@pytest.mark.parametrize(
    "raw",
    ["", "  ", "m", "f", "other", "man", "woman", "nư", "n ữ", "0", "x" * 33, "male" + " " * 40],
)
def test_parse_gender_invalid(raw: str) -> None:
    with pytest.raises(DomainError) as info:
        parse_gender(raw)
    assert info.value.code == "gender.invalid"
    assert info.value.message == "Choose male or female."


def test_gender_values_are_claim_strings() -> None:
    assert [g.value for g in Gender] == ["male", "female"]
    assert Gender("female") is Gender.FEMALE
    assert f"{Gender.MALE}" == "male"
    assert isinstance(Gender.MALE, str)
