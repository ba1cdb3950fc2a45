"""Claims that depend on whom the person acts as: `organization` (scope `organization`,
docs/architecture.md §10) and, for a client registered with the `dvcqg` profile, the National Public Service
Portal names (docs/claims-dvcqg.md), whose LoaiTaiKhoan tells a person from an organisation;
and `act` (RFC 8693 §4.1) when someone else signed in for the person (§14): a post-office
agent under a mandate, or a guardian for a child.

Above both idp.oidc.claims and idp.oidc.dvcqg: the profile spells again what the standard
claims release, and this module puts the two together for the ID token and userinfo.
"""

from __future__ import annotations

from typing import Any

from idp.extensions import db
from idp.models import (
    Account,
    ClaimsProfile,
    Guardianship,
    Mandate,
    OAuthClient,
    OrganisationMember,
    StaffMember,
    UserSession,
)
from idp.oidc.claims import requested_claims
from idp.oidc.dvcqg import dvcqg_claims
from idp.services.portals.subjects import subject_for, subject_of_value
from idp.services.standing import organisation_access

AGENT_ROLE = "post_office_agent"
GUARDIAN_ROLE = "guardian"

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


def act_claim(session: UserSession | None, client: OAuthClient) -> dict[str, Any] | None:
    """`act` for the tokens of a delegated session, None for a person's own. The actor is
    named pseudonymously and stably per portal: an agent by their `actor_id` (never their
    username or ID number), a guardian by their own subject for this portal; both through the
    portal's pairwise sector when it has one. Costs a query or two, only under delegation."""
    if session is None or not session.is_delegated:
        return None
    if session.mandate_id is not None:
        mandate = db.session.get(Mandate, session.mandate_id)
        staff = db.session.get(StaffMember, session.acting_staff_id) \
            if session.acting_staff_id is not None else None
        if mandate is None or staff is None:
            return None
        return {"sub": subject_of_value(staff.actor_id, client), "role": AGENT_ROLE,
                "office": mandate.office.code, "office_name": mandate.office.name,
                "mandate": mandate.public_id}
    link = db.session.get(Guardianship, session.guardianship_id)
    if link is None:
        return None
    return {"sub": subject_for(link.guardian, client), "role": GUARDIAN_ROLE}
