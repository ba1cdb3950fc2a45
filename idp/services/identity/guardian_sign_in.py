"""A guardian signs in to a portal for their child under 14 (docs/architecture.md §14).

The guardian, signed in with their own (not delegated) session, picks one of their children;
`sign_in_for_child` re-checks the link (idp.services.standing.delegation.guardianship_refusal)
and opens the child's session for that one portal (identity.acting), bounded by the link's end:
local midnight starting the 14th birthday. The guardian's own session is revoked, as any new
sign-in replaces the session in the browser (§7); the `act` claim then names the guardian.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import select

from idp.domain import guardianship as rules
from idp.domain.errors import N_
from idp.domain.mandates import VIETNAM
from idp.errors import IdpError
from idp.extensions import db
from idp.models import AuditTag, Guardianship, OAuthClient, UserSession
from idp.services.identity import acting, sessions
from idp.services.identity.sessions import NewSession
from idp.services.platform import audit
from idp.services.standing import delegation

PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{22}")  # secrets.token_urlsafe(16)
NOT_YOUR_CHILD = "not_found"
NOT_OWN_SESSION = "delegated_session"

MSG_REFUSED = N_("You cannot sign in for this child to this portal now. Children can be signed "
                 "in for by a guardian until the day before their 14th birthday, and only to "
                 "portals that accept it.")


class GuardianSignInRefused(IdpError):
    status = 403

    def __init__(self, reason: str) -> None:
        super().__init__("guardian_sign_in_refused", MSG_REFUSED)
        self.reason = reason


@dataclass(frozen=True)
class Child:
    link: Guardianship
    grants_until: datetime  # the first instant the link no longer grants sign-in (UTC)
    refusal: str | None  # why it does not grant now (for the given portal), or None


def link_ends_at(link: Guardianship) -> datetime:
    """Local midnight starting the child's 14th birthday (idp.domain.guardianship), in UTC."""
    return datetime.combine(rules.link_ends_on(link.child.birthdate), time(0),
                            tzinfo=VIETNAM).astimezone(UTC)


def children_of(guardian_account_id: int, *, client: OAuthClient | None = None) -> list[Child]:
    """The guardian's children (links not ended), with whether each link grants now."""
    links = db.session.scalars(select(Guardianship).where(
        Guardianship.guardian_account_id == guardian_account_id, Guardianship.ended_at.is_(None))
        .order_by(Guardianship.created_at, Guardianship.id)).all()
    return [Child(link, link_ends_at(link), delegation.guardianship_refusal(link, client=client))
            for link in links]


def sign_in_for_child(guardian_session: UserSession, child_public_id: str, client: OAuthClient,
                      *, user_agent: str | None = None) -> NewSession:
    """The child's session for `client`, opened by the guardian of `guardian_session`. One
    transaction. Raises GuardianSignInRefused (audited GUARDIAN_SIGN_IN_REFUSED with the
    reason, nothing else written)."""
    guardian_id = guardian_session.account_id
    if guardian_session.is_delegated:
        _refuse(guardian_id, None, client, NOT_OWN_SESSION)
    link = None
    if isinstance(child_public_id, str) and PUBLIC_ID.fullmatch(child_public_id):
        link = db.session.scalar(select(Guardianship).where(
            Guardianship.public_id == child_public_id,
            Guardianship.guardian_account_id == guardian_id))
    if link is None:
        _refuse(guardian_id, None, client, NOT_YOUR_CHILD)
    assert link is not None
    reason = delegation.guardianship_refusal(link, client=client)
    if reason is not None:
        _refuse(guardian_id, link, client, reason)
    new = acting.open_guardian_session_in_transaction(
        link, client=client, amr=guardian_session.amr, guardian_loa=guardian_session.loa,
        until=link_ends_at(link), user_agent=user_agent)
    # A new sign-in replaces the browser's session (§7): the guardian's own one ends here.
    sessions.revoke(guardian_session, reason="guardian_sign_in")
    db.session.flush()
    audit.record(AuditTag.GUARDIAN_SIGN_IN, account_id=link.child_account_id, actor_id=guardian_id,
                 session_id=new.session.id, client_id=client.client_id,
                 guardianship=link.public_id)
    db.session.commit()
    return new


def _refuse(guardian_id: int, link: Guardianship | None, client: OAuthClient,
            reason: str) -> None:
    db.session.rollback()
    audit.record(AuditTag.GUARDIAN_SIGN_IN_REFUSED,
                 account_id=link.child_account_id if link else None, actor_id=guardian_id,
                 client_id=client.client_id, reason=reason,
                 guardianship=link.public_id if link else None)
    db.session.commit()
    raise GuardianSignInRefused(reason)
