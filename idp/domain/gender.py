"""Sex as recorded on the personal ID card (male/female only on the card)."""

from __future__ import annotations

import enum
import unicodedata

from idp.domain.errors import N_, DomainError

MSG_INVALID = N_("Choose male or female.")

# The ID card and the personal ID number encode only two values (Decree
# 137/2015 art. 7: the century digit's parity), so the domain has exactly two.


class Gender(enum.StrEnum):
    """Value stored in the database and emitted as the OIDC ``gender`` claim."""

    MALE = "male"
    FEMALE = "female"


# Vietnamese forms accepted alongside the English claim values; "nu" is the
# accent-free spelling people type on keyboards without a Vietnamese IME.
_ALIASES: dict[str, Gender] = {
    "male": Gender.MALE,
    "nam": Gender.MALE,
    "female": Gender.FEMALE,
    "nữ": Gender.FEMALE,
    "nu": Gender.FEMALE,
}

_MAX_INPUT = 32


def parse_gender(raw: str) -> Gender:
    """Parse a form or API value into a ``Gender``.

    Case-insensitive, surrounding whitespace ignored, composed or decomposed
    "nữ" both accepted. Raises ``DomainError("gender.invalid")``.
    """
    if len(raw) > _MAX_INPUT:
        raise DomainError("gender.invalid", MSG_INVALID)
    key = unicodedata.normalize("NFC", raw).strip().casefold()
    try:
        return _ALIASES[key]
    except KeyError:
        raise DomainError("gender.invalid", MSG_INVALID) from None
