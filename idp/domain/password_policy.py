"""Password rules (DESIGN §6, after NIST SP 800-63B §5.1.1.2): length, not common, not the
person's own identifiers. No composition rules: they make passwords worse, not stronger."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from idp.domain.errors import N_, DomainError

MIN_LENGTH = 8
# Far above the 64 characters every user must be allowed; bounds the hashing cost.
MAX_LENGTH = 256


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("idp.domain").joinpath("data/common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().casefold() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(password: str, *, personal_values: tuple[str, ...] = ()) -> None:
    """Raise DomainError if `password` may not be set; `personal_values` are the person's own
    identifiers (ID number, phone digits) that must not be the password."""
    normalized = unicodedata.normalize("NFKC", password)
    if not normalized.strip():
        raise DomainError("password.empty", N_("Enter a password."))
    if len(normalized) < MIN_LENGTH:
        raise DomainError("password.too_short", N_("The password must have at least 8 characters."))
    if len(normalized) > MAX_LENGTH:
        raise DomainError("password.too_long", N_("The password must have at most 256 characters."))
    folded = normalized.casefold()
    if folded in common_passwords():
        raise DomainError(
            "password.common",
            N_("This password is too common and easy to guess. Choose another one."),
        )
    digits = "".join(ch for ch in normalized if ch.isdigit())
    for value in personal_values:
        if value and (folded == value.casefold() or digits == value.lstrip("+")):
            raise DomainError(
                "password.personal",
                N_("The password must not be your ID number or phone number."),
            )
