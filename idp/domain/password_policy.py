"""Password rules (DESIGN §6, after NIST SP 800-63B §5.1.1.2): length, not common, not the
person's own identifiers. No composition rules: they make passwords worse, not stronger."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from idp.domain.errors import N_, DomainError

MIN_LENGTH = 8
# Twice the 64 characters every user must be allowed (NIST SP 800-63B); bounds hashing cost.
MAX_LENGTH = 128


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("idp.domain").joinpath("data/common_passwords.txt").read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


def check_password(password: str, *, personal_values: tuple[str, ...] = ()) -> None:
    """Raise DomainError if `password` may not be set; `personal_values` are the person's own
    identifiers (ID number, phone digits) that must not be the password."""
    normalized = unicodedata.normalize("NFKC", password)
    if not normalized.strip():
        raise DomainError("password.empty", N_("Enter a password."))
    if len(normalized) < MIN_LENGTH:
        raise DomainError("password.too_short", N_("The password must have at least 8 characters."))
    if len(normalized) > MAX_LENGTH:
        raise DomainError("password.too_long", N_("The password must have at most 128 characters."))
    folded = normalized.casefold()
    if folded in common_passwords():
        raise DomainError(
            "password.common",
            N_("This password is too common and easy to guess. Choose another one."),
        )
    compact = "".join(ch for ch in folded if ch.isalnum())
    for variant in _personal_variants(personal_values):
        if variant in compact:
            raise DomainError(
                "password.personal",
                N_("The password must not contain your ID number or phone number."),
            )


def _personal_variants(values: tuple[str, ...]) -> set[str]:
    """Each identifier as a person might type it: +84912345678 -> 84912345678, 0912345678."""
    variants: set[str] = set()
    for value in values:
        compact = "".join(ch for ch in value.casefold() if ch.isalnum())
        if len(compact) < 6:
            continue
        variants.add(compact)
        if value.startswith("+84"):
            variants.add("0" + compact[2:])
    return variants
