"""One-time codes (SMS, 6 digits) and links (e-mail, 32 random bytes), docs/architecture.md §7.

Only an HMAC-SHA256 of the secret is stored, keyed with the application secret, so a database
reader cannot use pending codes. Every check is single use: the challenge is consumed with a
conditional UPDATE, so two concurrent requests with the same code cannot both succeed.
A code dies after MAX_FAILURES wrong guesses; a resend replaces the code and is allowed after
a doubling back-off (30 s, 60 s, ...), MAX_SENDS times in all.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update

from idp.extensions import db, rowcount
from idp.models.base import utcnow
from idp.models.registration import OtpChallenge, OtpPurpose
from idp.services.platform.secrets import new_token
from idp.settings import current_settings

CODE_DIGITS = 6
MAX_FAILURES = 5
MAX_SENDS = 5
FIRST_RESEND_SECONDS = 30
MAX_LINK_TOKEN_LENGTH = 128


def secret_hash(secret: str) -> str:
    key = current_settings().secret_key.encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def _code_expiry() -> datetime:
    return utcnow() + timedelta(seconds=current_settings().otp_seconds)


def issue_code(purpose: OtpPurpose, destination: str, *, registration_id: int | None = None,
               account_id: int | None = None, usable: bool = True) -> tuple[OtpChallenge, str]:
    """Add a code challenge to the caller's transaction; returns it and the plain code.

    `usable=False` stores the HMAC of a random 32-byte value instead: a challenge that looks
    and behaves like any other but that no 6-digit code can ever match.
    """
    code = new_code()
    stored = code if usable else new_token()
    challenge = OtpChallenge(purpose=purpose, destination=destination,
                             registration_id=registration_id, account_id=account_id,
                             secret_hash=secret_hash(stored), expires_at=_code_expiry(),
                             failed_attempts=0, sends=1, last_sent_at=utcnow())
    db.session.add(challenge)
    return challenge, code


def issue_link(purpose: OtpPurpose, destination: str, *, account_id: int | None = None,
               registration_id: int | None = None) -> tuple[OtpChallenge, str]:
    hours = current_settings().email_link_hours
    token = new_token()
    challenge = OtpChallenge(purpose=purpose, destination=destination, account_id=account_id,
                             registration_id=registration_id, secret_hash=secret_hash(token),
                             expires_at=utcnow() + timedelta(hours=hours), failed_attempts=0,
                             sends=1, last_sent_at=utcnow())
    db.session.add(challenge)
    return challenge, token


def latest_of_account(account_id: int, purpose: OtpPurpose) -> OtpChallenge | None:
    """The account's newest challenge of `purpose`, live or not."""
    return db.session.scalar(
        select(OtpChallenge)
        .where(OtpChallenge.account_id == account_id, OtpChallenge.purpose == purpose)
        .order_by(OtpChallenge.id.desc()).limit(1))


def live_of_account(account_id: int, purpose: OtpPurpose) -> OtpChallenge | None:
    """The account's newest challenge of `purpose`, if it is still live."""
    challenge = latest_of_account(account_id, purpose)
    return challenge if challenge is not None and is_live(challenge) else None


def is_live(challenge: OtpChallenge, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return (challenge.consumed_at is None and challenge.expires_at > now
            and challenge.failed_attempts < MAX_FAILURES)


def _consume(challenge_id: int, now: datetime) -> bool:
    """Atomically mark the challenge used; False if another request (or expiry) got there first."""
    result = db.session.execute(
        update(OtpChallenge)
        .where(OtpChallenge.id == challenge_id, OtpChallenge.consumed_at.is_(None),
               OtpChallenge.expires_at > now, OtpChallenge.failed_attempts < MAX_FAILURES)
        .values(consumed_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


def check_code(challenge: OtpChallenge, code: str) -> bool:
    """Check and consume a code; a wrong code counts a failure. Caller commits."""
    now = utcnow()
    code = (code or "").strip()
    if not is_live(challenge, now):
        return False
    if not hmac.compare_digest(challenge.secret_hash, secret_hash(code)):
        db.session.execute(
            update(OtpChallenge).where(OtpChallenge.id == challenge.id)
            .values(failed_attempts=OtpChallenge.failed_attempts + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.refresh(challenge)
        return False
    ok = _consume(challenge.id, now)
    db.session.refresh(challenge)
    return ok


def find_link(purpose: OtpPurpose, token: str) -> OtpChallenge | None:
    """The live challenge for a link token, without consuming it (for the GET page)."""
    if not token or len(token) > MAX_LINK_TOKEN_LENGTH:
        return None
    challenge = db.session.scalar(select(OtpChallenge).where(
        OtpChallenge.secret_hash == secret_hash(token), OtpChallenge.purpose == purpose))
    return challenge if challenge is not None and is_live(challenge) else None


def consume_link(purpose: OtpPurpose, token: str) -> OtpChallenge | None:
    challenge = find_link(purpose, token)
    if challenge is None or not _consume(challenge.id, utcnow()):
        return None
    db.session.refresh(challenge)
    return challenge


def resend_wait(challenge: OtpChallenge, now: datetime | None = None) -> int | None:
    """Seconds before another send is allowed (0 = now), or None when no send is left."""
    if challenge.sends >= MAX_SENDS or challenge.consumed_at is not None:
        return None
    now = now or utcnow()
    ready = challenge.last_sent_at + timedelta(
        seconds=FIRST_RESEND_SECONDS * 2 ** (challenge.sends - 1))
    return max(0, int((ready - now).total_seconds() + 0.999))


def renew_code(challenge: OtpChallenge, *, usable: bool = True) -> str:
    """Replace the code (the old one dies) and count a send. Check resend_wait first."""
    code = new_code()
    challenge.secret_hash = secret_hash(code if usable else new_token())
    challenge.sends += 1
    challenge.last_sent_at = utcnow()
    challenge.expires_at = _code_expiry()
    # Wrong guesses are not forgiven by a resend: 5 in all per challenge, not 5 per send.
    return code
