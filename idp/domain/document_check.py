"""What a clerk records about the physical ID document at the counter (docs/architecture.md §8), and the
verified postal address. Pure rules: the services decide what to do with the problems found.

A check can be *submitted* for approval only if it has no problem; a problem means the clerk
must reject with a reason code (an expired card is a rejection, docs/architecture.md §8).
"""

from __future__ import annotations

import datetime
import unicodedata
from dataclasses import dataclass
from typing import Any

from idp.domain.admin_units import PROVINCES
from idp.domain.errors import N_, DomainError

MAX_STREET = 200
MAX_WARD = 100

# The documents that carry the personal ID number (idp.models.DocumentType values).
DOCUMENT_TYPES = frozenset({"can_cuoc", "cccd", "passport"})

MSG_DOCUMENT_TYPE = N_("Choose the type of document.")
MSG_NUMBER_MISMATCH = N_("The number on the document is not the ID number the citizen declared.")
MSG_DOCUMENT_EXPIRED = N_("The document has expired: reject the check with the reason "
                          "“document expired”.")
MSG_ISSUED_FUTURE = N_("The issue date cannot be in the future.")
MSG_ISSUED_BEFORE_BIRTH = N_("The issue date cannot be before the date of birth.")
MSG_EXPIRY_BEFORE_ISSUE = N_("The expiry date cannot be before the issue date.")
MSG_MISMATCH = N_("Every item must match the document to submit; otherwise reject the check.")
MSG_PROVINCE = N_("Choose the province or city.")
MSG_WARD = N_("Enter the ward or commune.")
MSG_STREET = N_("Enter the house number and street.")
MSG_TOO_LONG = N_("This is too long.")
MSG_CHARACTERS = N_("Remove the special characters from the address.")


@dataclass(frozen=True)
class PostalAddress:
    """A Vietnamese postal address in the two-tier structure (province -> ward/commune)."""

    street: str  # house number, street, hamlet (NFC)
    ward: str  # phường / xã / đặc khu (NFC)
    province_code: str  # one of idp.domain.admin_units.PROVINCES

    def to_json(self) -> dict[str, Any]:
        return {"street": self.street, "ward": self.ward, "province_code": self.province_code}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PostalAddress:
        return cls(street=data["street"], ward=data["ward"], province_code=data["province_code"])

    def oidc_claim(self) -> dict[str, str]:
        """OIDC Core §5.1.1 address members; `locality` is the ward, `region` the province."""
        region = PROVINCES[self.province_code]
        return {
            "formatted": f"{self.street}, {self.ward}, {region}",
            "street_address": self.street,
            "locality": self.ward,
            "region": region,
            "country": "VN",
        }


# Cc control, Cf format (zero-width, bidi overrides such as U+202E that make text read
# differently on screen than it is stored), Cs lone surrogates, Co private use, Cn unassigned:
# none belongs in an address, a name or a document reference.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


def has_hidden_characters(text: str) -> bool:
    return any(unicodedata.category(ch) in HIDDEN_CATEGORIES for ch in text)


def _clean(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text or "").split())


def address_problems(street: str, ward: str, province_code: str) -> list[DomainError]:
    """Every part of the address a rule refuses, at most one each (ward, street, province), so
    a form can show them all at once; codes as for check_address."""
    street, ward = _clean(street), _clean(ward)
    problems = []
    # Control characters and lone surrogates would end up in portals' address claims.
    if has_hidden_characters(ward):
        problems.append(DomainError("address.ward", MSG_CHARACTERS))
    elif not ward:
        problems.append(DomainError("address.ward", MSG_WARD))
    elif len(ward) > MAX_WARD:
        problems.append(DomainError("address.ward", MSG_TOO_LONG))
    if has_hidden_characters(street):
        problems.append(DomainError("address.street", MSG_CHARACTERS))
    elif not street:
        problems.append(DomainError("address.street", MSG_STREET))
    elif len(street) > MAX_STREET:
        problems.append(DomainError("address.street", MSG_TOO_LONG))
    if province_code not in PROVINCES:
        problems.append(DomainError("address.province", MSG_PROVINCE))
    return problems


def check_address(street: str, ward: str, province_code: str) -> PostalAddress:
    """Normalised address (NFC, single spaces) or DomainError with a field-specific code: the
    first of address_problems, hidden characters before a missing province."""
    problems = address_problems(street, ward, province_code)
    hidden = [p for p in problems if p.message == MSG_CHARACTERS]
    if problems:
        raise (hidden or [p for p in problems if p.code == "address.province"] or problems)[0]
    return PostalAddress(street=_clean(street), ward=_clean(ward), province_code=province_code)


@dataclass(frozen=True)
class DocumentCheck:
    document_type: str  # idp.models.DocumentType value
    document_number: str  # digits, as read off the card
    issued_on: datetime.date
    expires_on: datetime.date | None  # None: valid for life (cards issued after age 60)
    name_match: bool
    birthdate_match: bool
    sex_match: bool
    photo_match: bool
    address: PostalAddress | None = None


def check_problems(check: DocumentCheck, *, declared_national_id: str,
                   birthdate: datetime.date, today: datetime.date) -> list[DomainError]:
    """Every reason this check cannot be submitted (empty list: it can). Codes are stable:
    document.type, document.number_mismatch, document.expired, document.issued_future,
    document.issued_before_birth, document.expiry_before_issue, document.mismatch."""
    problems = []
    if check.document_type not in DOCUMENT_TYPES:
        problems.append(DomainError("document.type", MSG_DOCUMENT_TYPE))
    if check.document_number != declared_national_id:
        problems.append(DomainError("document.number_mismatch", MSG_NUMBER_MISMATCH))
    if check.issued_on > today:
        problems.append(DomainError("document.issued_future", MSG_ISSUED_FUTURE))
    elif check.issued_on < birthdate:
        problems.append(DomainError("document.issued_before_birth", MSG_ISSUED_BEFORE_BIRTH))
    if check.expires_on is not None:
        if check.expires_on < check.issued_on:
            problems.append(DomainError("document.expiry_before_issue", MSG_EXPIRY_BEFORE_ISSUE))
        elif check.expires_on < today:
            problems.append(DomainError("document.expired", MSG_DOCUMENT_EXPIRED))
    if not (check.name_match and check.birthdate_match and check.sex_match and check.photo_match):
        problems.append(DomainError("document.mismatch", MSG_MISMATCH))
    return problems
