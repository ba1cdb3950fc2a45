"""Signing in with a passkey (docs/architecture.md §7, §9): alone, or as the second step after the
password.

- **Alone** (discoverable credential, also the browser's autofill on the sign-in page): no
  account is named before the authenticator answers; its user handle and credential id name
  the passkey, whose account must be active. User verification is required, so the passkey is
  two factors in one (possession of the key, and the PIN or biometric that unlocks it: NIST SP
  800-63B §5.1.9, multi-factor cryptographic authenticator): `amr` `hwk|swk user mfa`.
- **Second step**: the pending sign-in that the right password opened (identity.mfa_challenge)
  also accepts a passkey of the account; user verification is preferred, not required (the
  password is the other factor): `amr` `pwd hwk|swk [user] mfa`. A failure counts as a wrong
  code of the pending sign-in.
- A ceremony is spent by its first answer, right or wrong; a response that does not verify
  (wrong origin or RP ID, another challenge, a replay, a sign count that went back) is refused
  with one message, "passkey.failed", and audited with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from idp.extensions import db
from idp.models import Account, AuditTag, UserSession
from idp.models.mfa import MfaChallenge
from idp.models.passkey import CeremonyPurpose, Passkey
from idp.services.identity import devices, mfa_challenge, sessions, step_up
from idp.services.identity.mfa import MAX_CHALLENGE_ATTEMPTS, challenge_dead
from idp.services.identity.passkeys import failed, of_account, require_available
from idp.services.platform import audit, metrics, passkey_core
from idp.services.platform.failures import fail, keep


@dataclass(frozen=True)
class SignedIn:
    account: Account
    new_session: sessions.NewSession
    device_token: str


def begin_sign_in() -> tuple[str, dict[str, object]]:
    """Request options for a discoverable passkey, and the ceremony's handle. Commits.
    Raises the Refusal passkey.unavailable (an issuer on an IP address)."""
    require_available()
    handle, challenge = passkey_core.begin(CeremonyPurpose.SIGN_IN)
    options = passkey_core.authentication_options(challenge, allowed=None, user_verification=True)
    db.session.commit()
    return handle, options


def _passkey_named(credential: object) -> Passkey | None:
    """The citizen's passkey the assertion names by credential id and user handle, or None."""
    named = passkey_core.read_assertion(credential)
    found = db.session.scalar(select(Passkey).where(Passkey.credential_id == named.credential_id))
    if found is None or found.account_id is None or named.user_handle != found.user_handle:
        return None
    return found


def finish_sign_in(handle: object, credential: object, *,
                   previous_session: UserSession | None = None, user_agent: str | None = None,
                   device_token: str | None = None) -> SignedIn:
    """Verify a passkey-alone sign-in and open the session. Commits; a failure is audited.

    Raises the Refusal "passkey.failed" (also for an unknown passkey or a disabled account)."""
    account_id = None
    try:
        ceremony = passkey_core.take(handle, CeremonyPurpose.SIGN_IN)
        passkey = _passkey_named(credential)
        if passkey is None:
            raise passkey_core.CeremonyFailed("unknown_passkey")
        account_id = passkey.account_id
        account = db.session.get(Account, account_id)
        if account is None or not account.is_active:
            raise passkey_core.CeremonyFailed("not_active")
        verified = passkey_core.verify_assertion(credential, ceremony.challenge, passkey,
                                                 require_user_verification=True)
    except passkey_core.CeremonyFailed as error:
        metrics.sign_in("citizen", "passkey_failed")
        fail(failed(), AuditTag.ACCOUNT_LOGIN_FAILURE, account_id=account_id, method="passkey",
             reason=error.reason)
    if previous_session is not None:
        sessions.revoke(previous_session, reason="reauthenticated")
    amr = " ".join([*passkey_core.amr(passkey, verified), "mfa"])
    new = sessions.open_session(account, amr=amr, user_agent=user_agent)
    db.session.flush()
    audit.record(AuditTag.ACCOUNT_LOGIN_SUCCESS, account_id=account.id,
                 session_id=new.session.id, method="passkey", passkey_id=passkey.id)
    device = devices.renew(device_token, account)
    db.session.commit()
    metrics.sign_in("citizen", "success")
    return SignedIn(account=account, new_session=new, device_token=device)


# --- the second step after the password ------------------------------------------------------

def _pending(token: str | None) -> MfaChallenge:
    challenge = mfa_challenge.load_challenge(token)
    if challenge is None:
        raise challenge_dead()
    return challenge


def begin_second_factor(token: str | None) -> tuple[str, dict[str, object]]:
    """Request options naming the pending sign-in's passkeys, and the ceremony's handle.
    Commits. Raises the Refusal mfa.challenge_dead (or passkey.failed: no passkey)."""
    require_available()
    challenge = _pending(token)
    allowed = of_account(challenge.account_id)
    if not allowed:
        raise failed()
    handle, nonce = passkey_core.begin(CeremonyPurpose.SECOND_FACTOR,
                                       mfa_challenge_id=challenge.id)
    options = passkey_core.authentication_options(nonce, allowed=allowed, user_verification=False)
    db.session.commit()
    return handle, options


def finish_second_factor(token: str | None, handle: object, credential: object, *,
                         previous_session: UserSession | None = None,
                         user_agent: str | None = None,
                         device_token: str | None = None) -> mfa_challenge.Completed:
    """Complete the pending sign-in with a passkey of its account. Commits.

    Raises a Refusal: mfa.challenge_dead, passkey.failed (counted as a wrong code)."""
    challenge = _pending(token)
    account = db.session.get(Account, challenge.account_id)
    assert account is not None
    try:
        ceremony = passkey_core.take(handle, CeremonyPurpose.SECOND_FACTOR,
                                     mfa_challenge_id=challenge.id)
        passkey = _passkey_named_for(credential, account.id)
        verified = passkey_core.verify_assertion(credential, ceremony.challenge, passkey,
                                                 require_user_verification=False)
    except passkey_core.CeremonyFailed as error:
        db.session.execute(
            update(MfaChallenge).where(MfaChallenge.id == challenge.id)
            .values(failed_attempts=MfaChallenge.failed_attempts + 1)
            .execution_options(synchronize_session=False))
        keep(AuditTag.ACCOUNT_MFA_FAILURE, account_id=account.id, step="sign_in",
             method="passkey", reason=error.reason)
        metrics.sign_in("citizen", "second_factor_failed")
        db.session.refresh(challenge)
        if challenge.failed_attempts >= MAX_CHALLENGE_ATTEMPTS:
            raise challenge_dead() from None
        raise failed() from None
    if not mfa_challenge.claim_in_transaction(challenge):
        db.session.rollback()
        raise challenge_dead()
    amr = " ".join(["pwd", *passkey_core.amr(passkey, verified), "mfa"])
    completed = mfa_challenge.finish_in_transaction(
        challenge, account, amr=amr, method="passkey", previous_session=previous_session,
        user_agent=user_agent, device_token=device_token)
    db.session.commit()
    metrics.sign_in("citizen", "success")
    return completed


def _passkey_named_for(credential: object, account_id: int) -> Passkey:
    named = passkey_core.read_assertion(credential)
    found = db.session.scalar(select(Passkey).where(Passkey.credential_id == named.credential_id,
                                                    Passkey.account_id == account_id))
    if found is None:
        raise passkey_core.CeremonyFailed("unknown_passkey")
    return found


# --- step-up of a signed-in session ------------------------------------------------------------

def begin_step_up(session: UserSession) -> tuple[str, dict[str, object]]:
    """Request options naming the account's passkeys, bound to `session`. Commits. Raises the
    Refusal passkey.unavailable or passkey.failed (the account has no passkey)."""
    require_available()
    allowed = of_account(session.account_id)
    if not allowed:
        raise failed()
    handle, nonce = passkey_core.begin(CeremonyPurpose.STEP_UP, session_id=session.id)
    options = passkey_core.authentication_options(nonce, allowed=allowed, user_verification=False)
    db.session.commit()
    return handle, options


def finish_step_up(session: UserSession, handle: object, credential: object, *,
                   client: str | None = None) -> str:
    """A passkey of the account proven in `session`: its `amr` values and `mfa` join the
    session's (a portal asked for phishing resistance, docs/architecture.md §9). Returns the
    session's new cookie token. Commits; a failure is audited. Raises passkey.failed."""
    try:
        ceremony = passkey_core.take(handle, CeremonyPurpose.STEP_UP, session_id=session.id)
        passkey = _passkey_named_for(credential, session.account_id)
        verified = passkey_core.verify_assertion(credential, ceremony.challenge, passkey,
                                                 require_user_verification=False)
    except passkey_core.CeremonyFailed as error:
        fail(failed(), AuditTag.ACCOUNT_MFA_FAILURE, account_id=session.account_id,
             session_id=session.id, step="step_up", method="passkey", reason=error.reason)
    token = step_up.raise_with_passkey_in_transaction(
        session, passkey_core.amr(passkey, verified), step="step_up", client=client)
    db.session.commit()
    return token
