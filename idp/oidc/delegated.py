"""The authorization pipeline under a delegated session (docs/architecture.md §6, §14): an agent
signing in for a citizen under a mandate, or a guardian for a child.

Such a session is the citizen's (or child's) own, so the ordinary checks apply; this module
adds what differs. The sign-in must still be allowed for this portal (checked on every visit:
a revocation, an expiry or a disabled agent stops it at once); an organisation is never acted
for; the level is the session's capped one, never raised by a step-up; consent is asked on
every sign-in and never stored as the person's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from authlib.oauth2.rfc6749 import AccessDeniedError

from idp.extensions import db
from idp.models import AuditTag, Guardianship, Mandate, StaffMember, UserSession
from idp.oidc import claims as claim_rules
from idp.oidc.interaction import AuthorizationContext
from idp.services.platform import failures
from idp.services.standing import delegation

# Why a delegated session may not ask for the scope `organization` (stored in the audit trail).
ORGANISATION_SCOPE = "organization_scope"
# What the portal is told: never who acts for whom, nor why in detail (the audit trail has it).
REFUSED = "Delegated sign-in is not allowed for this request."


def check_delegation(ctx: AuthorizationContext) -> None:
    """A delegated session may sign in to this portal now, without the scope `organization`;
    otherwise access_denied to the portal (with prompt=none too: no interaction can help),
    audited with the reason."""
    session = ctx.session
    if session is None or not session.is_delegated:
        return
    reason = delegation.session_refusal(session, ctx.client)
    if reason is None and "organization" in ctx.scopes:
        reason = ORGANISATION_SCOPE  # the citizen's organisations are not the agent's to act for
    if reason is not None:
        refuse(session, ctx.client.client_id, reason)


def refuse(session: UserSession, client_id: str, reason: str) -> NoReturn:
    """Store the refusal's audit event (its own commit), then raise access_denied. The office
    is the agent's (the one that tried), the mandate names the citizen's choice of office."""
    error = AccessDeniedError(description=REFUSED)
    if session.mandate_id is not None:
        mandate = db.session.get(Mandate, session.mandate_id)
        staff = db.session.get(StaffMember, session.acting_staff_id) \
            if session.acting_staff_id is not None else None
        office_id = staff.office_id if staff else mandate.office_id if mandate else None
        failures.fail(error, AuditTag.MANDATE_SIGN_IN_REFUSED, account_id=session.account_id,
                      session_id=session.id, staff_id=session.acting_staff_id,
                      office_id=office_id, client=client_id,
                      mandate=mandate.public_id if mandate else None, reason=reason)
    link = db.session.get(Guardianship, session.guardianship_id)
    failures.fail(error, AuditTag.GUARDIAN_SIGN_IN_REFUSED, account_id=session.account_id,
                  session_id=session.id, client=client_id,
                  guardianship=link.public_id if link else None, reason=reason)


def achieved_loa(session: UserSession) -> int:
    """The level this session's sign-in carries: its own (identity and factors), and under
    delegation never above the mandate's or the guardian's (delegation.delegated_loa)."""
    own = claim_rules.achieved_loa(session.account, session.amr.split())
    return min(own, delegation.delegated_loa(session)) if session.is_delegated else own


def reachable_loa(session: UserSession) -> int:
    """The highest level this session could reach: a delegated one is what it has (nobody can
    pass the citizen's second factor for them)."""
    if session.is_delegated:
        return achieved_loa(session)
    return claim_rules.reachable_loa(session.account)


@dataclass(frozen=True)
class DelegatedSignIn:
    """Who signs in for whom, as the consent page says it."""

    for_name: str  # the citizen's (or child's) full name
    office_name: str | None  # the agent's office; None: a guardian for their child


def who_signs_in(session: UserSession | None) -> DelegatedSignIn | None:
    if session is None or not session.is_delegated:
        return None
    office = None
    if session.mandate_id is not None:
        mandate = db.session.get(Mandate, session.mandate_id)
        office = mandate.office.name if mandate is not None else ""
    return DelegatedSignIn(for_name=session.account.full_name, office_name=office)
