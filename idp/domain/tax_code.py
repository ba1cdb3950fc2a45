"""Tax code (mã số thuế / mã số doanh nghiệp).

Three shapes (docs/architecture.md §13):

* enterprise: 10 digits. d1-d2 province, d3-d9 sequence (not all zero),
  d10 check digit: c = 10 - (sum(d_i * w_i) mod 11), w = 31, 29, 23, 19, 17,
  13, 7, 5, 3; a remainder of 0 would give c = 10, so such numbers are never
  issued and are rejected.
* dependent unit (branch, representative office): the parent's 10 digits,
  "-", and a 3-digit suffix 001-999 with no check digit. Also accepted as 13
  bare digits and normalised to the hyphen form, which is how it is printed.
* household business / individual: since 1 Jul 2025 the 12-digit personal ID
  number is the tax code; only its structure can be checked (no birth date).

``python-stdnum``'s ``stdnum.vn.mst`` implements the same 10/13-digit rule
(verified against it in tests when installed); it is not a runtime dependency
because the rule fits in a dozen lines and this module must own its error codes.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

from idp.domain.errors import N_, DomainError
from idp.domain.national_id import decode_national_id

MSG_FORMAT = N_("Enter a 10-digit tax code, optionally followed by a dash and 3 digits; for a household "
                 "business, the 12-digit personal ID number of its head.")
MSG_CHECKSUM = N_("The tax code is not valid; check the digits.")
MSG_SEQUENCE = N_("The tax code is not valid; digits 3 to 9 cannot all be zero.")
MSG_SUFFIX = N_("The 3-digit branch suffix of the tax code must be between 001 and 999.")
MSG_HOUSEHOLD = N_("The 12-digit tax code is not a valid personal ID number.")

MAX_INPUT_LENGTH = 64
WEIGHTS: tuple[int, ...] = (31, 29, 23, 19, 17, 13, 7, 5, 3)

_WHITESPACE = re.compile(r"\s+")
# [0-9], not \d, so only ASCII digits pass (NFKC already folded full-width).
_ENTERPRISE = re.compile(r"[0-9]{10}")
_DEPENDENT = re.compile(r"([0-9]{10})-?([0-9]{3})")
_HOUSEHOLD = re.compile(r"[0-9]{12}")


class TaxCodeKind(enum.StrEnum):
    ENTERPRISE = "enterprise"  # 10 digits
    DEPENDENT_UNIT = "dependent_unit"  # 10 digits + "-" + 3 digits
    HOUSEHOLD = "household"  # 12-digit personal ID number


@dataclass(frozen=True, slots=True)
class TaxCode:
    """A validated tax code; ``value`` is the canonical printed form."""

    value: str
    kind: TaxCodeKind


def check_digit(first_nine: str) -> int | None:
    """Check digit for digits 1-9, or None when no valid digit exists."""
    remainder = sum(int(d) * w for d, w in zip(first_nine, WEIGHTS, strict=True)) % 11
    return None if remainder == 0 else 10 - remainder


def _check_enterprise(ten: str) -> None:
    if ten[2:9] == "0000000":
        raise DomainError("tax_code.sequence", MSG_SEQUENCE)
    if check_digit(ten[:9]) != int(ten[9]):
        raise DomainError("tax_code.checksum", MSG_CHECKSUM)


def parse_tax_code(raw: str) -> TaxCode:
    """Validate ``raw`` and return its canonical form and kind.

    Codes: ``tax_code.format``, ``tax_code.sequence``, ``tax_code.checksum``,
    ``tax_code.suffix``, ``tax_code.household`` (the underlying national-ID
    ``DomainError`` is chained as ``__cause__``).
    """
    if len(raw) > MAX_INPUT_LENGTH:
        raise DomainError("tax_code.format", MSG_FORMAT)
    compact = _WHITESPACE.sub("", unicodedata.normalize("NFKC", raw))
    if _ENTERPRISE.fullmatch(compact):
        _check_enterprise(compact)
        return TaxCode(compact, TaxCodeKind.ENTERPRISE)
    if _HOUSEHOLD.fullmatch(compact):
        try:
            facts = decode_national_id(compact)
        except DomainError as err:
            raise DomainError("tax_code.household", MSG_HOUSEHOLD) from err
        return TaxCode(facts.number, TaxCodeKind.HOUSEHOLD)
    dependent = _DEPENDENT.fullmatch(compact)
    if dependent:
        parent, suffix = dependent.groups()
        _check_enterprise(parent)
        if suffix == "000":
            raise DomainError("tax_code.suffix", MSG_SUFFIX)
        return TaxCode(f"{parent}-{suffix}", TaxCodeKind.DEPENDENT_UNIT)
    raise DomainError("tax_code.format", MSG_FORMAT)
