"""Birth-registration codes that open a personal ID number (digits 1-3).

Source: the province codes of Circular 07/2016/TT-BCA, which Decree
137/2015/ND-CP art. 7 uses for the first three digits (63 provinces as they
stood before the 2025 merger); see docs/architecture.md §13.

These are NOT the codes of the 34 provincial units created on 1 Jul 2025
(Resolution 202/2025/QH15): e.g. ID prefix 010 is the old Lào Cai, while the
new Lào Cai unit is code 15. Never map one to the other by equal numbers. An ID
number never changes when provinces merge, so this table is frozen history and
only grows if the Ministry of Public Security adds codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# Names are NFC and keep the old-style accent placement ("Hòa", "Hóa").
ID_PREFIXES: Mapping[str, str] = MappingProxyType(
    {
        "001": "Hà Nội",
        "002": "Hà Giang",
        "004": "Cao Bằng",
        "006": "Bắc Kạn",
        "008": "Tuyên Quang",
        "010": "Lào Cai",
        "011": "Điện Biên",
        "012": "Lai Châu",
        "014": "Sơn La",
        "015": "Yên Bái",
        "017": "Hòa Bình",
        "019": "Thái Nguyên",
        "020": "Lạng Sơn",
        "022": "Quảng Ninh",
        "024": "Bắc Giang",
        "025": "Phú Thọ",
        "026": "Vĩnh Phúc",
        "027": "Bắc Ninh",
        "030": "Hải Dương",
        "031": "Hải Phòng",
        "033": "Hưng Yên",
        "034": "Thái Bình",
        "035": "Hà Nam",
        "036": "Nam Định",
        "037": "Ninh Bình",
        "038": "Thanh Hóa",
        "040": "Nghệ An",
        "042": "Hà Tĩnh",
        "044": "Quảng Bình",
        "045": "Quảng Trị",
        "046": "Thừa Thiên Huế",
        "048": "Đà Nẵng",
        "049": "Quảng Nam",
        "051": "Quảng Ngãi",
        "052": "Bình Định",
        "054": "Phú Yên",
        "056": "Khánh Hòa",
        "058": "Ninh Thuận",
        "060": "Bình Thuận",
        "062": "Kon Tum",
        "064": "Gia Lai",
        "066": "Đắk Lắk",
        "067": "Đắk Nông",
        "068": "Lâm Đồng",
        "070": "Bình Phước",
        "072": "Tây Ninh",
        "074": "Bình Dương",
        "075": "Đồng Nai",
        "077": "Bà Rịa - Vũng Tàu",
        "079": "TP Hồ Chí Minh",
        "080": "Long An",
        "082": "Tiền Giang",
        "083": "Bến Tre",
        "084": "Trà Vinh",
        "086": "Vĩnh Long",
        "087": "Đồng Tháp",
        "089": "An Giang",
        "091": "Kiên Giang",
        "092": "Cần Thơ",
        "093": "Hậu Giang",
        "094": "Sóc Trăng",
        "095": "Bạc Liêu",
        "096": "Cà Mau",
    }
)

# docs/architecture.md §13: a birth registered abroad carries a country code in
# place of the province, in the range 1xx-2xx. The country list itself is not
# published with the circular, so every code in the range is accepted.
ABROAD_PREFIXES: frozenset[str] = frozenset(f"{n:03d}" for n in range(100, 300))


def is_abroad_prefix(prefix: str) -> bool:
    """True when ``prefix`` marks a birth registered outside Vietnam."""
    return prefix in ABROAD_PREFIXES


def is_known_prefix(prefix: str) -> bool:
    """True for a province prefix or an abroad (country) prefix."""
    return prefix in ID_PREFIXES or prefix in ABROAD_PREFIXES


def prefix_region(prefix: str) -> str | None:
    """Province name for a domestic prefix; None for abroad or unknown codes.

    Use ``is_abroad_prefix`` / ``is_known_prefix`` to tell those two apart.
    """
    return ID_PREFIXES.get(prefix)
