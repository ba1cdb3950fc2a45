"""The second step of sign-in (docs/architecture.md §7): a password accepted for an account with TOTP opens
a pending sign-in (MfaChallenge, CHALLENGE_LIFETIME, at most MAX_CHALLENGE_ATTEMPTS wrong
codes); the code checks of idp/services/identity/mfa.py complete it into a session."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from idp.extensions import db, rowcount
from idp.models import Account, AuditTag, UserSession
from idp.models.base import utcnow
from idp.models.mfa import MfaChallenge
from idp.services.identity import devices, sessions
from idp.services.identity.mfa import (
    CHALLENGE_LIFETIME,
    MAX_CHALLENGE_ATTEMPTS,
    begin_attempt,
    challenge_dead,
    check_code,
    code_kind,
    wrong_code,
)
from idp.services.platform import audit, metrics, throttle
from idp.services.platform.failures import keep
from idp.services.platform.secrets import new_token, token_hash


def create_challenge(account: Account, next_url: str | None) -> str:
    """Password accepted: a pending sign-in for `account`; returns the browser's token.
    Added to the caller's transaction."""
    token = new_token()
    db.session.add(MfaChallenge(
        token_hash=token_hash(token),
        account_id=account.id,
        next_url=next_url or None,  # a safe_next path: at most MAX_NEXT_LENGTH
        expires_at=utcnow() + CHALLENGE_LIFETIME,
        failed_attempts=0,
    ))
    return token


def load_challenge(token: str | None) -> MfaChallenge | None:
    if not token or len(token) > sessions.MAX_TOKEN_LENGTH:
        return None
    found = db.session.scalar(
        select(MfaChallenge).where(MfaChallenge.token_hash == token_hash(token)))
    if (found is None or found.completed_at is not None or utcnow() >= found.expires_at
            or found.failed_attempts >= MAX_CHALLENGE_ATTEMPTS):
        return None
    account = db.session.get(Account, found.account_id)
    if account is None or not account.is_active:
        return None
    return found


@dataclass(frozen=True)
class Completed:
    account: Account
    new_session: sessions.NewSession
    device_token: str
    next_url: str | None


def complete_challenge(
    token: str | None,
    code: str,
    *,
    previous_session: UserSession | None = None,
    user_agent: str | None = None,
    device_token: str | None = None,
) -> Completed:
    """Check the second factor for a pending sign-in and open the session. Commits.

    Raises Throttled or a Refusal: mfa.challenge_dead, mfa.wrong_code or mfa.code_used (the
    challenge may die on that failure)."""
    challenge = load_challenge(token)
    if challenge is None:
        raise challenge_dead()
    account = db.session.get(Account, challenge.account_id)
    assert account is not None
    attempt = begin_attempt(account.id)
    method, failure = check_code(account.id, code)
    if method is None:
        db.session.rollback()
        db.session.execute(
            update(MfaChallenge).where(MfaChallenge.id == challenge.id)
            .values(failed_attempts=MfaChallenge.failed_attempts + 1)
            .execution_options(synchronize_session=False))
        keep(AuditTag.ACCOUNT_MFA_FAILURE, account_id=account.id, step="sign_in")
        metrics.sign_in("citizen", "second_factor_failed")
        metrics.mfa_failure("citizen", "sign_in", code_kind(code))
        db.session.refresh(challenge)
        if challenge.failed_attempts >= MAX_CHALLENGE_ATTEMPTS:
            raise challenge_dead()
        raise failure or wrong_code()
    if not claim_in_transaction(challenge):
        db.session.rollback()
        raise challenge_dead()
    # RFC 8176: a TOTP code is "otp"; a recovery code is a look-up secret, so only "mfa".
    amr = "pwd otp mfa" if method == "otp" else "pwd mfa"
    completed = finish_in_transaction(challenge, account, amr=amr, method=method,
                                      previous_session=previous_session, user_agent=user_agent,
                                      device_token=device_token)
    db.session.commit()
    throttle.succeeded(attempt)
    metrics.sign_in("citizen", "success")
    return completed


def finish_in_transaction(challenge: MfaChallenge, account: Account, *, amr: str, method: str,
                          previous_session: UserSession | None, user_agent: str | None,
                          device_token: str | None) -> Completed:
    """The pending sign-in's second factor was proven (`method`: "otp", "recovery" or
    "passkey"): the session with `amr`, in the caller's transaction (it commits). The
    challenge was claimed by the caller."""
    if previous_session is not None:
        sessions.revoke(previous_session, reason="reauthenticated")
    new = sessions.open_session(account, amr=amr, user_agent=user_agent)
    db.session.flush()
    audit.record(AuditTag.ACCOUNT_MFA_SUCCESS, account_id=account.id, session_id=new.session.id,
                 method=method)
    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account.id, session_id=new.session.id)
    # Before the commit, which expires the account and its password (see authentication).
    device = devices.renew(device_token, account)
    return Completed(account=account, new_session=new, next_url=challenge.next_url,
                     device_token=device)


def claim_in_transaction(challenge: MfaChallenge) -> bool:
    """Complete the pending sign-in once (conditional UPDATE); False when it ended meanwhile."""
    now = utcnow()
    return rowcount(db.session.execute(
        update(MfaChallenge)
        .where(MfaChallenge.id == challenge.id, MfaChallenge.completed_at.is_(None),
               MfaChallenge.failed_attempts < MAX_CHALLENGE_ATTEMPTS,
               MfaChallenge.expires_at > now)
        .values(completed_at=now)
        .execution_options(synchronize_session=False)
    )) == 1

