"""What the clerk types for a child's registration under a guardian (docs/architecture.md §14):
the child's details from the birth certificate and the certificate itself, and every problem
with them for one round of form errors. Nothing here reads or writes the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from idp.domain import guardianship as rules
from idp.domain import names
from idp.domain.errors import N_, DomainError
from idp.domain.gender import parse_gender
from idp.domain.national_id import decode_national_id
from idp.errors import InvalidInput
from idp.services.platform.clock import today_in_vietnam

MAX_CERTIFICATE_NUMBER = 32

MSG_CERTIFICATE_NUMBER = N_("Type the number of the birth certificate (up to 32 characters).")
MSG_CERTIFICATE_DATE = N_("The birth certificate cannot be issued before the birth or in the "
                          "future.")
MSG_CERTIFICATE_MISMATCH = N_("Register the child only if the birth certificate shows the "
                              "details typed above and names this parent.")


@dataclass(frozen=True)
class ChildDetails:
    national_id: str
    full_name: str
    birthdate: date | None  # None: the form could not read it (its field has the error)
    gender: str


@dataclass(frozen=True)
class BirthCertificate:
    number: str
    issued_on: date | None
    matches: bool  # the certificate shows the typed data and names this parent


def child_errors(child: ChildDetails, certificate: BirthCertificate, *,
                 today: date | None = None) -> list[InvalidInput]:
    """Every problem with the typed data, for one round of form errors."""
    today = today or today_in_vietnam()
    errors: list[InvalidInput] = []
    try:
        names.normalize_name(child.full_name)
    except DomainError as exc:
        errors.append(InvalidInput.from_domain(exc, "full_name"))
    gender = None
    try:
        gender = parse_gender(child.gender)
    except DomainError as exc:
        errors.append(InvalidInput.from_domain(exc, "gender"))
    if child.birthdate is None or gender is None:
        try:
            decode_national_id(child.national_id)
        except DomainError as exc:
            errors.append(InvalidInput.from_domain(exc, "national_id"))
    else:
        try:
            rules.check_child_registration(child.national_id, birth_date=child.birthdate,
                                           gender=gender, today=today)
        except DomainError as exc:
            field = "birthdate" if exc.code.startswith(("birthdate.", "guardianship.")) \
                else "national_id"
            errors.append(InvalidInput.from_domain(exc, field))
    number = certificate.number.strip()
    if not number or len(number) > MAX_CERTIFICATE_NUMBER or not number.isprintable():
        errors.append(InvalidInput("certificate.number", MSG_CERTIFICATE_NUMBER,
                                   field="certificate_number"))
    issued = certificate.issued_on
    if issued is not None and (issued > today or (child.birthdate and issued < child.birthdate)):
        errors.append(InvalidInput("certificate.issued_on", MSG_CERTIFICATE_DATE,
                                   field="certificate_issued_on"))
    if not certificate.matches:
        errors.append(InvalidInput("certificate.mismatch", MSG_CERTIFICATE_MISMATCH,
                                   field="certificate_matches"))
    return errors
