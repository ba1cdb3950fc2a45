"""Delegated sessions (docs/architecture.md §14): an agent signing in for a citizen under a
mandate, a guardian for a child. Such a session is the citizen's (or child's) own
`UserSession`, so everything downstream (`sub`, claims, tokens, back-channel logout) is the
citizen's; it also names the mandate or guardianship and the one portal it is good for, which
the authorization pipeline checks on every visit (idp.services.standing.delegation) and which
the account pages refuse outright.

Ending a mandate ends its sessions and their tokens in the same transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update

from idp.extensions import db, rowcount
from idp.models import (
    AuditTag,
    Guardianship,
    Mandate,
    MandateEnder,
    OAuthClient,
    StaffMember,
    UserSession,
)
from idp.models.base import utcnow
from idp.services.identity import logout, sessions
from idp.services.platform import audit
from idp.services.standing import delegation

# Why a delegated session's code used it up (identity.mandate_uses revokes it so).
USED_UP = "delegated_used"
# A delegated session is a counter visit (or a guardian's errand), not a working day.
DELEGATED_SESSION_HOURS = 1


def _bounded(new: sessions.NewSession, *, until: datetime, client: OAuthClient) -> None:
    session = new.session
    session.expires_at = min(session.expires_at, until,
                             session.authenticated_at + timedelta(hours=DELEGATED_SESSION_HOURS))
    session.delegated_client_pk = client.id


def open_mandate_session_in_transaction(mandate: Mandate, *, staff: StaffMember,
                                        client: OAuthClient, amr: str,
                                        user_agent: str | None = None) -> sessions.NewSession:
    """The citizen's session, opened by ``staff`` (authenticated with ``amr``) for ``client``
    under ``mandate``; the caller has checked `delegation.mandate_refusal`. Its level is capped
    at the mandate's (idp.domain.mandates.delegated_acr)."""
    new = sessions.open_session(mandate.account, amr=amr, user_agent=user_agent)
    new.session.mandate_id = mandate.id
    new.session.acting_staff_id = staff.id
    new.session.loa = min(mandate.loa, mandate.account.identity_loa)
    _bounded(new, until=mandate.expires_at, client=client)
    return new


def open_guardian_session_in_transaction(link: Guardianship, *, client: OAuthClient, amr: str,
                                         guardian_loa: int, until: datetime,
                                         user_agent: str | None = None) -> sessions.NewSession:
    """The child's session, opened by the guardian (signed in with ``amr`` at ``guardian_loa``)
    for ``client``; the caller has checked `delegation.guardianship_refusal`. ``until`` is the
    first instant the link no longer grants (the 14th birthday, local midnight)."""
    new = sessions.open_session(link.child, amr=amr, user_agent=user_agent)
    new.session.guardianship_id = link.id
    new.session.loa = min(guardian_loa, link.child.identity_loa)
    _bounded(new, until=until, client=client)
    return new


def end_mandate_in_transaction(mandate: Mandate, *, by: MandateEnder, staff_id: int | None = None,
                               session_id: int | None = None,
                               channel: str = "web") -> list[int] | None:
    """Revoke ``mandate`` (pending or active) and end every session opened under it, revoking
    their tokens and queuing back-channel logouts, in the caller's transaction. One winner: a
    mandate already revoked returns None and changes nothing. Audited with who ended it."""
    now = utcnow()
    before = delegation.status_of(mandate, now=now)
    won = rowcount(db.session.execute(
        update(Mandate).where(Mandate.id == mandate.id, Mandate.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by=by, revoked_by_staff_id=staff_id)
        .execution_options(synchronize_session=False)))
    if not won:
        return None
    db.session.refresh(mandate)
    queued = _end_sessions(UserSession.mandate_id == mandate.id, reason="mandate_revoked")
    audit.record(AuditTag.MANDATE_REVOKE, account_id=mandate.account_id, staff_id=staff_id,
                 session_id=session_id,
                 office_id=mandate.office_id, channel=channel, mandate=mandate.public_id,
                 by=by.value, status_before=before.value)
    return queued


def end_guardian_sessions_in_transaction(link: Guardianship, *, reason: str) -> list[int]:
    """End every live session a guardian opened through ``link`` (the link ended)."""
    return _end_sessions(UserSession.guardianship_id == link.id, reason=reason)


def _end_sessions(under: ColumnElement[bool], *, reason: str) -> list[int]:
    """End the live sessions opened under a mandate or guardianship, and those already used up
    by their code (identity.mandate_uses), whose tokens live on until now: revoke every token,
    queue the back-channel logouts. Sessions ended otherwise (signed out) were told already."""
    queued: list[int] = []
    for session in db.session.scalars(select(UserSession).where(
            under, or_(UserSession.revoked_at.is_(None),
                       UserSession.revoke_reason == USED_UP))).all():
        queued += logout.end_session_in_transaction(session, reason=reason)
    return queued
