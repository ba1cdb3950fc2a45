"""Tax code rules (docs/architecture.md §13)."""

from __future__ import annotations

import dataclasses

import pytest
from stdnum.vn import mst

from idp.domain.errors import DomainError
from idp.domain.tax_code import TaxCode, TaxCodeKind, check_digit, parse_tax_code

ENTERPRISE, DEPENDENT, HOUSEHOLD = (
    TaxCodeKind.ENTERPRISE,
    TaxCodeKind.DEPENDENT_UNIT,
    TaxCodeKind.HOUSEHOLD,
)
FULLWIDTH = {ord("0") + i: 0xFF10 + i for i in range(10)}


def error_code(raw: str) -> str:
    with pytest.raises(DomainError) as info:
        parse_tax_code(raw)
    return info.value.code


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("0100233488", "0100233488", ENTERPRISE),
        (" 0100 233 488 ", "0100233488", ENTERPRISE),
        ("0100233488".translate(FULLWIDTH), "0100233488", ENTERPRISE),  # NFKC
        ("0314409058", "0314409058", ENTERPRISE),
        ("0314409058-002", "0314409058-002", DEPENDENT),
        ("0314409058002", "0314409058-002", DEPENDENT),  # 13-digit form
        ("0314409058 - 002", "0314409058-002", DEPENDENT),
        ("0314409058-999", "0314409058-999", DEPENDENT),
        ("0314409058-001", "0314409058-001", DEPENDENT),
        ("001099012345", "001099012345", HOUSEHOLD),
        ("079203001234", "079203001234", HOUSEHOLD),
    ],
)
def test_valid(raw: str, value: str, kind: TaxCodeKind) -> None:
    assert parse_tax_code(raw) == TaxCode(value=value, kind=kind)


def test_check_digit_of_design_example() -> None:
    # 0*31 + 1*29 + 0*23 + 0*19 + 2*17 + 3*13 + 3*7 + 4*5 + 8*3 = 167; 167 % 11 = 2
    assert check_digit("010023348") == 8


@pytest.mark.parametrize(
    "raw",
    [
        "0100233480",  # invalid example of docs/architecture.md §13
        "0100233487",
        "0100233489",
        "0110000010",  # weighted sum is a multiple of 11: no valid check digit
        "0110000019",
        "0100233480-002",  # parent checksum is checked for a dependent unit
        "0100233480002",
    ],
)
def test_checksum(raw: str) -> None:
    assert error_code(raw) == "tax_code.checksum"


def test_remainder_zero_has_no_check_digit() -> None:
    assert check_digit("011000001") is None


@pytest.mark.parametrize("raw", ["0000000000", "0100000003", "9900000000-001"])
def test_sequence_all_zero(raw: str) -> None:
    # 0100000003 passes the weighted check; only the zero sequence rejects it.
    assert error_code(raw) == "tax_code.sequence"


@pytest.mark.parametrize("raw", ["0314409058-000", "0314409058000"])
def test_suffix(raw: str) -> None:
    assert error_code(raw) == "tax_code.suffix"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "12345",
        "010023348",  # 9 digits
        "01002334888",  # 11 digits
        "0314409058-02",
        "0314409058-0002",
        "0314409058--002",
        "0314409058/002",
        "03144090580021",  # 14 digits
        "031440905A",
        "0100.233.488",  # only spaces are stripped
        "0" * 65,
    ],
)
def test_format(raw: str) -> None:
    assert error_code(raw) == "tax_code.format"


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        ("003099012345", "national_id.unknown_prefix"),
        ("001699012345", "national_id.century"),
    ],
)
def test_household_wraps_national_id_error(raw: str, cause: str) -> None:
    with pytest.raises(DomainError) as info:
        parse_tax_code(raw)
    assert info.value.code == "tax_code.household"
    assert isinstance(info.value.__cause__, DomainError)
    assert info.value.__cause__.code == cause


def test_tax_code_is_frozen() -> None:
    code = parse_tax_code("0100233488")
    with pytest.raises(dataclasses.FrozenInstanceError):
        code.value = "0314409058"  # type: ignore[misc]


def test_agrees_with_python_stdnum() -> None:
    # python-stdnum implements the same 10-digit rule; compare every check digit
    # over a range of sequences, including the remainder-zero cases.
    for n in range(1_000_000, 1_003_000):
        base = f"01{n:07d}"[:9]
        for last in "0123456789":
            number = base + last
            try:
                parse_tax_code(number)
                ours = True
            except DomainError:
                ours = False
            assert ours is mst.is_valid(number), number
