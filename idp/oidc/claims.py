"""What a portal learns about a person: level of assurance and the claims of each scope.

The subject and the scope -> claims table (docs/architecture.md §5) are in idp.services.portals.subjects;
OIDC Core §5.1 gives the claim formats, RFC 8176 the `amr` values. What depends on whom the
person acts as (`organization`, the dvcqg profile) builds on this in idp.oidc.acting.
"""

from __future__ import annotations

import logging
from typing import Any

from idp.domain.document_check import PostalAddress
from idp.domain.names import split_name
from idp.models import Account
from idp.services.portals.subjects import SCOPE_CLAIMS

log = logging.getLogger(__name__)

LOA_ACR = {1: "urn:vn:postid:loa:1", 2: "urn:vn:postid:loa:2", 3: "urn:vn:postid:loa:3"}
ACR_ALIASES = {"LoA1": LOA_ACR[1], "LoA2": LOA_ACR[2], "LoA3": LOA_ACR[3]}
# Every spelling of a level a request may use (docs/architecture.md §9): the URN or its alias.
ACR_LEVELS = {acr: level for level, acr in LOA_ACR.items()}
ACR_LEVELS.update({alias: ACR_LEVELS[acr] for alias, acr in ACR_ALIASES.items()})

# Not a level: a requirement on how this sign-in was made (docs/architecture.md §9), met only by
# a passkey proven in the session, which a fake site cannot relay (WebAuthn binds it to our
# origin). In the style of Login.gov's "aal/2?phishing_resistant=true".
PHISHING_RESISTANT = "urn:vn:postid:phishing_resistant"
PHISHING_RESISTANT_AMR = frozenset({"hwk", "swk"})

SUPPORTED_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid",
                    "azp", "at_hash") + tuple(c for claims in SCOPE_CLAIMS.values() for c in claims)


def level_of(acr: object) -> int | None:
    """1-3 for a known acr value or alias (case-sensitive, as acr values are), else None."""
    return ACR_LEVELS.get(acr) if isinstance(acr, str) else None


def phishing_resistant(amr: list[str]) -> bool:
    """A passkey was proven in this session (RFC 8176 `hwk` or `swk`, docs/architecture.md §7)."""
    return bool(PHISHING_RESISTANT_AMR & set(amr))


def reachable_loa(account: Account) -> int:
    """The highest level this person can reach in some session: MFA lifts only LoA2 to LoA3."""
    return 3 if account.identity_loa >= 2 else 1


def achieved_loa(account: Account, amr: list[str]) -> int:
    """The level actually reached in this session: never more than identity and factors allow."""
    if account.identity_loa >= 2 and ("mfa" in amr or "otp" in amr):
        return 3
    return min(account.identity_loa, 2)


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
    if "phone" in scopes and account.phone:  # a minor's account has none (§14)
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

