"""Personal ID number rules (Decree 137/2015 art. 7, docs/architecture.md §13)."""

from __future__ import annotations

import copy
import datetime
import unicodedata

import pytest

from idp.domain.errors import DomainError
from idp.domain.gender import Gender
from idp.domain.national_id import (
    MSG_LEGACY_CMND,
    NationalIdFacts,
    check_national_id,
    decode_national_id,
    normalize_national_id,
)
from idp.domain.provinces import (
    ABROAD_PREFIXES,
    ID_PREFIXES,
    is_abroad_prefix,
    is_known_prefix,
    prefix_region,
)

TODAY = datetime.date(2025, 6, 1)
MALE, FEMALE = Gender.MALE, Gender.FEMALE
FULLWIDTH = {ord("0") + i: 0xFF10 + i for i in range(10)}
ARABIC_INDIC = {ord("0") + i: 0x0660 + i for i in range(10)}


def check(number: str, birthdate: datetime.date, gender: Gender) -> str:
    return check_national_id(number, birthdate=birthdate, gender=gender, today=TODAY)


def error_code(number: str, birthdate: datetime.date, gender: Gender) -> str:
    with pytest.raises(DomainError) as info:
        check(number, birthdate, gender)
    return info.value.code


# --- the examples from the brief -------------------------------------------------


@pytest.mark.parametrize(
    ("number", "birthdate", "gender"),
    [
        ("001099012345", datetime.date(1999, 5, 17), MALE),
        ("001199012345", datetime.date(1999, 5, 17), FEMALE),
        ("079203001234", datetime.date(2003, 1, 1), MALE),
        ("079303001234", datetime.date(2003, 12, 31), FEMALE),
    ],
)
def test_valid_examples(number: str, birthdate: datetime.date, gender: Gender) -> None:
    assert check(number, birthdate, gender) == number


def test_decode_hcmc_example() -> None:
    assert decode_national_id("079203001234") == NationalIdFacts(
        number="079203001234",
        prefix="079",
        region="TP Hồ Chí Minh",
        abroad=False,
        gender=MALE,
        birth_year=2003,
    )


# --- province table ---------------------------------------------------------------


def test_prefix_table_has_63_provinces() -> None:
    assert len(ID_PREFIXES) == 63
    assert all(len(p) == 3 and p.isdigit() and p.startswith("0") for p in ID_PREFIXES)


def test_prefix_names_are_nfc() -> None:
    for name in ID_PREFIXES.values():
        assert unicodedata.is_normalized("NFC", name), name


@pytest.mark.parametrize(
    ("prefix", "name"),
    [
        ("001", "Hà Nội"),
        ("017", "Hòa Bình"),
        ("048", "Đà Nẵng"),
        ("079", "TP Hồ Chí Minh"),
        ("077", "Bà Rịa - Vũng Tàu"),
        ("096", "Cà Mau"),
    ],
)
def test_prefix_names(prefix: str, name: str) -> None:
    assert prefix_region(prefix) == name


@pytest.mark.parametrize("prefix", sorted(ID_PREFIXES))
def test_every_province_prefix_decodes(prefix: str) -> None:
    number = f"{prefix}085000001"
    facts = decode_national_id(number)
    assert (facts.prefix, facts.region, facts.abroad) == (prefix, ID_PREFIXES[prefix], False)
    assert check(number, datetime.date(1985, 3, 4), MALE) == number


@pytest.mark.parametrize("prefix", ["100", "150", "299"])
def test_abroad_prefix(prefix: str) -> None:
    facts = decode_national_id(f"{prefix}300000001")
    assert (facts.region, facts.abroad, facts.gender, facts.birth_year) == (
        None,
        True,
        FEMALE,
        2000,
    )
    assert is_abroad_prefix(prefix)
    assert is_known_prefix(prefix)
    assert prefix_region(prefix) is None


def test_abroad_range_is_100_to_299() -> None:
    assert len(ABROAD_PREFIXES) == 200
    assert min(ABROAD_PREFIXES) == "100"
    assert max(ABROAD_PREFIXES) == "299"


@pytest.mark.parametrize("prefix", ["000", "003", "005", "097", "099", "300", "999"])
def test_unknown_prefix(prefix: str) -> None:
    assert not is_known_prefix(prefix)
    assert error_code(f"{prefix}099012345", datetime.date(1999, 1, 1), MALE) == (
        "national_id.unknown_prefix"
    )


# --- normalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "001099012345",
        " 001099012345 ",
        "001 099 012 345",
        "001.099.012.345",
        "001-099-012-345",
        "001\u00a0099\u2013012345",  # no-break space and en dash
        "001099012345".translate(FULLWIDTH),  # folded by NFKC
    ],
)
def test_normalize_accepts_separators(raw: str) -> None:
    assert normalize_national_id(raw) == "001099012345"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "   ",
        "00109901234",  # 11 digits
        "0010990123456",  # 13 digits
        "00109901234A",
        "001099012345x",
        "001099012345".translate(ARABIC_INDIC),  # not ASCII digits
        "12345678",  # 8 digits: neither format
        "1" * 65,
        " " * 60 + "001099012345",  # over 64 chars before normalising
    ],
)
def test_normalize_rejects_format(raw: str) -> None:
    with pytest.raises(DomainError) as info:
        normalize_national_id(raw)
    assert info.value.code == "national_id.format"


@pytest.mark.parametrize("raw", ["123456789", "123 456 789", "123.456.789"])
def test_legacy_cmnd_has_its_own_code(raw: str) -> None:
    with pytest.raises(DomainError) as info:
        normalize_national_id(raw)
    assert info.value.code == "national_id.legacy_cmnd"
    assert info.value.message == MSG_LEGACY_CMND
    assert "9-digit" in str(info.value)


# --- century digit (d4) and year (d5-d6) --------------------------------------------


@pytest.mark.parametrize(
    ("d4", "gender", "year"),
    [
        ("0", MALE, 1999),
        ("1", FEMALE, 1999),
        ("2", MALE, 2099),
        ("3", FEMALE, 2099),
        ("4", MALE, 2199),
        ("5", FEMALE, 2199),
    ],
)
def test_century_digit(d4: str, gender: Gender, year: int) -> None:
    facts = decode_national_id(f"001{d4}99012345")
    assert (facts.gender, facts.birth_year) == (gender, year)


@pytest.mark.parametrize("d4", ["6", "7", "8", "9"])
def test_unsupported_century(d4: str) -> None:
    assert error_code(f"001{d4}99012345", datetime.date(1999, 1, 1), MALE) == (
        "national_id.century"
    )


@pytest.mark.parametrize(
    ("number", "birthdate", "expected"),
    [
        ("001099012345", datetime.date(1999, 12, 31), None),
        ("001099012345", datetime.date(2000, 1, 1), "national_id.birth_year_mismatch"),
        ("001200012345", datetime.date(2000, 1, 1), None),
        ("001200012345", datetime.date(1999, 12, 31), "national_id.birth_year_mismatch"),
        ("001000012345", datetime.date(1900, 1, 1), None),
        ("001000012345", datetime.date(2000, 1, 1), "national_id.birth_year_mismatch"),
        ("001299012345", datetime.date(1999, 1, 1), "national_id.birth_year_mismatch"),
        ("001225012345", datetime.date(2025, 6, 1), None),  # born today
    ],
)
def test_birth_year_boundaries(number: str, birthdate: datetime.date, expected: str | None) -> None:
    if expected is None:
        assert check(number, birthdate, MALE) == number
    else:
        assert error_code(number, birthdate, MALE) == expected


@pytest.mark.parametrize(
    ("number", "gender"),
    [("001099012345", FEMALE), ("001199012345", MALE), ("079303001234", MALE)],
)
def test_gender_mismatch(number: str, gender: Gender) -> None:
    birthdate = datetime.date(decode_national_id(number).birth_year, 5, 1)
    assert error_code(number, birthdate, gender) == "national_id.gender_mismatch"


# --- declared birth date ------------------------------------------------------------


@pytest.mark.parametrize(
    ("birthdate", "expected"),
    [
        (datetime.date(2025, 6, 2), "birthdate.future"),
        (datetime.date(2099, 1, 1), "birthdate.future"),
        (datetime.date(1899, 12, 31), "birthdate.too_old"),
        (datetime.date(1850, 1, 1), "birthdate.too_old"),
    ],
)
def test_birthdate_sanity(birthdate: datetime.date, expected: str) -> None:
    assert error_code("001099012345", birthdate, MALE) == expected


def test_today_defaults_to_real_date() -> None:
    tomorrow = datetime.date.today() + datetime.timedelta(days=1)
    with pytest.raises(DomainError) as info:
        check_national_id("001225012345", birthdate=tomorrow, gender=MALE)
    assert info.value.code == "birthdate.future"


def test_check_order_structure_before_birthdate_before_gender() -> None:
    future = datetime.date(2030, 1, 1)
    assert error_code("003099012345", future, FEMALE) == "national_id.unknown_prefix"
    assert error_code("001699012345", future, FEMALE) == "national_id.century"
    assert error_code("001099012345", future, FEMALE) == "birthdate.future"
    # Both sex and year wrong: sex is reported first.
    assert error_code("001099012345", datetime.date(2001, 1, 1), FEMALE) == (
        "national_id.gender_mismatch"
    )


def test_check_returns_normalised_number() -> None:
    assert check("001 099 012 345", datetime.date(1999, 5, 17), MALE) == "001099012345"


def test_domain_error_shape() -> None:
    with pytest.raises(ValueError, match="12-digit") as info:
        normalize_national_id("abc")
    err = info.value
    assert isinstance(err, DomainError)
    assert str(err) == err.message == "Enter the 12-digit personal ID number."
    # Both fields live in ``args``, so copying (and pickling) rebuilds the error.
    clone = copy.copy(err)
    assert (clone.code, clone.message, str(clone)) == (err.code, err.message, err.message)
    assert repr(err) == f"DomainError('national_id.format', {err.message!r})"
