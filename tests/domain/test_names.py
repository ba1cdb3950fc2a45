"""Name normalisation, accent-free search key and name splitting."""

from __future__ import annotations

import unicodedata

import pytest

from idp.domain.errors import DomainError
from idp.domain.names import (
    NameParts,
    lacks_vietnamese_marks,
    normalize_name,
    search_key,
    split_name,
)


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        (nfd("Nguyễn Văn An"), "Nguyễn Văn An"),
        ("  Trần   Thị\u00a0\u00a0Hoa \n", "Trần Thị Hoa"),
        ("\u00d0ặng Văn Đức", "Đặng Văn Đức"),  # Ð (eth) -> Đ
        ("\u0189ỗ Mười", "Đỗ Mười"),  # Ɖ (African D) -> Đ
        ("Beð", "Beð"),  # lower-case eth is a different letter: untouched
        ("Hồ-Xuân Hương", "Hồ-Xuân Hương"),
        ("O'Neil Lê", "O'Neil Lê"),
        ("D\u2019Arc", "D\u2019Arc"),
        ("H'Hen Niê", "H'Hen Niê"),
        ("An", "An"),
    ],
)
def test_normalize_name(raw: str, expected: str) -> None:
    result = normalize_name(raw)
    assert result == expected
    assert unicodedata.is_normalized("NFC", result)


def test_composed_and_decomposed_are_equal_after_normalising() -> None:
    composed = "Phạm Thị Hoà"
    assert composed != nfd(composed)
    assert normalize_name(composed) == normalize_name(nfd(composed))


@pytest.mark.parametrize("raw", ["", "   ", "\u00a0", "\n\t "])
def test_empty(raw: str) -> None:
    with pytest.raises(DomainError) as info:
        normalize_name(raw)
    assert info.value.code == "name.empty"


@pytest.mark.parametrize(
    ("raw", "max_length"),
    [("a" * 101, 100), ("A " * 60, 100), ("Nguyễn Văn An", 12), ("x" * 401, 100)],
)
def test_too_long(raw: str, max_length: int) -> None:
    with pytest.raises(DomainError) as info:
        normalize_name(raw, max_length=max_length)
    assert info.value.code == "name.too_long"


def test_length_is_counted_after_nfc() -> None:
    # 100 composed letters, ~200 code points when decomposed: still fits.
    name = "ệ" * 100
    assert normalize_name(nfd(name)) == name
    assert normalize_name("Nguyễn Văn An", max_length=13) == "Nguyễn Văn An"


@pytest.mark.parametrize(
    "raw",
    [
        "Nguyễn Văn 2",
        "Lê Văn Tám8",
        "Trần\tThị",  # tab inside: control character
        "Trần\nThị",
        "An\x00",
        "Lê\u200bAn",  # zero-width space (Cf)
        "Lê\u202eAn",  # right-to-left override (Cf)
        "An@mail",
        "Lê. An",
        "Lê, An",
        "Lê_An",
        "-",
        "' -",
        "\u0301An",  # combining mark with no base letter
        "Lê \u0301An",
        "😀",
    ],
)
def test_characters(raw: str) -> None:
    with pytest.raises(DomainError) as info:
        normalize_name(raw)
    assert info.value.code == "name.characters"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("Nguyễn Văn An", "nguyen van an"),
        (nfd("Nguyễn Văn An"), "nguyen van an"),
        ("hoà", "hoa"),
        ("hòa", "hoa"),
        (nfd("hoà"), "hoa"),
        ("ĐẶNG THỊ ĐÀO", "dang thi dao"),
        ("đỗ đức", "do duc"),
        ("\u00d0ỗ", "do"),
        ("  Trần \u00a0 Thị\tHoa ", "tran thi hoa"),
        ("Phạm-Lê", "pham-le"),
    ],
)
def test_search_key(raw: str, key: str) -> None:
    assert search_key(raw) == key


def test_search_key_folds_but_identity_does_not() -> None:
    assert search_key("Hà") == search_key("Hạ") == "ha"
    assert normalize_name("Hà") != normalize_name("Hạ")


@pytest.mark.parametrize(
    ("full", "parts"),
    [
        ("Nguyễn Văn An", NameParts("Nguyễn", "Văn", "An")),
        ("Nguyễn Thị Minh Khai", NameParts("Nguyễn", "Thị Minh", "Khai")),
        ("Lê An", NameParts("Lê", None, "An")),
        ("Hoa", NameParts("", None, "Hoa")),
        ("  Tôn   Nữ Thị  Ninh ", NameParts("Tôn", "Nữ Thị", "Ninh")),
    ],
)
def test_split_name(full: str, parts: NameParts) -> None:
    assert split_name(full) == parts


def test_split_empty() -> None:
    with pytest.raises(DomainError) as info:
        split_name("  ")
    assert info.value.code == "name.empty"


@pytest.mark.parametrize("name,expected", [
    ("Nguyen Van An", True), ("Tran Thi Bich Ngoc", True),
    ("Nguyễn Văn An", False), ("Đinh Lan", False), ("Dinh Lan", True),
    (unicodedata.normalize("NFD", "Lê Na"), False), ("", False), ("  ", False),
])
def test_a_name_without_any_vietnamese_mark_is_detected(name, expected):
    assert lacks_vietnamese_marks(name) is expected
