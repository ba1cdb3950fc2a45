"""The rules of an organisation's counter check: the certificate, the representative's card
(the citizens' rule) and the representative's authority."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from idp.domain import document_check
from idp.domain.business_check import (
    BusinessCheck,
    business_check_problems,
    clean_certificate_number,
    clean_reference,
)
from idp.domain.document_check import DocumentCheck
from idp.models import DocumentType, RepresentativeAuthority

TODAY = date(2026, 3, 1)
NATIONAL_ID = "001099012345"
BIRTHDATE = date(1999, 5, 17)
CARD = DocumentCheck(document_type="can_cuoc", document_number=NATIONAL_ID,
                     issued_on=date(2024, 7, 15), expires_on=date(2039, 5, 17), name_match=True,
                     birthdate_match=True, sex_match=True, photo_match=True)
GOOD = BusinessCheck(certificate_number="0100233488", certificate_issued_on=date(2015, 3, 2),
                     certificate_match=True, document=CARD, authority="legal_representative")
WITH_POA = replace(GOOD, authority="power_of_attorney", power_of_attorney_ref="15/2025/UQ",
                   power_of_attorney_date=date(2025, 1, 10))


def codes(check: BusinessCheck, **kwargs: Any) -> list[str]:
    return [p.code for p in business_check_problems(
        check, representative_national_id=NATIONAL_ID, representative_birthdate=BIRTHDATE,
        today=TODAY, **kwargs)]


def test_a_good_check_has_no_problem_with_either_authority():
    assert codes(GOOD) == []
    assert codes(WITH_POA) == []
    assert codes(WITH_POA, requires_power_of_attorney=True) == []


def test_the_domain_lists_match_the_model_enums():
    assert document_check.DOCUMENT_TYPES == {t.value for t in DocumentType}
    assert {"legal_representative", "power_of_attorney"} == {a.value for a in RepresentativeAuthority}


@pytest.mark.parametrize(("number", "problem"), [
    ("", "certificate.number_missing"),
    ("0" * 33, "certificate.number_format"),
    ("0100233488;DROP", "certificate.number_format"),
    ("01A8\u00e9", "certificate.number_format"),
    ("0100\u202e233488", "certificate.number_format"),  # a bidi override (format character)
    ("0100233488\u200b", "certificate.number_format"),  # zero-width space
])
def test_certificate_number(number, problem):
    assert codes(replace(GOOD, certificate_number=number)) == [problem]


@pytest.mark.parametrize("number", ["0100233488", "0314409058-002", "01A8012345", "41.A8/012345", "0" * 32])
def test_certificate_numbers_as_printed_are_accepted(number):
    assert codes(replace(GOOD, certificate_number=number)) == []


def test_certificate_numbers_are_cleaned_as_typed():
    assert clean_certificate_number(" 01a8 012 345 ") == "01A8012345"
    assert clean_certificate_number("０１００２３３４８８") == "0100233488"  # full-width digits
    assert clean_certificate_number(None) == ""


def test_certificate_date_and_match():
    assert codes(replace(GOOD, certificate_issued_on=date(2026, 3, 2))) == ["certificate.issued_future"]
    assert codes(replace(GOOD, certificate_issued_on=TODAY)) == []
    assert codes(replace(GOOD, certificate_match=False)) == ["certificate.mismatch"]


def test_the_card_is_checked_as_a_citizens_against_the_representative():
    card = replace(CARD, document_number="001099012346", expires_on=date(2025, 1, 1),
                   issued_on=date(2015, 1, 1), photo_match=False)
    assert codes(replace(GOOD, document=card)) == [
        "document.number_mismatch", "document.expired", "document.mismatch"]
    assert codes(replace(GOOD, document=replace(CARD, document_type="cmnd"))) == ["document.type"]


@pytest.mark.parametrize("item", ["name_match", "birthdate_match", "sex_match", "photo_match"])
def test_person_match_needs_all_four_items(item):
    check = replace(GOOD, document=replace(CARD, **{item: False}))
    assert check.person_match is False and GOOD.person_match is True
    assert codes(check) == ["document.mismatch"]


def test_every_problem_is_listed_in_order():
    check = replace(WITH_POA, certificate_number="", certificate_match=False,
                    document=replace(CARD, document_number="1"), power_of_attorney_ref=None,
                    power_of_attorney_date=date(2027, 1, 1))
    assert codes(check) == ["certificate.number_missing", "certificate.mismatch",
                            "document.number_mismatch", "power_of_attorney.reference_missing",
                            "power_of_attorney.date_future"]


@pytest.mark.parametrize(("changes", "problems"), [
    ({"power_of_attorney_ref": None}, ["power_of_attorney.reference_missing"]),
    ({"power_of_attorney_ref": "x" * 65}, ["power_of_attorney.reference_format"]),
    ({"power_of_attorney_ref": "15/UQ\x00"}, ["power_of_attorney.reference_format"]),
    ({"power_of_attorney_ref": "\u202e15/UQ"}, ["power_of_attorney.reference_format"]),
    ({"power_of_attorney_ref": "15/\u200dUQ"}, ["power_of_attorney.reference_format"]),
    ({"power_of_attorney_ref": "15/UQ\ue000"}, ["power_of_attorney.reference_format"]),
    ({"power_of_attorney_date": None}, ["power_of_attorney.date_missing"]),
    ({"power_of_attorney_date": date(2026, 3, 2)}, ["power_of_attorney.date_future"]),
    ({"power_of_attorney_date": date(2015, 3, 1)}, ["power_of_attorney.date_before_certificate"]),
    ({"power_of_attorney_ref": None, "power_of_attorney_date": None},
     ["power_of_attorney.reference_missing", "power_of_attorney.date_missing"]),
])
def test_a_power_of_attorney_needs_its_reference_and_date(changes, problems):
    assert codes(replace(WITH_POA, **changes)) == problems


def test_power_of_attorney_boundaries():
    assert codes(replace(WITH_POA, power_of_attorney_ref="x" * 64)) == []
    assert codes(replace(WITH_POA, power_of_attorney_date=date(2015, 3, 2))) == []
    assert codes(replace(WITH_POA, power_of_attorney_date=TODAY)) == []


def test_the_legal_representative_shows_no_power_of_attorney():
    assert codes(replace(GOOD, power_of_attorney_ref="15/UQ")) == ["power_of_attorney.unexpected"]
    assert codes(replace(GOOD, power_of_attorney_date=date(2025, 1, 1))) == ["power_of_attorney.unexpected"]


def test_an_authorised_registrant_must_show_a_power_of_attorney():
    assert codes(GOOD, requires_power_of_attorney=True) == ["authority.power_of_attorney_required"]


def test_an_unknown_authority_is_one_problem():
    assert codes(replace(GOOD, authority="")) == ["authority.invalid"]
    assert codes(replace(WITH_POA, authority="owner")) == ["authority.invalid"]


def test_references_are_normalised():
    decomposed = "Gi\u1ea5y u\u0309y quy\u00ea\u0300n  s\u1ed1 15"
    assert clean_reference(f"  {decomposed} ") == "Giấy ủy quyền số 15"
    assert clean_reference(None) == ""
