"""Vietnamese alphabetical order of the province lists (Đà Nẵng after Vĩnh Long)."""

from __future__ import annotations

import unicodedata

import pytest

from idp.domain.admin_units import PROVINCES, provinces_in_order
from idp.domain.vietnamese_order import sort_key


def test_the_34_provinces_are_in_vietnamese_alphabetical_order():
    assert [name for _code, name in provinces_in_order()] == [
        "An Giang", "Bắc Ninh", "Cà Mau", "Cao Bằng", "Cần Thơ", "Đà Nẵng", "Đắk Lắk",
        "Điện Biên", "Đồng Nai", "Đồng Tháp", "Gia Lai", "Hà Nội", "Hà Tĩnh", "Hải Phòng",
        "Hồ Chí Minh", "Huế", "Hưng Yên", "Khánh Hòa", "Lai Châu", "Lạng Sơn", "Lào Cai",
        "Lâm Đồng", "Nghệ An", "Ninh Bình", "Phú Thọ", "Quảng Ngãi", "Quảng Ninh", "Quảng Trị",
        "Sơn La", "Tây Ninh", "Thái Nguyên", "Thanh Hóa", "Tuyên Quang", "Vĩnh Long"]
    assert len(provinces_in_order()) == len(PROVINCES)


@pytest.mark.parametrize("before,after", [
    ("Dung", "Đà"),        # Đ is a letter after D ...
    ("Đồng", "Em"),        # ... and before E
    ("Anh", "Ăn"), ("Ăn", "Ân"), ("Ôn", "Ơn"), ("Uy", "Ưa"),
    ("Ca", "Cà"), ("Cà", "Cả"), ("Cả", "Cã"), ("Cã", "Cá"), ("Cá", "Cạ"),  # tones break ties
    ("Hà Nội", "Hải"),     # a word ends before a longer one
    ("an", "An"),          # case breaks the last tie
])
def test_letters_then_tones_then_case(before, after):
    assert sort_key(before) < sort_key(after)


def test_composed_and_decomposed_input_sort_alike():
    name = "Đắk Lắk"
    assert sort_key(unicodedata.normalize("NFD", name)) == sort_key(name)
