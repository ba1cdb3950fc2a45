"""Vietnamese mobile numbers (docs/architecture.md §13)."""

from __future__ import annotations

import pytest

from idp.domain.errors import DomainError
from idp.domain.phone import display_phone, mask_phone, normalize_phone

FULLWIDTH = {ord("+"): 0xFF0B} | {ord("0") + i: 0xFF10 + i for i in range(10)}


@pytest.mark.parametrize(
    "raw",
    [
        "0912 345 678",
        "0912345678",
        "+84 912 345 678",
        "84912345678",
        "+84912345678",
        "0912.345.678",
        "0912-345-678",
        "(091) 234-5678",
        "  0912345678  ",
        "+84 (0) 912 345 678",
        "0084 912 345 678",
        "0912345678".translate(FULLWIDTH),
        "+84912345678".translate(FULLWIDTH),  # full-width plus too
    ],
)
def test_accepts_mobile_forms(raw: str) -> None:
    assert normalize_phone(raw) == "+84912345678"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("0362 345 678", "+84362345678"),  # Viettel 03x (ex-016x)
        ("0582345678", "+84582345678"),
        ("0702345678", "+84702345678"),
        ("0812345678", "+84812345678"),
        ("0869123456", "+84869123456"),
    ],
)
def test_mobile_prefixes(raw: str, e164: str) -> None:
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "phone.format"),
        ("   ", "phone.format"),
        ("+", "phone.format"),
        ("abc", "phone.format"),
        ("0912 ABC 678", "phone.format"),  # keypad letters are not digits here
        ("++84912345678", "phone.format"),
        ("0912345678 ext 1", "phone.format"),
        ("01623456789", "phone.format"),  # old 11-digit mobile, renumbered 2018
        ("0912345", "phone.format"),
        ("0123456789", "phone.format"),
        ("0" * 33, "phone.format"),
        (" " * 25 + "0912345678", "phone.format"),  # over 32 chars
        ("02438253456", "phone.not_mobile"),  # Hà Nội landline
        ("+84 28 3825 3456", "phone.not_mobile"),  # HCMC landline
        ("1800 1234", "phone.not_mobile"),  # toll-free
        ("1900 1234", "phone.not_mobile"),  # premium rate
        ("+1 202 555 0123", "phone.not_vietnamese"),
        ("+44 20 7946 0958", "phone.not_vietnamese"),
        ("+8612345", "phone.not_vietnamese"),
    ],
)
def test_rejects(raw: str, code: str) -> None:
    with pytest.raises(DomainError) as info:
        normalize_phone(raw)
    assert info.value.code == code


@pytest.mark.parametrize(
    ("e164", "national"),
    [("+84912345678", "0912 345 678"), ("+84362345678", "0362 345 678")],
)
def test_display_phone(e164: str, national: str) -> None:
    assert display_phone(e164) == national


def test_display_rejects_garbage() -> None:
    with pytest.raises(DomainError) as info:
        display_phone("not a number")
    assert info.value.code == "phone.format"


def test_mask_phone_keeps_the_first_four_and_last_three_digits() -> None:
    assert mask_phone("+84912345678") == "0912 *** 678"
