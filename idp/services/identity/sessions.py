"""Server-side sign-in sessions (docs/architecture.md §7).

The browser holds a 256-bit random token; the database holds its SHA-256. Every sign-in makes
a new token (no fixation), sessions end on idle and absolute timeouts, and sign-out revokes the
record so a copied cookie is worthless afterwards.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from idp.extensions import db
from idp.models import Account, UserSession
from idp.models.base import utcnow
from idp.services.platform.secrets import MAX_COOKIE_TOKEN_LENGTH, new_token, token_hash
from idp.settings import current_settings

# Writing last_seen_at on every request would make each page view a write; a minute of
# precision is plenty for a 30-minute idle timeout.
TOUCH_INTERVAL = timedelta(seconds=60)
MAX_TOKEN_LENGTH = MAX_COOKIE_TOKEN_LENGTH


@dataclass(frozen=True)
class NewSession:
    session: UserSession
    token: str  # goes into the cookie, and nowhere else


def printable(text: str) -> str:
    """Drop control characters (NUL is refused by PostgreSQL text columns)."""
    return "".join(ch for ch in text if ch.isprintable())


def open_session(account: Account, *, amr: str = "pwd", user_agent: str | None = None) -> NewSession:
    """Add a new session for `account` to the caller's transaction."""
    settings = current_settings()
    now = utcnow()
    token = new_token()
    session = UserSession(
        token_hash=token_hash(token),
        sid=secrets.token_urlsafe(32),
        account=account,
        authenticated_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(hours=settings.session_absolute_hours),
        amr=amr,
        loa=account.identity_loa,
        user_agent=printable(user_agent or "")[:255] or None,
    )
    db.session.add(session)
    return NewSession(session=session, token=token)


def load_session(token: str | None, *, now: datetime | None = None) -> UserSession | None:
    """The live session for a cookie token, or None. Touches last_seen_at at most once a minute."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    session = db.session.scalar(select(UserSession).where(UserSession.token_hash == token_hash(token)))
    now = now or utcnow()
    if session is None or not is_live(session, now):
        return None
    if not session.account.may_be_signed_in_for:
        return None
    if now - session.last_seen_at >= TOUCH_INTERVAL:
        session.last_seen_at = now
        db.session.commit()
    return session


def is_live(session: UserSession, now: datetime) -> bool:
    idle = timedelta(minutes=current_settings().session_idle_minutes)
    return (
        session.revoked_at is None
        and now < session.expires_at
        and now - session.last_seen_at < idle
    )


def revoke(session: UserSession, *, reason: str) -> None:
    """Add the revocation to the caller's transaction."""
    if session.revoked_at is None:
        session.revoked_at = utcnow()
        session.revoke_reason = reason
