"""Password rules (docs/architecture.md §7, after NIST SP 800-63B §5.1.1.2): length, not common, not the
person's own identifiers. No composition rules: they make passwords worse, not stronger."""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from idp.domain.errors import N_, DomainError

MIN_LENGTH = 8
# Twice the 64 characters every user must be allowed (NIST SP 800-63B); bounds hashing cost.
MAX_LENGTH = 128
# Words a guesser tries first against this service: pass them as `service_words`.
SERVICE_WORDS = ("postid",)
# Name parts shorter than this ("An", "Lê") are too common to refuse inside a password.
MIN_NAME_PART = 4


@cache
def common_passwords() -> frozenset[str]:
    text = resources.files("idp.domain").joinpath("data/common_passwords.txt").read_text("utf-8")
    lines = (line.strip() for line in text.splitlines())
    return frozenset(line.casefold() for line in lines if line and not line.startswith("#"))


def check_password(password: str, *, personal_values: tuple[str, ...] = (), name: str = "",
                   service_words: tuple[str, ...] = ()) -> None:
    """Raise DomainError if `password` may not be set; `personal_values` are the person's own
    identifiers (ID number, phone digits) that must not be the password; `name` is the
    person's full name (parts of it, with or without accents, are refused); `service_words`
    (e.g. SERVICE_WORDS) are context words such as the service's own name."""
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
    plain = _accent_free(compact)
    for word in service_words:
        if _accent_free(word.casefold()) in plain:
            raise DomainError(
                "password.service_name",
                N_("The password must not contain the name of this service (PostID)."),
            )
    for part in _name_parts(name):
        if part in plain:
            raise DomainError(
                "password.name",
                N_("The password must not contain your name."),
            )


def _accent_free(text: str) -> str:
    """Vietnamese letters without their marks ("Nguyễn" -> "nguyen"; đ -> d)."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _name_parts(name: str) -> set[str]:
    """The full name run together and each part long enough to be distinctive, accent-free."""
    words = [_accent_free(w.casefold()) for w in name.split()]
    words = ["".join(ch for ch in w if ch.isalnum()) for w in words]
    parts = {w for w in words if len(w) >= MIN_NAME_PART}
    joined = "".join(words)
    if len(joined) >= MIN_NAME_PART:
        parts.add(joined)
    return parts


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
