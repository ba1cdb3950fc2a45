"""What a clerk records about an organisation at the counter (docs/architecture.md §8, business accounts):
the business registration certificate, the representative's ID card, and why the person at
the counter may act for the organisation. Pure rules: the services decide what to do with the
problems found.

The person at the counter is always the representative who registered online, so their card
is checked against their own account with the citizens' rule (idp.domain.document_check).
If they are not the legal representative named on the certificate, they show a power of
attorney (giấy ủy quyền) signed by the legal representative, whose reference and date are
recorded.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from idp.domain.document_check import DocumentCheck, check_problems, has_hidden_characters
from idp.domain.errors import N_, DomainError

MAX_CERTIFICATE_NUMBER = 32
MAX_POWER_OF_ATTORNEY_REF = 64
LEGAL_REPRESENTATIVE = "legal_representative"  # idp.models.RepresentativeAuthority values
POWER_OF_ATTORNEY = "power_of_attorney"
AUTHORITIES = frozenset({LEGAL_REPRESENTATIVE, POWER_OF_ATTORNEY})
# Certificate numbers are the enterprise code (= tax code, with "-" for a branch) or a
# household business number such as 01A8012345 or 01.A8/012345 as the district printed it.
_CERTIFICATE_NUMBER = re.compile(r"[A-Z0-9./-]+")

MSG_CERTIFICATE_MISSING = N_("Type the number of the business registration certificate.")
MSG_CERTIFICATE_FORMAT = N_("The certificate number has at most 32 letters, digits, dots, "
                            "dashes or slashes.")
MSG_CERTIFICATE_FUTURE = N_("The certificate's date of issue cannot be in the future.")
MSG_CERTIFICATE_MISMATCH = N_("The tax code, name and head office on the certificate must be "
                              "those registered online to submit; otherwise reject the check.")
MSG_AUTHORITY = N_("Say whether the representative is named on the certificate or holds a "
                   "power of attorney.")
MSG_AUTHORITY_REQUIRED = N_("The representative registered as an authorised person: they "
                            "must show a power of attorney.")
MSG_POA_REF_MISSING = N_("Type the reference (number) of the power of attorney.")
MSG_POA_REF_FORMAT = N_("The reference of the power of attorney has at most 64 characters, "
                        "without special characters.")
MSG_POA_DATE_MISSING = N_("Enter the date of the power of attorney.")
MSG_POA_DATE_FUTURE = N_("The date of the power of attorney cannot be in the future.")
MSG_POA_DATE_BEFORE = N_("The power of attorney cannot be dated before the certificate.")
MSG_POA_UNEXPECTED = N_("Leave the power of attorney empty for the legal representative named "
                        "on the certificate.")


def clean_certificate_number(raw: str | None) -> str:
    """The number as printed, without spaces, in capitals (full-width characters folded)."""
    return "".join(unicodedata.normalize("NFKC", raw or "").split()).upper()


def clean_reference(raw: str | None) -> str:
    """A power of attorney's reference (số giấy ủy quyền): NFC, single spaces."""
    return " ".join(unicodedata.normalize("NFC", raw or "").split())


@dataclass(frozen=True)
class BusinessCheck:
    certificate_number: str  # cleaned (clean_certificate_number)
    certificate_issued_on: datetime.date
    certificate_match: bool  # tax code, name and head office are those registered online
    document: DocumentCheck  # the representative's ID card; its address is not used
    authority: str  # LEGAL_REPRESENTATIVE or POWER_OF_ATTORNEY
    power_of_attorney_ref: str | None = None  # cleaned (clean_reference); only with a POA
    power_of_attorney_date: datetime.date | None = None

    @property
    def person_match(self) -> bool:
        """Name, date of birth, sex and photo on the card are the representative's."""
        d = self.document
        return d.name_match and d.birthdate_match and d.sex_match and d.photo_match


def _certificate_problems(check: BusinessCheck, today: datetime.date) -> list[DomainError]:
    problems = []
    number = check.certificate_number
    if not number:
        problems.append(DomainError("certificate.number_missing", MSG_CERTIFICATE_MISSING))
    elif (len(number) > MAX_CERTIFICATE_NUMBER or has_hidden_characters(number)
          or not _CERTIFICATE_NUMBER.fullmatch(number)):
        problems.append(DomainError("certificate.number_format", MSG_CERTIFICATE_FORMAT))
    if check.certificate_issued_on > today:
        problems.append(DomainError("certificate.issued_future", MSG_CERTIFICATE_FUTURE))
    if not check.certificate_match:
        problems.append(DomainError("certificate.mismatch", MSG_CERTIFICATE_MISMATCH))
    return problems


def _authority_problems(check: BusinessCheck, today: datetime.date, *,
                        requires_power_of_attorney: bool) -> list[DomainError]:
    ref, when = check.power_of_attorney_ref, check.power_of_attorney_date
    if check.authority not in AUTHORITIES:
        return [DomainError("authority.invalid", MSG_AUTHORITY)]
    if check.authority == LEGAL_REPRESENTATIVE:
        problems = []
        if requires_power_of_attorney:
            problems.append(DomainError("authority.power_of_attorney_required",
                                        MSG_AUTHORITY_REQUIRED))
        if ref or when is not None:
            problems.append(DomainError("power_of_attorney.unexpected", MSG_POA_UNEXPECTED))
        return problems
    problems = []
    if not ref:
        problems.append(DomainError("power_of_attorney.reference_missing", MSG_POA_REF_MISSING))
    elif len(ref) > MAX_POWER_OF_ATTORNEY_REF or has_hidden_characters(ref):
        problems.append(DomainError("power_of_attorney.reference_format", MSG_POA_REF_FORMAT))
    if when is None:
        problems.append(DomainError("power_of_attorney.date_missing", MSG_POA_DATE_MISSING))
    elif when > today:
        problems.append(DomainError("power_of_attorney.date_future", MSG_POA_DATE_FUTURE))
    elif when < check.certificate_issued_on:
        # Only the legal representative of a registered organisation can authorise anyone.
        problems.append(DomainError("power_of_attorney.date_before_certificate",
                                    MSG_POA_DATE_BEFORE))
    return problems


def business_check_problems(check: BusinessCheck, *, representative_national_id: str,
                            representative_birthdate: datetime.date, today: datetime.date,
                            requires_power_of_attorney: bool = False) -> list[DomainError]:
    """Every reason this check cannot be submitted (empty list: it can), certificate first,
    then the card, then the authority. `requires_power_of_attorney`: the representative
    registered online as an authorised person (not named on the certificate).

    Codes are stable: certificate.number_missing, certificate.number_format,
    certificate.issued_future, certificate.mismatch; the codes of
    idp.domain.document_check.check_problems; authority.invalid,
    authority.power_of_attorney_required, power_of_attorney.unexpected,
    power_of_attorney.reference_missing, power_of_attorney.reference_format,
    power_of_attorney.date_missing, power_of_attorney.date_future,
    power_of_attorney.date_before_certificate."""
    problems = _certificate_problems(check, today)
    problems += check_problems(check.document, declared_national_id=representative_national_id,
                               birthdate=representative_birthdate, today=today)
    problems += _authority_problems(check, today,
                                    requires_power_of_attorney=requires_power_of_attorney)
    return problems
