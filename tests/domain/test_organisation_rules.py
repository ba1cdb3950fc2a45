"""Pure rules for organisations and members (idp.domain.organisation_rules)."""

from __future__ import annotations

import unicodedata
from datetime import date

import pytest

from idp.domain.errors import DomainError
from idp.domain.organisation_rules import (
    check_member_national_id,
    check_validity,
    mask_national_id,
    normalize_organisation_name,
    parse_day,
    parse_typed_tax_code,
)

TODAY = date(2026, 3, 15)


def code_of(call, *args, **kwargs) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError) as info:
        call(*args, **kwargs)
    return info.value.code


def test_names_are_nfc_with_single_spaces() -> None:
    decomposed = unicodedata.normalize("NFD", "Công ty Cổ phần Đầu tư 3A & Cộng sự")
    assert normalize_organisation_name(f"  {decomposed}\u00a0 ") == "Công ty Cổ phần Đầu tư 3A & Cộng sự"
    assert normalize_organisation_name("AB") == "AB"


@pytest.mark.parametrize("raw", ["", "   ", "A", "x" * 201, "x" * 5000, "Sen\tVàng", "Sen\u200bVàng",
                                 "Sen\ud800Vàng", "Sen\ue000Vàng"])
def test_names_refused(raw: str) -> None:
    assert code_of(normalize_organisation_name, raw) == "organisation.name"


@pytest.mark.parametrize(("typed", "value", "kind"), [
    ("0100233488", "0100233488", "enterprise"),
    ("01-00233488", "0100233488", "enterprise"),
    ("0100.233.488", "0100233488", "enterprise"),
    ("0314409058002", "0314409058-002", "dependent_unit"),
    ("0314409058 – 002", "0314409058-002", "dependent_unit"),
    ("001 099 012 345", "001099012345", "household"),
])
def test_typed_tax_codes(typed: str, value: str, kind: str) -> None:
    parsed = parse_typed_tax_code(typed)
    assert (parsed.value, parsed.kind.value) == (value, kind)


@pytest.mark.parametrize(("typed", "code"), [
    ("0100233480", "tax_code.checksum"), ("abc", "tax_code.format"), ("-", "tax_code.format"),
    ("1" * 65, "tax_code.format"), ("0100233488-000", "tax_code.suffix"),
])
def test_typed_tax_codes_refused(typed: str, code: str) -> None:
    assert code_of(parse_typed_tax_code, typed) == code


def test_member_id_numbers_are_adults() -> None:
    assert check_member_national_id("001 088 004 321", today=TODAY) == "001088004321"
    assert code_of(check_member_national_id, "001215000000", today=TODAY) == "member.national_id_age"
    assert code_of(check_member_national_id, "001020000000", today=TODAY) == "member.national_id_age"  # born 1920
    assert code_of(check_member_national_id, "999088004321", today=TODAY) == "national_id.unknown_prefix"


def test_days() -> None:
    assert parse_day("") is None and parse_day("  ") is None
    assert parse_day("05/01/2027") == date(2027, 1, 5) == parse_day("2027-01-05")
    for bad in ("31/02/2027", "5/1/27", "١٢/٠١/٢٠٢٧", "x" * 40, "2027-13-01"):
        assert code_of(parse_day, bad) == "member.date"


def test_validity() -> None:
    check_validity(None, None, today=TODAY)
    check_validity(date(2020, 1, 1), TODAY, today=TODAY)  # both days inclusive
    check_validity(None, date(2036, 3, 15), today=TODAY)
    assert code_of(check_validity, TODAY, date(2026, 3, 14), today=TODAY) == "member.until_before_from"
    assert code_of(check_validity, None, date(2026, 3, 14), today=TODAY) == "member.until_past"
    assert code_of(check_validity, None, date(2036, 3, 16), today=TODAY) == "member.too_far"
    assert code_of(check_validity, date(2036, 3, 16), None, today=TODAY) == "member.too_far"
    check_validity(None, date(2034, 2, 28), today=date(2024, 2, 29))  # 29 February


def test_mask_keeps_the_last_three_digits() -> None:
    assert mask_national_id("001088004321") == "•••••••••321"
