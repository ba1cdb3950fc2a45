"""A citizen's passkeys (docs/architecture.md §7): adding one at /account/security, the list,
renaming and removing. The WebAuthn work is platform.passkey_core's (py_webauthn); signing in
with a passkey is identity.passkey_sign_in.

- Adding needs a recent sign-in (RECENT_SIGN_IN); on an account that already has a second
  factor, a session that proved one: a stolen password-only session cannot add a way in.
- Removing needs the current password, and on an account with a second factor a session that
  proved one ("the password and an existing factor", so the last one too).
- Refusals (idp.errors.Refusal): "passkey.reauthenticate", "passkey.step_up" (403),
  "passkey.failed" (400, the response did not verify or its ceremony is spent), "passkey.unknown"
  (404, not one of the account's).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from idp.domain.errors import N_
from idp.errors import Refusal
from idp.extensions import db
from idp.models import Account, AuditTag, UserSession
from idp.models.base import utcnow
from idp.models.passkey import MAX_PASSKEY_NAME, CeremonyPurpose, Passkey
from idp.services.identity import authentication, password_change, step_up
from idp.services.identity.second_factors import has_second_factor
from idp.services.platform import audit, passkey_core
from idp.services.platform.failures import fail

RECENT_SIGN_IN = timedelta(minutes=15)
MAX_PASSKEYS = 10
FAILED = N_("The passkey could not be checked. Please try again.")
REAUTHENTICATE = N_("For your security, sign in again before you add a passkey.")
STEP_UP = N_("For your security, confirm this sign-in with two-step verification first.")
UNKNOWN = N_("This passkey is not on your account.")
TOO_MANY = N_("You have the largest number of passkeys allowed. Remove one first.")


UNAVAILABLE = N_("Passkeys cannot be used at this address.")


def failed() -> Refusal:
    return Refusal("passkey.failed", FAILED)


def available() -> bool:
    """Whether this server can be a WebAuthn relying party (not on an IP address)."""
    return passkey_core.available()


def require_available() -> None:
    if not passkey_core.available():
        raise Refusal("passkey.unavailable", UNAVAILABLE, status=404)


def of_account(account_id: int) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.account_id == account_id)
                                   .order_by(Passkey.created_at, Passkey.id)))


def may_add(session: UserSession) -> str | None:
    """None when `session` may add a passkey now, else "reauthenticate" or "step_up"."""
    if utcnow() - session.authenticated_at > RECENT_SIGN_IN:
        return "reauthenticate"
    if has_second_factor(session.account_id) and not step_up.has_second_factor(session):
        return "step_up"
    return None


def _require_may_add(session: UserSession) -> None:
    reason = may_add(session)
    if reason == "reauthenticate":
        raise Refusal("passkey.reauthenticate", REAUTHENTICATE, status=403)
    if reason == "step_up":
        raise Refusal("passkey.step_up", STEP_UP, status=403)


def _user_handle(account_id: int) -> bytes:
    found = db.session.scalar(select(Passkey.user_handle).where(Passkey.account_id == account_id)
                              .limit(1))
    return found or passkey_core.new_user_handle()


def begin_registration(session: UserSession) -> tuple[str, dict[str, object]]:
    """The creation options for a new passkey of the session's account and the ceremony's
    handle. Commits. Raises a Refusal (passkey.reauthenticate, passkey.step_up)."""
    require_available()
    _require_may_add(session)
    account = session.account
    handle_bytes = _user_handle(account.id)
    handle, challenge = passkey_core.begin(CeremonyPurpose.REGISTER, session_id=session.id,
                                           user_handle=handle_bytes)
    # The name shown by the authenticator's account chooser: the person's name, never the ID
    # number (WebAuthn L3 §14.6.1: the user entity may be seen by anyone with the device).
    options = passkey_core.registration_options(
        challenge, user_handle=handle_bytes, user_name=account.full_name,
        display_name=account.full_name, existing=of_account(account.id))
    db.session.commit()
    return handle, options


def clean_name(name: object) -> str:
    text = " ".join(name.split()) if isinstance(name, str) else ""
    return "".join(ch for ch in text if ch.isprintable())[:MAX_PASSKEY_NAME]


def finish_registration(session: UserSession, handle: object, credential: object,
                        name: object) -> str:
    """Verify the authenticator's answer and store the passkey. Commits; a failure is audited.
    Like the code that confirms a TOTP set-up, the new passkey was proven in this session: it
    raises the session (step_up), and the session's new cookie token is returned.

    Raises a Refusal: passkey.reauthenticate, passkey.step_up, passkey.failed."""
    _require_may_add(session)
    account_id = session.account_id
    if len(of_account(account_id)) >= MAX_PASSKEYS:
        raise Refusal("passkey.too_many", TOO_MANY)
    try:
        ceremony = passkey_core.take(handle, CeremonyPurpose.REGISTER, session_id=session.id)
        new = passkey_core.verify_registration(credential, ceremony.challenge)
    except passkey_core.CeremonyFailed as error:
        fail(failed(), AuditTag.ACCOUNT_MFA_FAILURE, account_id=account_id,
             session_id=session.id, step="enrol", method="passkey", reason=error.reason)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == new.credential_id)):
        fail(failed(), AuditTag.ACCOUNT_MFA_FAILURE, account_id=account_id,
             session_id=session.id, step="enrol", method="passkey", reason="known_credential")
    assert ceremony.user_handle is not None
    passkey = Passkey(
        account_id=account_id, credential_id=new.credential_id, user_handle=ceremony.user_handle,
        public_key=new.public_key, sign_count=new.sign_count, transports=new.transports,
        aaguid=new.aaguid, backup_eligible=new.backup_eligible, backed_up=new.backed_up,
        user_verified=new.user_verified,
        name=clean_name(name) or default_name(new.backup_eligible))
    db.session.add(passkey)
    try:
        db.session.flush()
    except IntegrityError:  # the same credential registered by a concurrent request first
        db.session.rollback()
        raise failed() from None
    audit.record(AuditTag.ACCOUNT_MFA_ENROL, account_id=account_id, method="passkey",
                 passkey_id=passkey.id)
    # Registering proves a brand-new credential, not one the owner had: the session gains
    # `mfa` (as a confirmed TOTP set-up does) but never `hwk`/`swk`, which would meet a
    # portal's phishing resistance for a session that a relayed password and code opened.
    token = step_up.raise_with_passkey_in_transaction(session, [], step="enrol")
    db.session.commit()
    return token


def default_name(synced: bool) -> str:
    # Stored, so not translated: the owner renames it at will.
    return "Passkey (synced)" if synced else "Passkey"


def _own(account_id: int, passkey_id: int) -> Passkey:
    found = db.session.get(Passkey, passkey_id)
    if found is None or found.account_id != account_id:
        raise Refusal("passkey.unknown", UNKNOWN, status=404)
    return found


def rename(account: Account, passkey_id: int, name: object) -> None:
    """Give one of the account's passkeys a new name (blank keeps the old one). Commits."""
    found = _own(account.id, passkey_id)
    cleaned = clean_name(name)
    if cleaned and cleaned != found.name:
        found.name = cleaned
        db.session.commit()


def remove(session: UserSession, passkey_id: int, password: str) -> None:
    """Remove one of the account's passkeys after the password, in a session that proved a
    second factor. Commits. Raises Throttled, WrongPassword or a Refusal (passkey.unknown,
    passkey.step_up)."""
    account = session.account
    found = _own(account.id, passkey_id)
    if not step_up.has_second_factor(session):
        raise Refusal("passkey.step_up", STEP_UP, status=403)
    authentication.require_password(account, password, key=password_change.throttle_key(account.id))
    db.session.execute(delete(Passkey).where(Passkey.id == found.id))
    audit.record(AuditTag.ACCOUNT_MFA_REMOVE, account_id=account.id, method="passkey",
                 passkey_id=passkey_id)
    db.session.commit()
