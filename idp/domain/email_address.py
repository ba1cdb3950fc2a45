"""E-mail address normalisation: enough to catch typos and store one canonical form.
Deliverability is proven later by a confirmation code, not by a pattern."""

from __future__ import annotations

import re
import unicodedata

from idp.domain.errors import N_, DomainError

MAX_LENGTH = 254  # RFC 5321 §4.5.3.1.3 path limit less the angle brackets
_SHAPE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s.]{2,}$")


def normalize_email(raw: str) -> str:
    """NFC, trimmed, domain lower-cased (the local part is the mailbox owner's business)."""
    value = unicodedata.normalize("NFC", raw.strip())
    if len(value) > MAX_LENGTH:
        raise DomainError("email.too_long", N_("The e-mail address is too long."))
    if not _SHAPE.match(value) or any(unicodedata.category(ch)[0] == "C" for ch in value):
        raise DomainError("email.format", N_("Enter an e-mail address like name@example.vn."))
    local, _, domain = value.rpartition("@")
    if ".." in domain or domain.startswith(("-", ".")):
        raise DomainError("email.format", N_("Enter an e-mail address like name@example.vn."))
    return f"{local}@{domain.lower()}"


def mask_email(email: str) -> str:
    """an.nguyen@example.vn -> an***@example.vn: enough for the owner to recognise the address
    in an SMS, not the whole address for whoever holds the phone now."""
    local, _, domain = email.rpartition("@")
    shown = 2 if len(local) > 4 else 1  # a short local part is never shown whole
    return f"{local[:shown]}***@{domain}"
