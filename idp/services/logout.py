"""Ending a sign-in session everywhere (DESIGN §4): the session, its portals' refresh tokens,
and a back-channel notice to every portal of the session."""

from __future__ import annotations

from idp.extensions import db
from idp.models import AuditTag, UserSession
from idp.services import audit, backchannel, sessions, tokens


def end_session(session: UserSession, *, reason: str = "logout") -> list[int]:
    """Revoke the session and its tokens and queue back-channel logouts. One transaction.

    Returns the ids of the queued deliveries, for a first attempt after the commit.
    """
    sessions.revoke(session, reason=reason)
    tokens.revoke_for_session(session.id, reason=reason)
    deliveries = backchannel.enqueue_for_session(session)
    audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=session.account_id, session_id=session.id)
    db.session.commit()
    return [d.id for d in deliveries]
