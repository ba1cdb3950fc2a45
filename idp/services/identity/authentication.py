"""Password sign-in (docs/architecture.md §7): one generic failure, similar timing, throttled, audited."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from idp.domain.errors import N_
from idp.errors import Refusal, Throttled, WrongPassword
from idp.extensions import db
from idp.models import Account, AuditTag, UserSession
from idp.models.base import utcnow
from idp.services.identity import accounts, devices, mfa_challenge, second_factors, sessions
from idp.services.platform import audit, metrics, passwords, throttle
from idp.services.platform.failures import fail

GENERIC_FAILURE = N_("The ID number or phone number and password do not match. Please try again.")


class SecondFactorRequired(Exception):
    """The password was right and the account has a second factor (TOTP or a passkey): no
    session yet. The browser gets
    `challenge_token` (see services.mfa) and is asked for a code."""

    def __init__(self, account: Account, challenge_token: str) -> None:
        super().__init__("second factor required")
        self.account = account
        self.challenge_token = challenge_token


@dataclass(frozen=True)
class SignedIn:
    account: Account
    new_session: sessions.NewSession
    device_token: str  # for the known-device cookie


def throttle_key(identifier: str, account: Account | None, device_token: str | None) -> str:
    """Per owner's device, else per account (ID number and phone share one count), else per
    canonical identifier.

    Shared per account: counted apart, alternating the ID number and the phone
    doubled the guesses. The price: someone who already knows both a phone and an ID number
    can learn that they are one account by spending the free failures on one and seeing the
    other throttled; that costs the owner's new browsers a short wait, is audited, and says
    nothing about a single identifier (an unknown one is throttled exactly like a known one).
    """
    if account is not None:
        device = devices.device_id(device_token, account)
        if device:
            return f"account:{account.id}:device:{device}"
        return f"account:{account.id}"
    canonical = accounts.canonical_identifier(identifier)
    if canonical is not None:
        return ":".join(canonical)
    return "raw:" + "".join(unicodedata.normalize("NFKC", identifier).split()).casefold()[:64]


def sign_in(
    identifier: str,
    password: str,
    *,
    previous_session: UserSession | None = None,
    user_agent: str | None = None,
    device_token: str | None = None,
    next_url: str | None = None,
) -> SignedIn:
    """Check the password and open a new session. One transaction.

    Raises Throttled (no password check was made) or the Refusal "login.failed" (unknown
    identifier, wrong password or disabled account: indistinguishable on purpose), or
    SecondFactorRequired when the password is right and the account has confirmed TOTP
    (`next_url` is kept with the pending sign-in).
    """
    account = accounts.find_by_identifier(identifier)
    try:
        # A wait for concurrent attempts ends this (read-only) transaction first: it must not
        # hold a connection, or a snapshot, while it sleeps.
        attempt = throttle.begin(throttle_key(identifier, account, device_token),
                                 wait=True, before_waiting=db.session.rollback)
    except Throttled as refused:
        metrics.sign_in("citizen", "throttled")
        fail(refused, AuditTag.ACCOUNT_LOGIN_THROTTLED, account_id=account.id if account else None)
    try:
        return _check_and_open(account, password, previous_session=previous_session,
                               user_agent=user_agent, device_token=device_token,
                               next_url=next_url, attempt=attempt)
    finally:
        throttle.finished(attempt)  # whatever happened: no mark is left pending


def _check_and_open(account: Account | None, password: str, *,
                    previous_session: UserSession | None, user_agent: str | None,
                    device_token: str | None, next_url: str | None,
                    attempt: throttle.Attempt) -> SignedIn:
    credential = account.password if account else None
    if credential is None:
        passwords.spend_verification_time(password)
        ok = False
    else:
        ok = passwords.verify_password(credential.hash, password)
    if not ok or account is None or not account.is_active:
        metrics.sign_in("citizen", "unknown_account" if account is None else
                        "wrong_password" if not ok else "not_active")
        fail(Refusal("login.failed", GENERIC_FAILURE, status=401), AuditTag.ACCOUNT_LOGIN_FAILURE,
             account_id=account.id if account else None)

    assert credential is not None
    # Read before a rehash: the device token is tied to the stored hash, which a rehash
    # rewrites although the password stays the same.
    known_device = devices.device_id(device_token, account)
    if passwords.needs_rehash(credential.hash):
        credential.hash = passwords.hash_password(password)
        credential.changed_at = utcnow()
        audit.record(AuditTag.ACCOUNT_PASSWORD_REHASH, account_id=account.id)
    if second_factors.has_second_factor(account.id):
        token = mfa_challenge.create_challenge(account, next_url)
        db.session.commit()
        throttle.succeeded(attempt)  # the password was right; codes have their own count
        metrics.sign_in("citizen", "second_factor_required")
        raise SecondFactorRequired(account, token)
    if previous_session is not None:
        # Re-authentication replaces the session: a token seen before sign-in is never reused.
        sessions.revoke(previous_session, reason="reauthenticated")
    new = sessions.open_session(account, amr="pwd", user_agent=user_agent)
    db.session.flush()
    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account.id, session_id=new.session.id)
    # Signed before the commit, which expires the account and its password: after it, reading
    # them for the token's password tag cost two more statements per sign-in.
    device = devices.renew_known(known_device, account)
    db.session.commit()
    throttle.succeeded(attempt)
    metrics.sign_in("citizen", "success")
    return SignedIn(account=account, new_session=new, device_token=device)


def require_password(account: Account, password: str, *, key: str) -> None:
    """The current password, typed again to confirm a change on the account page, counted by
    the login throttle under `key`. Raises Throttled or WrongPassword (the failure stays
    counted; nothing is written)."""
    attempt = throttle.begin(key)
    credential = account.password
    if credential is None:
        passwords.spend_verification_time(password)
        raise WrongPassword()
    if not passwords.verify_password(credential.hash, password):
        raise WrongPassword()
    throttle.succeeded(attempt)
