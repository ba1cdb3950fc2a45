"""Claims that depend on whom the person acts as: `organization` (scope `organization`,
docs/architecture.md §10) and, for a client registered with the `dvcqg` profile, the National Public Service
Portal names (docs/claims-dvcqg.md), whose LoaiTaiKhoan tells a person from an organisation.

Above both idp.oidc.claims and idp.oidc.dvcqg: the profile spells again what the standard
claims release, and this module puts the two together for the ID token and userinfo.
"""

from __future__ import annotations

from typing import Any

from idp.models import Account, ClaimsProfile, OAuthClient, OrganisationMember
from idp.oidc.claims import requested_claims
from idp.oidc.dvcqg import dvcqg_claims
from idp.services.standing import organisation_access

# Profile names always in the ID token: they describe the sign-in and the organisation acted
# for, like `acr` and `organization`. The person's own data follows the standard rule there
# (only when the `claims` parameter names it): ID tokens travel in URLs as id_token_hint.
DVCQG_ID_TOKEN_NAMES = frozenset({"LoaiTaiKhoan", "loAs", "MaSoThue", "MaSoDoanhNghiep",
                                  "TenDoanhNghiep"})


def acting_claims(account: Account, client: OAuthClient, scopes: list[str],
                  membership: OrganisationMember | None, acr: str, *, target: str,
                  claims_request: dict[str, Any] | None = None) -> dict[str, Any]:
    """`organization` for the organisation the person acts for, in both the ID token and
    userinfo; and the dvcqg names for a client registered with that profile."""
    claims: dict[str, Any] = {}
    if membership is not None and "organization" in scopes:
        claims["organization"] = organisation_access.organization_claim(membership)
    if client.claims_profile is ClaimsProfile.DVCQG:
        profile = dvcqg_claims(account, scopes, membership, acr)
        if target == "id_token":
            wanted = DVCQG_ID_TOKEN_NAMES | requested_claims(claims_request, "id_token")
            profile = {k: v for k, v in profile.items() if k in wanted}
        claims.update(profile)
    return claims
