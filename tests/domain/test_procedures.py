"""Procedure codes: the closed set, validation, duplicates and order."""

from __future__ import annotations

import pytest

from idp.domain.errors import DomainError
from idp.domain.procedures import PORTAL_KINDS, Procedure, UnknownProcedure, parse_procedures


def test_the_codes_are_stable() -> None:
    # Stored with mandates and portal settings: renaming one would orphan stored rows.
    assert [p.value for p in Procedure] == [
        "social_insurance", "land_housing", "business_registration", "justice_records",
        "civil_status", "health_insurance", "any_delegating_portal",
    ]
    assert Procedure.ANY_DELEGATING_PORTAL not in PORTAL_KINDS
    assert len(PORTAL_KINDS) == 6


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], ()),
        (["civil_status"], (Procedure.CIVIL_STATUS,)),
        (["land_housing", "social_insurance"], (Procedure.LAND_HOUSING, Procedure.SOCIAL_INSURANCE)),
        (["justice_records", "civil_status", "justice_records"],
         (Procedure.JUSTICE_RECORDS, Procedure.CIVIL_STATUS)),
        (["health_insurance"] * 3, (Procedure.HEALTH_INSURANCE,)),
        (["any_delegating_portal", "business_registration"],
         (Procedure.ANY_DELEGATING_PORTAL, Procedure.BUSINESS_REGISTRATION)),
        (iter(["civil_status", "land_housing"]), (Procedure.CIVIL_STATUS, Procedure.LAND_HOUSING)),
    ],
)
def test_parse_procedures(codes: list[str], expected: tuple[Procedure, ...]) -> None:
    assert parse_procedures(codes) == expected


@pytest.mark.parametrize(
    ("codes", "unknown"),
    [
        (["tax"], "tax"),
        (["civil_status", "Civil_Status"], "Civil_Status"),
        (["social_insurance", " land_housing"], " land_housing"),
        (["", "civil_status"], ""),
        (["civil_status", "bogus", "other"], "bogus"),
        (["x" * 1000], "x" * 64),
    ],
)
def test_unknown_code_is_named(codes: list[str], unknown: str) -> None:
    with pytest.raises(UnknownProcedure) as info:
        parse_procedures(codes)
    assert info.value.code == "procedures.unknown"
    assert info.value.unknown == unknown
    # The message is one translatable sentence: it never echoes the input.
    assert unknown not in info.value.message or unknown == ""
    assert isinstance(info.value, DomainError)


def test_a_portal_cannot_declare_the_special_scope() -> None:
    assert parse_procedures(["civil_status"], allow_any=False) == (Procedure.CIVIL_STATUS,)
    with pytest.raises(DomainError) as info:
        parse_procedures(["civil_status", "any_delegating_portal"], allow_any=False)
    assert info.value.code == "procedures.any_not_a_kind"
