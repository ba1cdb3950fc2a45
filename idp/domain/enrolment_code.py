"""Enrolment codes for counter verification (docs/architecture.md §8): short, read aloud or typed by a clerk.

8 characters from an alphabet without look-alikes (no 0/O, 1/I/L, U/V), shown as XXXX-XXXX:
29^8 ≈ 5·10^11 codes, so guessing a live one at a counter is hopeless. Typing is forgiving:
case, spaces and dashes do not matter, and the QR payload (POSTID:<code>) is accepted as-is.
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTWXYZ"
LENGTH = 8
_IGNORED = " -_.\t"
MAX_INPUT = 32


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize_code(raw: str) -> str | None:
    """The stored form of a typed or scanned code, or None if it cannot be one."""
    if not isinstance(raw, str) or len(raw) > MAX_INPUT:
        return None
    text = raw.strip().upper()
    if text.startswith("POSTID:"):  # the QR payload
        text = text[len("POSTID:"):]
    text = "".join(ch for ch in text if ch not in _IGNORED)
    if len(text) != LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def display_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


def qr_payload(code: str) -> str:
    """What the QR carries: a counter scanner types it into the lookup field as-is."""
    return f"POSTID:{code}"
