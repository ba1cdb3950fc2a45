"""Counter staff sessions (docs/architecture.md §8: shorter idle and absolute timeouts for staff).

The console holds a random token in a cookie, a counter terminal sends it as a bearer token;
only its SHA-256 is stored. A session is useless until the TOTP step marks it verified, and it
is checked against the staff member's status on every request, so disabling someone takes
effect at their next click.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update

from idp.extensions import db, rowcount
from idp.models import StaffMember, StaffSession
from idp.models.base import utcnow
from idp.services.platform.secrets import MAX_COOKIE_TOKEN_LENGTH, new_token, token_hash
from idp.settings import current_settings

TOUCH_INTERVAL = timedelta(seconds=30)
# The console's cookie, scoped to /counter so citizen pages never send it.
COOKIE_NAME = "postid_counter"
COOKIE_PATH = "/counter"
CHANNELS = ("web", "api")


@dataclass(frozen=True)
class NewStaffSession:
    session: StaffSession
    token: str  # into the cookie or the terminal's Authorization header, nowhere else


def open_staff_session(staff: StaffMember, *, channel: str, mfa_verified: bool = False
                       ) -> NewStaffSession:
    """Add a session for `staff` to the caller's transaction (no commit)."""
    assert channel in CHANNELS
    now = utcnow()
    token = new_token()
    session = StaffSession(token_hash=token_hash(token), staff=staff, channel=channel,
                           created_at=now, last_seen_at=now,
                           mfa_verified_at=now if mfa_verified else None)
    db.session.add(session)
    return NewStaffSession(session=session, token=token)


def load_staff_session(token: str | None, *, channel: str) -> StaffSession | None:
    """The live session for `token` on `channel`, or None (unknown, ended, timed out, or its
    staff member disabled). Touches last_seen_at at most every TOUCH_INTERVAL."""
    if not token or len(token) > MAX_COOKIE_TOKEN_LENGTH:
        return None
    session = db.session.scalar(
        select(StaffSession).where(StaffSession.token_hash == token_hash(token))
    )
    if session is None or session.channel != channel or session.ended_at is not None:
        return None
    settings = current_settings()
    now = utcnow()
    if (not session.staff.is_active
            or now - session.created_at > timedelta(hours=settings.staff_absolute_hours)
            or now - session.last_seen_at > timedelta(minutes=settings.staff_idle_minutes)):
        return None
    if now - session.last_seen_at > TOUCH_INTERVAL:
        session.last_seen_at = now
        db.session.commit()
    return session


def end_staff_session(session: StaffSession) -> bool:
    """End one session; False if it had already ended. Caller commits."""
    return rowcount(db.session.execute(
        update(StaffSession)
        .where(StaffSession.id == session.id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow())
        .execution_options(synchronize_session=False)
    )) == 1


def end_staff_sessions(staff_id: int) -> int:
    """End every session of a staff member (disable, sign-out everywhere); caller commits."""
    result = db.session.execute(
        update(StaffSession)
        .where(StaffSession.staff_id == staff_id, StaffSession.ended_at.is_(None))
        .values(ended_at=utcnow())
    )
    return rowcount(result)
