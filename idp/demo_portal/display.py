"""How the demo portal shows claims: protocol claims first, times as local time, JSON as JSON.

The point of the page is to let a newcomer read what PostID really sent, so values are shown
as sent (times also as the raw number), never "prettified" into something else.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask_babel import format_datetime

from idp.i18n import current_language

# The claims a partner checks first, in the order they matter; anything else follows, sorted.
FIRST = ("iss", "sub", "aud", "azp", "acr", "amr", "auth_time", "sid", "iat", "exp",
         "nonce", "at_hash")
TIME_CLAIMS = frozenset({"auth_time", "iat", "exp", "updated_at"})
ACR_PREFIX = "urn:vn:postid:loa:"
LEVELS = (1, 2, 3)
# The National Public Service Portal names of the `dvcqg` claims profile, in the order of
# docs/claims-dvcqg.md: a portal knows them from that document, not from PostID's code.
DVCQG_NAMES = ("LoaiTaiKhoan", "loAs", "HoVaTen", "NgayThangNamSinh", "GioiTinh", "SoDinhDanh",
               "SoDienThoai", "ThuDienTu", "DiaChi", "MaSoThue", "MaSoDoanhNghiep",
               "TenDoanhNghiep")
ORGANIZATION_MEMBERS = ("tax_code", "name", "role")


def acr_for_level(level: int) -> str:
    return f"{ACR_PREFIX}{level}"


def loa_level(acr: Any) -> int | None:
    """1-3 for PostID's acr URNs, None for anything else (a portal trusts only what it knows)."""
    if isinstance(acr, str) and acr.startswith(ACR_PREFIX) and acr[len(ACR_PREFIX):] in ("1", "2", "3"):
        return int(acr[len(ACR_PREFIX):])
    return None


def amr_values(amr: Any) -> list[str]:
    return [value for value in amr if isinstance(value, str)] if isinstance(amr, list) else []


def ordered(claims: dict[str, Any]) -> list[tuple[str, Any]]:
    head = [(name, claims[name]) for name in FIRST if name in claims]
    tail = sorted((name, value) for name, value in claims.items() if name not in FIRST)
    return head + tail


def is_time(name: str, value: Any) -> bool:
    return name in TIME_CLAIMS and isinstance(value, int | float) and not isinstance(value, bool)


def claim_time(value: int | float) -> str:
    """Seconds since the epoch as a wall-clock time in Vietnam (Flask-Babel's timezone)."""
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return str(value)
    pattern = "HH:mm:ss, dd/MM/yyyy (ZZZZ)" if current_language() == "vi" else "HH:mm:ss, d MMMM yyyy (ZZZZ)"
    return format_datetime(moment, pattern)


def claim_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def organisation(*sources: dict[str, Any]) -> dict[str, str] | None:
    """The `organization` claim (the organisation the person acts for) from the first source
    that has a well-formed one: tax_code, name and role, all non-empty strings."""
    for source in sources:
        value = source.get("organization")
        if isinstance(value, dict) and all(
                isinstance(value.get(member), str) and value[member]
                for member in ORGANIZATION_MEMBERS):
            return {member: value[member] for member in ORGANIZATION_MEMBERS}
    return None


def dvcqg(claims: dict[str, Any], userinfo: dict[str, Any]) -> list[tuple[str, Any]]:
    """The dvcqg-profile claims received (userinfo over the ID token), in documented order."""
    received = {**claims, **userinfo}
    return [(name, received[name]) for name in DVCQG_NAMES if name in received]


def act(claims: dict[str, Any]) -> dict[str, str] | None:
    """The `act` claim (RFC 8693 §4.1) of a delegated sign-in, when well formed: `role`, and for
    a post-office agent `office` and `office_name`. None for a person's own sign-in."""
    value = claims.get("act")
    if not isinstance(value, dict) or not isinstance(value.get("role"), str):
        return None
    members = ("role", "sub", "office", "office_name", "mandate")
    return {name: value[name] for name in members if isinstance(value.get(name), str)}
