"""Personal ID number (số định danh cá nhân, printed on the CCCD card).

Structure, Decree 137/2015/ND-CP art. 7 (kept by the Law on Identification
2023): 12 digits, no check digit.

    d1-d3   birth-registration province (Circular 07/2016/TT-BCA, see
            ``provinces``) or a country code 1xx-2xx for births abroad
    d4      century and sex: 0/1 = 1900s male/female, 2/3 = 2000s,
            4/5 = 2100s (6-9 are defined for later centuries; nobody alive
            can hold them, so they are rejected)
    d5-d6   last two digits of the birth year
    d7-d12  random

With no check digit, the only defence against typos is cross-checking the
structure against the declared sex and birth date, which ``check_national_id``
does. Old 9-digit CMND numbers stopped being valid documents on 1 Jan 2025;
they are rejected with their own code so the user is told why.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from dataclasses import dataclass

from idp.domain.errors import N_, DomainError
from idp.domain.gender import Gender
from idp.domain.provinces import ID_PREFIXES, is_abroad_prefix

MSG_FORMAT = N_("Enter the 12-digit personal ID number.")
MSG_LEGACY_CMND = N_(
    "Old 9-digit ID numbers are no longer valid; use the 12-digit personal ID number."
)
MSG_UNKNOWN_PREFIX = N_(
    "The first three digits of the ID number are not a known registration code."
)
MSG_CENTURY = N_("The fourth digit of the ID number is not a supported century code.")
# The two mismatch messages explain the rule where the error appears (people do not know it).
MSG_GENDER_MISMATCH = N_(
    "The ID number does not match the sex you chose. The 4th digit of the ID number shows "
    "the sex: 0 or 2 for a man, 1 or 3 for a woman. Check the number on your card and the "
    "sex you chose."
)
MSG_BIRTH_YEAR_MISMATCH = N_(
    "The ID number does not match your date of birth. In the ID number, the 4th digit shows "
    "the century (0 or 1: born 1900–1999; 2 or 3: born 2000 or later) and the 5th and 6th "
    "digits are the last two digits of the birth year: 001099012345 is someone born in 1999. "
    "Check the number and the date of birth on your card."
)
MSG_BIRTHDATE_FUTURE = N_("The date of birth cannot be in the future.")
MSG_BIRTHDATE_TOO_OLD = N_("The date of birth is too far in the past.")

# Bounded before NFKC so a hostile multi-megabyte field costs nothing.
MAX_INPUT_LENGTH = 64
# Nobody alive was born earlier; it also keeps d4 = 0/1 (1900s) meaningful.
EARLIEST_BIRTHDATE = datetime.date(1900, 1, 1)

# Separators people type when copying from the card: spaces, dots, dashes
# (ASCII hyphen plus the Unicode dashes that NFKC leaves alone, and minus).
SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u2212]+")
# ``[0-9]`` rather than ``\d``: ``\d`` also matches Arabic-Indic etc. digits.
_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_NINE_DIGITS = re.compile(r"[0-9]{9}")

# d4 -> (first year of the century, sex), Decree 137/2015 art. 7 para. 2.
_CENTURY_CODES: dict[str, tuple[int, Gender]] = {
    "0": (1900, Gender.MALE),
    "1": (1900, Gender.FEMALE),
    "2": (2000, Gender.MALE),
    "3": (2000, Gender.FEMALE),
    "4": (2100, Gender.MALE),
    "5": (2100, Gender.FEMALE),
}


@dataclass(frozen=True, slots=True)
class NationalIdFacts:
    """What the digits of a structurally valid number say.

    ``region`` is the province name, or None when ``abroad`` is True.
    """

    number: str
    prefix: str
    region: str | None
    abroad: bool
    gender: Gender
    birth_year: int


def normalize_national_id(raw: str) -> str:
    """Return the 12 ASCII digits of ``raw`` or raise ``DomainError``.

    Codes: ``national_id.format``, ``national_id.legacy_cmnd``.
    """
    if len(raw) > MAX_INPUT_LENGTH:
        raise DomainError("national_id.format", MSG_FORMAT)
    # NFKC turns full-width digits (from some IMEs) into ASCII ones.
    compact = SEPARATORS.sub("", unicodedata.normalize("NFKC", raw))
    if _TWELVE_DIGITS.fullmatch(compact):
        return compact
    if _NINE_DIGITS.fullmatch(compact):
        raise DomainError("national_id.legacy_cmnd", MSG_LEGACY_CMND)
    raise DomainError("national_id.format", MSG_FORMAT)


def decode_national_id(number: str) -> NationalIdFacts:
    """Decode prefix, sex and birth year without a declared birth date.

    Used where no birth date is known (household tax codes). Codes:
    ``national_id.format``, ``national_id.legacy_cmnd``,
    ``national_id.unknown_prefix``, ``national_id.century``.
    """
    digits = normalize_national_id(number)
    prefix = digits[:3]
    abroad = is_abroad_prefix(prefix)
    if prefix not in ID_PREFIXES and not abroad:
        raise DomainError("national_id.unknown_prefix", MSG_UNKNOWN_PREFIX)
    century = _CENTURY_CODES.get(digits[3])
    if century is None:
        raise DomainError("national_id.century", MSG_CENTURY)
    century_start, gender = century
    return NationalIdFacts(
        number=digits,
        prefix=prefix,
        region=None if abroad else ID_PREFIXES[prefix],
        abroad=abroad,
        gender=gender,
        birth_year=century_start + int(digits[4:6]),
    )


def check_birthdate(birthdate: datetime.date, *, today: datetime.date | None = None) -> None:
    """Reject a birth date in the future or before 1900-01-01.

    Codes: ``birthdate.future``, ``birthdate.too_old``.
    """
    if birthdate > (today or datetime.date.today()):
        raise DomainError("birthdate.future", MSG_BIRTHDATE_FUTURE)
    if birthdate < EARLIEST_BIRTHDATE:
        raise DomainError("birthdate.too_old", MSG_BIRTHDATE_TOO_OLD)


def check_national_id(
    number: str,
    *,
    birthdate: datetime.date,
    gender: Gender,
    today: datetime.date | None = None,
) -> str:
    """Validate ``number`` against the declared sex and birth date.

    Returns the normalised 12-digit number. Checks run in this order, so the
    first broken rule decides the code: number structure (format,
    legacy_cmnd, unknown_prefix, century), then the birth date itself
    (birthdate.future, birthdate.too_old), then ``national_id.gender_mismatch``,
    then ``national_id.birth_year_mismatch``. ``today`` exists for tests.
    """
    facts = decode_national_id(number)
    check_birthdate(birthdate, today=today)
    check_declared(facts, gender=gender, birthdate=birthdate)
    return facts.number


def check_declared(facts: NationalIdFacts, *, gender: Gender | None,
                   birthdate: datetime.date | None) -> None:
    """The decoded number against what is known of the declared sex and birth date (None:
    not known yet, e.g. not readable), so each mismatch shows as soon as its inputs are valid.
    Codes: ``national_id.gender_mismatch``, then ``national_id.birth_year_mismatch``."""
    if gender is not None and facts.gender != gender:
        raise DomainError("national_id.gender_mismatch", MSG_GENDER_MISMATCH)
    if birthdate is not None and facts.birth_year != birthdate.year:
        raise DomainError("national_id.birth_year_mismatch", MSG_BIRTH_YEAR_MISMATCH)
