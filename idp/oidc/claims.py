"""What a portal learns about a person: subject, level of assurance, claims per scope.

DESIGN §4 gives the scope -> claims table; OIDC Core §5.1 the claim formats; §8.1 pairwise
subjects; RFC 8176 the `amr` values.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from typing import Any

from idp.domain.document_check import PostalAddress
from idp.domain.names import split_name
from idp.models import Account, ClaimsProfile, OAuthClient, OrganisationMember, SubjectType
from idp.services.standing import organisation_access
from idp.settings import current_settings

log = logging.getLogger(__name__)

LOA_ACR = {1: "urn:vn:postid:loa:1", 2: "urn:vn:postid:loa:2", 3: "urn:vn:postid:loa:3"}
ACR_ALIASES = {"LoA1": LOA_ACR[1], "LoA2": LOA_ACR[2], "LoA3": LOA_ACR[3]}
# Every spelling of a level a request may use (DESIGN §4): the URN or its alias.
ACR_LEVELS = {acr: level for level, acr in LOA_ACR.items()}
ACR_LEVELS.update({alias: ACR_LEVELS[acr] for alias, acr in ACR_ALIASES.items()})

SCOPE_CLAIMS: dict[str, tuple[str, ...]] = {
    "profile": ("name", "family_name", "given_name", "middle_name", "birthdate", "gender",
                "locale", "updated_at"),
    "email": ("email", "email_verified"),
    "phone": ("phone_number", "phone_number_verified"),
    "address": ("address", "address_verified"),
    "national_id": ("national_id",),
}
SUPPORTED_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
                    "azp", "at_hash") + tuple(c for claims in SCOPE_CLAIMS.values() for c in claims)


def subject_for(account: Account, client: OAuthClient) -> str:
    """Public: the account's opaque `sub`. Pairwise: HMAC over the client's sector, so two
    sectors cannot correlate a person and nobody can reverse it without the salt."""
    if client.subject_type is not SubjectType.PAIRWISE:
        return account.sub
    salt = current_settings().pairwise_salt.encode()
    digest = hmac.new(salt, f"{client.sector_identifier}|{account.sub}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(digest.digest()).decode().rstrip("=")


def level_of(acr: object) -> int | None:
    """1-3 for a known acr value or alias (case-sensitive, as acr values are), else None."""
    return ACR_LEVELS.get(acr) if isinstance(acr, str) else None


def reachable_loa(account: Account) -> int:
    """The highest level this person can reach in some session: MFA lifts only LoA2 to LoA3."""
    return 3 if account.identity_loa >= 2 else 1


def achieved_loa(account: Account, amr: list[str]) -> int:
    """The level actually reached in this session: never more than identity and factors allow."""
    if account.identity_loa >= 2 and ("mfa" in amr or "otp" in amr):
        return 3
    return min(account.identity_loa, 2)


def acr_for(account: Account, amr: list[str]) -> str:
    return LOA_ACR[achieved_loa(account, amr)]


def scope_claims(account: Account, scopes: list[str]) -> dict[str, Any]:
    """Claims released by the granted scopes (only those with a value)."""
    claims: dict[str, Any] = {}
    if "profile" in scopes:
        parts = split_name(account.full_name)
        claims.update(
            name=account.full_name,
            family_name=parts.family or None,
            given_name=parts.given,
            middle_name=parts.middle,
            birthdate=account.birthdate.isoformat(),
            gender=account.gender.value,
            locale=account.locale,
            updated_at=int(account.updated_at.timestamp()),
        )
    if "email" in scopes and account.email:
        claims.update(email=account.email, email_verified=account.email_verified_at is not None)
    if "phone" in scopes:
        claims.update(phone_number=account.phone,
                      phone_number_verified=account.phone_verified_at is not None)
    if "national_id" in scopes:
        claims["national_id"] = account.national_id
    if "address" in scopes:
        claims.update(verified_address(account))
    return {k: v for k, v in claims.items() if v is not None}


def verified_address(account: Account) -> dict[str, Any]:
    """`address` (OIDC Core §5.1.1) and `address_verified: true`, only for an address checked
    at a counter of a still counter-verified identity: a revoked check (LoA back to 1) takes
    its address with it. Nothing for a declared-only address: we never release one."""
    if account.postal_address is None or account.address_verified_at is None \
            or account.identity_loa < 2:
        return {}
    try:
        address = PostalAddress.from_json(account.postal_address).oidc_claim()
    except (KeyError, TypeError):  # written by document_check; a damaged row is not released
        log.error("account %s: postal_address is malformed, not released", account.id)
        return {}
    return {"address": address, "address_verified": True}


def requested_claims(claims_request: dict[str, Any] | None, target: str) -> set[str]:
    """Names asked for in the `claims` parameter's `userinfo` or `id_token` member (§5.5)."""
    if not claims_request or not isinstance(claims_request.get(target), dict):
        return set()
    return {name for name in claims_request[target] if isinstance(name, str)}


def claims_for(account: Account, scopes: list[str], claims_request: dict[str, Any] | None,
               target: str) -> dict[str, Any]:
    """Scope claims for userinfo; for the ID token only what `claims` asked for by name.

    A claim asked for by name is released only if a granted scope covers it: the consent
    screen lists scopes, so nothing beyond them leaves without consent.
    """
    released = scope_claims(account, scopes)
    if target == "userinfo":
        return released
    wanted = requested_claims(claims_request, "id_token")
    if "address" in wanted:
        wanted.add("address_verified")  # the address never travels without its mark
    return {k: v for k, v in released.items() if k in wanted}


# Profile names always in the ID token: they describe the sign-in and the organisation acted
# for, like `acr` and `organization`. The person's own data follows the standard rule there
# (only when the `claims` parameter names it): ID tokens travel in URLs as id_token_hint.
DVCQG_ID_TOKEN_NAMES = frozenset({"LoaiTaiKhoan", "loAs", "MaSoThue", "MaSoDoanhNghiep",
                                  "TenDoanhNghiep"})


def acting_claims(account: Account, client: OAuthClient, scopes: list[str],
                  membership: OrganisationMember | None, acr: str, *, target: str,
                  claims_request: dict[str, Any] | None = None) -> dict[str, Any]:
    """`organization` for the organisation the person acts for (scope `organization`, DESIGN
    §4), in both the ID token and userinfo; and the National Public Service Portal names for a
    client registered with the `dvcqg` profile (docs/claims-dvcqg.md)."""
    claims: dict[str, Any] = {}
    if membership is not None and "organization" in scopes:
        claims["organization"] = organisation_access.organization_claim(membership)
    if client.claims_profile is ClaimsProfile.DVCQG:
        from idp.oidc.dvcqg import dvcqg_claims  # it builds on this module's rules

        profile = dvcqg_claims(account, scopes, membership, acr)
        if target == "id_token":
            wanted = DVCQG_ID_TOKEN_NAMES | requested_claims(claims_request, "id_token")
            profile = {k: v for k, v in profile.items() if k in wanted}
        claims.update(profile)
    return claims
