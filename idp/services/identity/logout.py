"""Ending a sign-in session everywhere (DESIGN §4): the session, its portals' refresh tokens,
and a back-channel notice to every portal of the session."""

from __future__ import annotations

from idp.extensions import db
from idp.models import AuditTag, UserSession
from idp.services.identity import sessions
from idp.services.platform import audit
from idp.services.portals import backchannel, tokens


def end_session_in_transaction(session: UserSession, *, reason: str) -> list[int]:
    """Revoke the session and its tokens and queue back-channel logouts, in the caller's
    transaction (so several sessions, or a password change, end together). Returns the ids
    of the queued deliveries, for a first attempt after the caller commits."""
    sessions.revoke(session, reason=reason)
    tokens.revoke_for_session(session.id, reason=reason)
    deliveries = backchannel.enqueue_for_session(session)
    db.session.flush()
    return [d.id for d in deliveries]


def end_session(session: UserSession, *, reason: str = "logout") -> list[int]:
    """The person (or their portal) ends this session. One transaction."""
    queued = end_session_in_transaction(session, reason=reason)
    audit.record(AuditTag.ACCOUNT_LOGOUT, account_id=session.account_id, session_id=session.id)
    db.session.commit()
    return queued
