"""Who may sign in for whom, to which portal, right now (docs/architecture.md §14): the stored
mandates and guardianships read through the rules of idp.domain.mandates and
idp.domain.guardianship. Read-only; used by the counter (which mandates an agent may pick), the
authorization pipeline and the tokens of a delegated session (checked at every use, so a
revocation, an expiry, a disabled agent or a child's 14th birthday stops them at once, on
every node: nothing here is cached).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from idp.domain import guardianship as guardianship_rules
from idp.domain import mandates as rules
from idp.domain.procedures import Procedure
from idp.extensions import db
from idp.models import (
    AccountStatus,
    Guardianship,
    Mandate,
    OAuthClient,
    StaffMember,
    StaffStatus,
    UserSession,
)
from idp.models.base import utcnow

# Why a guardian may not sign in for the child; stored in the audit trail, so stable.
GUARDIANSHIP_ENDED = "guardianship_ended"
CHILD_TURNED_14 = "child_turned_14"
GUARDIAN_NOT_VERIFIED = "guardian_not_verified"
# The parent has not confirmed the link with their own authentication (yet).
GUARDIANSHIP_NOT_CONFIRMED = "guardianship_not_confirmed"
# A delegated session is good for the one portal it was opened for.
ANOTHER_PORTAL = "another_portal"


def procedures_of(values: list[str]) -> frozenset[Procedure]:
    """Stored Procedure values; an unknown one (a kind retired from the list) counts for none."""
    kinds = set()
    for value in values or ():
        try:
            kinds.add(Procedure(value))
        except ValueError:
            continue
    return frozenset(kinds)


def portal_of(client: OAuthClient) -> rules.Portal:
    return rules.Portal(client_id=client.client_id, kinds=procedures_of(client.procedures),
                        accepts_delegation=client.accepts_delegation and client.is_active)


def mandate_rules(mandate: Mandate) -> rules.Mandate:
    """The stored mandate as the domain rules read it."""
    return rules.Mandate(
        scope=rules.Scope.of(procedures_of(mandate.kinds), mandate.client_ids or ()),
        office_code=mandate.office.code, subject_national_id=mandate.account.national_id,
        expires_at=mandate.expires_at, confirmed_at=mandate.confirmed_at,
        revoked_at=mandate.revoked_at)


def status_of(mandate: Mandate, *, now: datetime | None = None) -> rules.Status:
    return rules.status_at(now or utcnow(), expires=mandate.expires_at,
                           confirmed_at=mandate.confirmed_at, revoked_at=mandate.revoked_at)


def is_colleague(national_id: str, office_id: int) -> bool:
    """Whether ``national_id`` is that of a staff member of the office (active or not: a
    colleague on leave is still a colleague)."""
    return db.session.scalar(
        select(StaffMember.id).where(StaffMember.national_id == national_id,
                                     StaffMember.office_id == office_id).limit(1)) is not None


def mandate_refusal(mandate: Mandate, *, staff: StaffMember, client: OAuthClient,
                    now: datetime | None = None) -> rules.Reason | None:
    """Why ``staff`` may not sign in to ``client`` for the citizen under ``mandate`` now, or
    None. The domain's order (who acts, the mandate's status, the portal), then what only the
    database knows: a disabled agent, a colleague's account, a citizen no longer at the level
    the mandate was made at."""
    now = now or utcnow()
    if staff.status is not StaffStatus.ACTIVE:
        return rules.Reason.AGENT_INACTIVE
    reason = rules.why_refused(mandate_rules(mandate), agent_office=staff.office.code,
                               agent_national_id=staff.national_id, portal=portal_of(client),
                               now=now)
    if reason is not None:
        return reason
    if is_colleague(mandate.account.national_id, staff.office_id):
        return rules.Reason.AGENT_IS_COLLEAGUE
    account = mandate.account
    if account.status is not AccountStatus.ACTIVE or account.identity_loa < mandate.loa:
        return rules.Reason.SUBJECT_NOT_VERIFIED
    return None


def usable_mandates(staff: StaffMember, client: OAuthClient, *,
                    now: datetime | None = None) -> list[Mandate]:
    """The mandates of the agent's office under which the agent may sign in to ``client`` now,
    newest first: what the agent picks from at the counter."""
    now = now or utcnow()
    candidates = db.session.scalars(
        select(Mandate).where(Mandate.office_id == staff.office_id, Mandate.revoked_at.is_(None),
                              Mandate.confirmed_at.is_not(None), Mandate.expires_at > now)
        .order_by(Mandate.created_at.desc(), Mandate.id.desc())).all()
    return [m for m in candidates if mandate_refusal(m, staff=staff, client=client, now=now) is None]


def guardianship_refusal(link: Guardianship, *, client: OAuthClient | None = None,
                         now: datetime | None = None) -> str | None:
    """Why the guardian may not sign in for the child now (to ``client``, when given), or None:
    the link ended, the parent has not confirmed it, the child turned 14
    (idp.domain.guardianship), the guardian's account is no longer active and verified, or the
    portal does not accept delegated sign-in."""
    now = now or utcnow()
    if link.ended_at is not None and link.ended_at <= now:
        return GUARDIANSHIP_ENDED
    if link.confirmed_at is None:
        return GUARDIANSHIP_NOT_CONFIRMED
    if link.child.status is not AccountStatus.MINOR or not guardianship_rules.guardian_may_act(
            link.child.birthdate, rules.vietnam_date(now)):
        return CHILD_TURNED_14
    guardian = link.guardian
    if not guardian.is_active or guardian.identity_loa < 2:
        return GUARDIAN_NOT_VERIFIED
    if client is not None and not portal_of(client).accepts_delegation:
        return rules.Reason.PORTAL_NOT_DELEGATING.value
    return None


def session_refusal(session: UserSession, client: OAuthClient, *,
                    now: datetime | None = None) -> str | None:
    """Why a session may not sign in to ``client`` now because of whom it acts for, or None.
    A person's own session is never refused here. A delegated one is refused for any portal
    but its own, and whenever its mandate or guardianship no longer allows the sign-in."""
    if not session.is_delegated:
        return None
    if session.delegated_client_pk != client.id:
        return ANOTHER_PORTAL
    now = now or utcnow()
    if session.mandate_id is not None:
        mandate = db.session.get(Mandate, session.mandate_id)
        staff = db.session.get(StaffMember, session.acting_staff_id) if session.acting_staff_id else None
        if mandate is None or staff is None:
            return rules.Reason.REVOKED.value
        reason = mandate_refusal(mandate, staff=staff, client=client, now=now)
        return reason.value if reason is not None else None
    link = db.session.get(Guardianship, session.guardianship_id)
    if link is None:
        return GUARDIANSHIP_ENDED
    return guardianship_refusal(link, client=client, now=now)


def delegated_loa(session: UserSession) -> int:
    """The level a delegated session's sign-in carries: never above the level the mandate was
    made at (rules.delegated_acr), nor above the child's verified identity for a guardian.
    A person's own session: its own level."""
    if session.mandate_id is not None:
        mandate = db.session.get(Mandate, session.mandate_id)
        if mandate is None:
            return 1
        return rules.delegated_acr(max(1, min(mandate.loa, 3)), max(1, min(session.loa, 3)))
    return session.loa

