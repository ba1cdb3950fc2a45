"""The 34 provincial units in force since 1 Jul 2025 (Resolution 202/2025/QH15), with their
codes. Addresses and post offices use these. They are NOT the birth-registration prefixes of
personal ID numbers (idp/domain/provinces.py): e.g. the new Lào Cai is 15, its old ID prefix
010. Two tiers: province -> ward/commune (no districts).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from idp.domain.vietnamese_order import sort_key

PROVINCES: Mapping[str, str] = MappingProxyType({
    "01": "Hà Nội",
    "04": "Cao Bằng",
    "08": "Tuyên Quang",
    "11": "Điện Biên",
    "12": "Lai Châu",
    "14": "Sơn La",
    "15": "Lào Cai",
    "19": "Thái Nguyên",
    "20": "Lạng Sơn",
    "22": "Quảng Ninh",
    "24": "Bắc Ninh",
    "25": "Phú Thọ",
    "31": "Hải Phòng",
    "33": "Hưng Yên",
    "37": "Ninh Bình",
    "38": "Thanh Hóa",
    "40": "Nghệ An",
    "42": "Hà Tĩnh",
    "44": "Quảng Trị",
    "46": "Huế",
    "48": "Đà Nẵng",
    "51": "Quảng Ngãi",
    "52": "Gia Lai",
    "56": "Khánh Hòa",
    "66": "Đắk Lắk",
    "68": "Lâm Đồng",
    "75": "Đồng Nai",
    "79": "Hồ Chí Minh",
    "80": "Tây Ninh",
    "82": "Đồng Tháp",
    "86": "Vĩnh Long",
    "91": "An Giang",
    "92": "Cần Thơ",
    "96": "Cà Mau",
})


def province_name(code: str) -> str | None:
    return PROVINCES.get(code)


def provinces_in_order() -> list[tuple[str, str]]:
    """(code, name) in Vietnamese alphabetical order, for the lists people choose from."""
    return sorted(PROVINCES.items(), key=lambda item: sort_key(item[1]))
