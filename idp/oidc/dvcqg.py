"""The `dvcqg` claims profile: the claim names of the National Public Service Portal (Cổng
Dịch vụ công quốc gia) that existing Vietnamese portals consume (docs/architecture.md §5).

A client registered with `--claims-profile dvcqg` receives these *in addition to* the standard
claims, and never more than them: each name below is another spelling of a value the granted
scopes already release (consent is asked per scope, so it covers both spellings). Formats,
with example payloads, are in docs/claims-dvcqg.md; values without data are omitted, never null.
"""

from __future__ import annotations

import re
from typing import Any

from idp.domain.gender import Gender
from idp.domain.tax_code import TaxCodeKind
from idp.models import Account, OrganisationMember
from idp.oidc.claims import ACR_ALIASES, ACR_LEVELS, level_of, verified_address

PERSON = "1"  # LoaiTaiKhoan: a citizen acting for themself
ORGANISATION = "2"  # LoaiTaiKhoan: a person acting for an organisation (enterprise)
GENDER_CODES = {Gender.MALE: "1", Gender.FEMALE: "2"}
BIRTHDATE_FORMAT = "%d/%m/%Y"  # dd/mm/yyyy, as Vietnamese documents and portals print it
# Stored phones are E.164 Vietnamese mobiles (idp.domain.phone); portals store 0 + 9 digits.
VIETNAMESE_MOBILE = re.compile(r"\+84([0-9]{9})")
ALIAS_OF_LEVEL = {ACR_LEVELS[acr]: alias for alias, acr in ACR_ALIASES.items()}  # 1 -> "LoA1"
# Enterprises and dependent units have an enterprise code; household businesses do not.
ENTERPRISE_CODE_KINDS = frozenset({TaxCodeKind.ENTERPRISE, TaxCodeKind.DEPENDENT_UNIT})

DVCQG_CLAIMS: tuple[str, ...] = (
    "LoaiTaiKhoan", "loAs", "HoVaTen", "NgayThangNamSinh", "GioiTinh", "SoDinhDanh",
    "SoDienThoai", "ThuDienTu", "DiaChi", "MaSoThue", "MaSoDoanhNghiep", "TenDoanhNghiep",
)


def dvcqg_claims(account: Account, scopes: list[str], membership: OrganisationMember | None,
                 acr: str) -> dict[str, Any]:
    """The National Public Service Portal names for what the granted scopes already release
    (never more than the standard claims of the same scopes: consent is per scope)."""
    acting = membership if membership is not None and "organization" in scopes else None
    claims: dict[str, Any] = {
        "LoaiTaiKhoan": ORGANISATION if acting is not None else PERSON,
        "loAs": levels_met(acr),
    }
    if "profile" in scopes:
        claims.update(HoVaTen=account.full_name,
                      NgayThangNamSinh=account.birthdate.strftime(BIRTHDATE_FORMAT),
                      GioiTinh=GENDER_CODES.get(account.gender))
    if "national_id" in scopes:
        claims["SoDinhDanh"] = account.national_id
    if "phone" in scopes:
        claims["SoDienThoai"] = national_phone(account.phone)
    if "email" in scopes:
        claims["ThuDienTu"] = account.email or None
    if "address" in scopes:
        # The person's counter-verified address only, as the standard `address` claim; never a
        # head office: that is not in the standard claims, so no scope's consent covers it.
        claims["DiaChi"] = verified_address(account).get("address", {}).get("formatted")
    if acting is not None:
        claims.update(organisation_claims(acting))
    return {name: value for name, value in claims.items() if value not in (None, "", [])}


def levels_met(acr: str) -> list[str]:
    """Every level alias the achieved `acr` meets, lowest first: LoA2 also meets LoA1."""
    level = level_of(acr)
    return [ALIAS_OF_LEVEL[n] for n in range(1, level + 1)] if level is not None else []


def national_phone(e164: str | None) -> str | None:
    """+84912345678 -> 0912345678; None for anything that is not a Vietnamese mobile."""
    match = VIETNAMESE_MOBILE.fullmatch(e164 or "")
    return "0" + match.group(1) if match else None


def organisation_claims(membership: OrganisationMember) -> dict[str, Any]:
    """The organisation acted for, as the standard `organization` claim describes it.

    MaSoDoanhNghiep is the code on the unit's own registration certificate: for a dependent
    unit that is its tax code with the -XXX suffix (the parent's code is its first 10 digits).
    """
    organisation = membership.organisation
    claims = {"MaSoThue": organisation.tax_code, "TenDoanhNghiep": organisation.name}
    if organisation.tax_code_kind in ENTERPRISE_CODE_KINDS:
        claims["MaSoDoanhNghiep"] = organisation.tax_code
    return claims
