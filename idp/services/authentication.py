"""Password sign-in (DESIGN §6): one generic failure, similar timing, throttled, audited."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from idp.domain.errors import N_
from idp.errors import IdpError
from idp.extensions import db
from idp.models import Account, AuditTag
from idp.models.base import utcnow
from idp.services import accounts, audit, login_throttle, passwords, sessions

GENERIC_FAILURE = N_("The ID number or phone number and password do not match. Please try again.")
THROTTLED = N_("Too many unsuccessful attempts. Wait a little, then try again.")


class SignInFailed(IdpError):
    status = 401

    def __init__(self) -> None:
        super().__init__("login.failed", GENERIC_FAILURE)


class SignInThrottled(IdpError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("login.throttled", THROTTLED)
        self.retry_after = retry_after


@dataclass(frozen=True)
class SignedIn:
    account: Account
    new_session: sessions.NewSession


def throttle_key(identifier: str) -> str:
    """The same identifier typed with spaces or in another form throttles as one."""
    folded = "".join(unicodedata.normalize("NFKC", identifier).split()).casefold()
    return folded[:64]


def sign_in(
    identifier: str,
    password: str,
    *,
    previous_session: sessions.UserSession | None = None,
    user_agent: str | None = None,
) -> SignedIn:
    """Check the password and open a new session. One transaction.

    Raises SignInThrottled (no password check was made) or SignInFailed (unknown identifier,
    wrong password or disabled account: indistinguishable on purpose).
    """
    key = throttle_key(identifier)
    wait = login_throttle.retry_after(key)
    if wait:
        account = accounts.find_by_identifier(identifier)
        audit.record(AuditTag.ACCOUNT_LOGIN_THROTTLED, account_id=account.id if account else None)
        db.session.commit()
        raise SignInThrottled(wait)

    account = accounts.find_by_identifier(identifier)
    credential = account.password if account else None
    if credential is None:
        passwords.spend_verification_time(password)
        ok = False
    else:
        ok = passwords.verify_password(credential.hash, password)
    if not ok or account is None or not account.is_active:
        login_throttle.record_failure(key)
        audit.record(AuditTag.ACCOUNT_LOGIN_FAILURE, account_id=account.id if account else None)
        db.session.commit()
        raise SignInFailed()

    assert credential is not None
    if passwords.needs_rehash(credential.hash):
        credential.hash = passwords.hash_password(password)
        credential.changed_at = utcnow()
        audit.record(AuditTag.ACCOUNT_PASSWORD_REHASH, account_id=account.id)
    if previous_session is not None:
        # Re-authentication replaces the session: a token seen before sign-in is never reused.
        sessions.revoke(previous_session, reason="reauthenticated")
    new = sessions.open_session(account, amr="pwd", user_agent=user_agent)
    db.session.flush()
    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account.id, session_id=new.session.id)
    db.session.commit()
    login_throttle.record_success(key)
    return SignedIn(account=account, new_session=new)
