"""Ending a sign-in session everywhere (docs/architecture.md §7): the session, its portals' refresh tokens,
and a back-channel notice to every portal of the session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditTag, UserSession
from idp.models.base import utcnow
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


def sign_out(session: UserSession) -> None:
    """End a session at the person's request, everywhere, and make a first delivery attempt of
    the back-channel notices once the logout has committed."""
    backchannel.deliver_after_commit(end_session(session, reason="logout"))


# --- the account page: other sessions of the same account ---------------------------


def live_sessions(account_id: int, *, now: datetime | None = None) -> list[UserSession]:
    now = now or utcnow()
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.account_id == account_id, UserSession.revoked_at.is_(None),
               UserSession.expires_at > now)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    ).all()
    return [row for row in rows if sessions.is_live(row, now)]


def _end(session: UserSession, *, reason: str, by_session_id: int | None) -> list[int]:
    """End `session` from another one (or none) in the caller's transaction, audited once."""
    audit.record(AuditTag.ACCOUNT_SESSION_REVOKE, account_id=session.account_id,
                 session_id=by_session_id, revoked_session_id=session.id, reason=reason)
    return end_session_in_transaction(session, reason=reason)


def end_other_session(account_id: int, session_id: int, *, current_session_id: int) -> list[int] | None:
    """Sign out one other live session of this account. None when there is no such session."""
    if session_id == current_session_id:
        return None
    target = next((s for s in live_sessions(account_id) if s.id == session_id), None)
    if target is None:
        return None
    queued = _end(target, reason="user_signout", by_session_id=current_session_id)
    db.session.commit()
    return queued


def end_all_other_sessions(account_id: int, *, current_session_id: int,
                           reason: str = "user_signout") -> list[int]:
    """Sign out every other live session. One transaction."""
    queued = end_other_sessions_in_transaction(account_id, current_session_id=current_session_id,
                                               reason=reason)
    db.session.commit()
    return queued


def end_other_sessions_in_transaction(account_id: int, *, current_session_id: int | None,
                                      reason: str) -> list[int]:
    queued: list[int] = []
    for row in live_sessions(account_id):
        if row.id != current_session_id:
            queued += _end(row, reason=reason, by_session_id=current_session_id)
    return queued
