"""Rules for organisations and their members (docs/architecture.md §10, §13). Pure functions: the services
decide what to store and what to audit.

- An organisation's name is kept as on its registration certificate: NFC, single spaces,
  2-200 characters, no control or invisible formatting characters (they would end up in
  portals' `organization` claims and could make two names look alike).
- The representative's title must fit the kind of tax code: a household business
  (12-digit personal ID number as tax code) is registered by its head or by someone they
  authorised, and its head is the person whose ID number *is* the tax code; a dependent
  unit (branch, representative office: 10 + 3 digits) has a unit head.
- A member's validity dates are Vietnamese calendar days, both inclusive.
"""

from __future__ import annotations

import unicodedata
from datetime import date

from idp.domain.document_check import has_hidden_characters
from idp.domain.errors import N_, DomainError
from idp.domain.national_id import SEPARATORS, decode_national_id
from idp.domain.tax_code import MAX_INPUT_LENGTH, TaxCode, TaxCodeKind, parse_tax_code

MIN_NAME = 2
MAX_NAME = 200
MAX_DATE_INPUT = 32
# Acting for an organisation is a civil transaction: full civil capacity starts at 18 (Civil
# Code 2015 art. 20). Without a birth date only the year in the ID number can be checked.
MIN_MEMBER_AGE = 18
MAX_MEMBER_AGE = 100
MAX_YEARS_AHEAD = 10

# The same sentence as idp.domain.tax_code's (one msgid, one translation).
MSG_TAX_CODE_FORMAT = N_("Enter a 10-digit tax code, optionally followed by a dash and 3 digits; for a "
                         "household business, the 12-digit personal ID number of its head.")
MSG_NAME_EMPTY = N_("Enter the name of the organisation.")
MSG_NAME_SHORT = N_("The name of the organisation is too short.")
MSG_NAME_LONG = N_("The name of the organisation can have at most 200 characters.")
MSG_NAME_CHARACTERS = N_("Remove the special characters from the name of the organisation.")
MSG_TITLE = N_("Choose your position in the organisation.")
MSG_HOUSEHOLD_TITLE = N_("A household business is registered by its head or by a person the "
                         "head has authorised.")
MSG_HOUSEHOLD_HEAD_KIND = N_("Only a household business has a household head. Choose another "
                             "position.")
MSG_HOUSEHOLD_NOT_OWN = N_("The tax code of a household business is its head's personal ID "
                           "number. As its head, register it with your own ID number, or choose "
                           "“authorised person”.")
MSG_UNIT_HEAD_KIND = N_("Only a branch or representative office (a tax code with a 3-digit "
                        "suffix) has a unit head. Choose another position.")
MSG_MEMBER_AGE = N_("The birth year in this ID number is not possible for a member of an "
                    "organisation: members must be adults.")
MSG_DATE = N_("Enter the date as dd/mm/yyyy, for example 31/12/2026.")
MSG_UNTIL_BEFORE_FROM = N_("The last valid day cannot be before the first valid day.")
MSG_UNTIL_PAST = N_("The last valid day cannot be in the past.")
MSG_TOO_FAR = N_("Dates can be at most 10 years ahead.")


def normalize_organisation_name(raw: str) -> str:
    """The canonical form of an organisation's name, or DomainError (`organisation.name`)."""
    if len(raw) > 4 * MAX_NAME:  # cheap bound before normalising (decomposed letters are longer)
        raise DomainError("organisation.name", MSG_NAME_LONG)
    text = unicodedata.normalize("NFC", raw)
    if has_hidden_characters(text):
        raise DomainError("organisation.name", MSG_NAME_CHARACTERS)
    name = " ".join("".join(" " if unicodedata.category(ch) == "Zs" else ch for ch in text).split())
    if not name:
        raise DomainError("organisation.name", MSG_NAME_EMPTY)
    if len(name) < MIN_NAME:
        raise DomainError("organisation.name", MSG_NAME_SHORT)
    if len(name) > MAX_NAME:
        raise DomainError("organisation.name", MSG_NAME_LONG)
    return name


def parse_typed_tax_code(raw: str) -> TaxCode:
    """A tax code as people type it: spaces, dots and dashes anywhere are ignored
    ("0100 233 488", "01-00233488"), so one organisation cannot be registered twice by typing
    its code differently; 13 digits are a dependent unit (10 + 3). Codes: those of
    idp.domain.tax_code.parse_tax_code."""
    if len(raw) > MAX_INPUT_LENGTH:
        raise DomainError("tax_code.format", MSG_TAX_CODE_FORMAT)
    # The same separators as in personal ID numbers; parse_tax_code reads 13 digits as a
    # dependent unit and refuses anything but digits.
    return parse_tax_code(SEPARATORS.sub("", unicodedata.normalize("NFKC", raw)))


def check_title(title: str, tax_code: TaxCode, *, own_national_id: str) -> None:
    """The representative's title (a RepresentativeTitle value) fits the kind of tax code.

    Codes: organisation.household_title, organisation.household_head_kind,
    organisation.household_not_own, organisation.unit_head_kind."""
    if tax_code.kind is TaxCodeKind.HOUSEHOLD and title not in ("household_head", "authorised"):
        raise DomainError("organisation.household_title", MSG_HOUSEHOLD_TITLE)
    if title == "household_head":
        if tax_code.kind is not TaxCodeKind.HOUSEHOLD:
            raise DomainError("organisation.household_head_kind", MSG_HOUSEHOLD_HEAD_KIND)
        if tax_code.value != own_national_id:
            raise DomainError("organisation.household_not_own", MSG_HOUSEHOLD_NOT_OWN)
    if title == "unit_head" and tax_code.kind is not TaxCodeKind.DEPENDENT_UNIT:
        raise DomainError("organisation.unit_head_kind", MSG_UNIT_HEAD_KIND)


def check_member_national_id(raw: str, *, today: date) -> str:
    """The 12 digits of an invitee's personal ID number: structure (12 digits, known prefix,
    century digit) and an adult's birth year, as for staff (idp.services.staff.admin). Codes: those
    of idp.domain.national_id, and member.national_id_age."""
    facts = decode_national_id(raw)
    if not today.year - MAX_MEMBER_AGE <= facts.birth_year <= today.year - MIN_MEMBER_AGE:
        raise DomainError("member.national_id_age", MSG_MEMBER_AGE)
    return facts.number


def parse_day(raw: str | None) -> date | None:
    """A calendar day typed as dd/mm/yyyy (as printed on Vietnamese documents) or yyyy-mm-dd;
    None for an empty field. DomainError (`member.date`) when it is not a date."""
    text = (raw or "").strip()
    if not text:
        return None
    try:
        if len(text) > MAX_DATE_INPUT or not text.isascii():
            raise ValueError
        if "/" in text:
            day, month, year = text.split("/")
            if len(year) != 4:
                raise ValueError
            return date(int(year), int(month), int(day))
        return date.fromisoformat(text)
    except (ValueError, OverflowError):  # a 20-digit day overflows date()
        raise DomainError("member.date", MSG_DATE) from None


def check_validity(valid_from: date | None, valid_until: date | None, *, today: date) -> None:
    """Validity dates of a membership. Codes: member.until_before_from, member.until_past,
    member.too_far (either date more than 10 years after today)."""
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        raise DomainError("member.until_before_from", MSG_UNTIL_BEFORE_FROM)
    if valid_until is not None and valid_until < today:
        raise DomainError("member.until_past", MSG_UNTIL_PAST)
    try:
        horizon = today.replace(year=today.year + MAX_YEARS_AHEAD)
    except ValueError:  # 29 February
        horizon = today.replace(year=today.year + MAX_YEARS_AHEAD, day=28)
    if any(day is not None and day > horizon for day in (valid_from, valid_until)):
        raise DomainError("member.too_far", MSG_TOO_FAR)


def mask_national_id(number: str) -> str:
    """Only the last 3 digits, for lists where the person has not accepted yet."""
    return "•" * 9 + number[-3:]
