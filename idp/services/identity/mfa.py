"""Second factor (DESIGN §6): TOTP (RFC 6238) with single-use recovery codes, and the sign-in
step that waits for it.

- The secret comes from a CSPRNG (pyotp.random_base32), is sealed under the KEK with
  aad "totp:<account id>", and lives in the database from the first "Set up" click: a pending
  secret is never put in a cookie.
- A code is accepted within ±1 time-step, and only for a time-step later than the last one
  accepted (stored with a conditional UPDATE, so two concurrent uses of one code cannot both
  win). pyotp's verify() alone would accept the same code again within its window.
- Recovery codes: 10, shown once, stored argon2-hashed, spent with a conditional UPDATE.
- Failures are throttled per account (login_throttle key "mfa:<account id>") and a pending
  sign-in dies after MAX_CHALLENGE_ATTEMPTS wrong codes.
- The step-up of a signed-in session reuses these checks: idp/services/identity/step_up.py; the
  pending sign-in that waits for the second factor lives in idp/services/identity/mfa_challenge.py.
"""

from __future__ import annotations

import hmac
import secrets
import time
import unicodedata
from datetime import timedelta

import pyotp
from sqlalchemy import delete, or_, select, update

from idp.domain.errors import N_
from idp.domain.phone import display_phone
from idp.errors import IdpError
from idp.extensions import db
from idp.models import Account, AuditTag
from idp.models.base import utcnow
from idp.models.mfa import RecoveryCode, TotpCredential
from idp.services.platform import audit, crypto, passwords
from idp.services.platform import throttle as login_throttle

ISSUER = "PostID"
STEP_SECONDS = 30
VALID_WINDOW = 1  # steps either side of now
CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_CHALLENGE_ATTEMPTS = 5
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code read off paper is typed right the first time.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_HALF = 4
MAX_CODE_LENGTH = 32

WRONG_CODE = N_("That code is not right. Check the code in your authenticator app and try again.")
THROTTLED = N_("Too many unsuccessful attempts. Wait a little, then try again.")
# A right code whose time-step was already accepted (RFC 6238 §5.2: a code is accepted once).
CODE_USED = N_("This code has already been used: each code works once. Wait until your "
               "authenticator app shows the next code, then enter that one.")
# One answer for a wrong password, a wrong code and a spent code, so that a spent code cannot
# be used to test password guesses; it still tells the person what to do if they reused one.
WRONG_PASSWORD_OR_CODE = N_("The password or the code is not right. Each code works only once: "
                            "if you have just used this one, wait for the next code.")
CHALLENGE_DEAD = N_("This sign-in has expired or had too many wrong codes. Please sign in again.")


class MfaError(IdpError):
    status = 400


class WrongCode(MfaError):
    status = 401

    def __init__(self, message: str = WRONG_CODE) -> None:
        super().__init__("mfa.wrong_code", message, field="code")


class CodeAlreadyUsed(WrongCode):
    """The right code, but its time-step was already spent (a replay, or typed twice)."""

    def __init__(self) -> None:
        super().__init__(CODE_USED)


class MfaThrottled(MfaError):
    status = 429

    def __init__(self, retry_after: int) -> None:
        super().__init__("mfa.throttled", THROTTLED)
        self.retry_after = retry_after


class ChallengeDead(MfaError):
    def __init__(self) -> None:
        super().__init__("mfa.challenge_dead", CHALLENGE_DEAD)


class NotPending(MfaError):
    def __init__(self) -> None:
        super().__init__("mfa.not_pending", N_("There is no set-up in progress."))


def throttle_key(account_id: int) -> str:
    return f"mfa:{account_id}"


# --- credentials ---------------------------------------------------------------------------

def credential(account_id: int) -> TotpCredential | None:
    return db.session.scalar(select(TotpCredential).where(TotpCredential.account_id == account_id))


def is_enrolled(account_id: int) -> bool:
    found = credential(account_id)
    return found is not None and found.confirmed_at is not None


def _aad(account_id: int) -> bytes:
    return f"totp:{account_id}".encode()


def secret_of(found: TotpCredential) -> str:
    return crypto.unseal(found.secret_encrypted, aad=_aad(found.account_id)).decode()


def begin_enrolment(account: Account) -> TotpCredential:
    """A new pending secret (replacing any earlier pending one). Commits.

    Refused when a confirmed credential exists: that one is removed first, with re-authentication.
    """
    found = credential(account.id)
    if found is not None and found.confirmed_at is not None:
        raise MfaError("mfa.already_enrolled", N_("Two-step verification is already on."))
    secret = pyotp.random_base32()
    sealed = crypto.seal(secret.encode(), aad=_aad(account.id))
    if found is None:
        found = TotpCredential(account_id=account.id, secret_encrypted=sealed)
        db.session.add(found)
    else:
        found.secret_encrypted = sealed
        found.created_at = utcnow()
        found.last_used_step = None
    db.session.commit()
    return found


def pending(account_id: int) -> TotpCredential | None:
    found = credential(account_id)
    return found if found is not None and found.confirmed_at is None else None


def provisioning_uri(account: Account, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=display_phone(account.phone), issuer_name=ISSUER)


def grouped(secret: str) -> str:
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


# --- codes ---------------------------------------------------------------------------------

def _clean(code: str) -> str:
    text = unicodedata.normalize("NFKC", code or "")
    return "".join(ch for ch in text if not ch.isspace() and ch != "-").casefold()


def _is_totp_shape(cleaned: str) -> bool:
    return len(cleaned) == 6 and cleaned.isascii() and cleaned.isdigit()


def _is_recovery_shape(cleaned: str) -> bool:
    return len(cleaned) == 2 * RECOVERY_HALF and all(ch in RECOVERY_ALPHABET for ch in cleaned)


def matching_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The time-step (within ±VALID_WINDOW) whose code equals `code`, else None."""
    if not _is_totp_shape(code):
        return None
    totp = pyotp.TOTP(secret, interval=STEP_SECONDS)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    found = None
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            found = step
    return found


def _spend_totp(found: TotpCredential, code: str) -> bool:
    """Check `code` and claim its time-step; False if wrong. Raises CodeAlreadyUsed for the
    right code of a time-step already accepted (replay, or the same code typed again)."""
    step = matching_step(secret_of(found), code)
    if step is None:
        return False
    claimed = db.session.execute(
        update(TotpCredential)
        .where(TotpCredential.id == found.id,
               or_(TotpCredential.last_used_step.is_(None), TotpCredential.last_used_step < step))
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed == 1:
        found.last_used_step = step
        return True
    raise CodeAlreadyUsed()


def _spend_recovery_code(account_id: int, code: str) -> bool:
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.account_id == account_id,
                                   RecoveryCode.used_at.is_(None))
    ).all()
    for candidate in unused:
        if passwords.verify_password(candidate.code_hash, code):
            claimed = db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == candidate.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
            if claimed == 1:
                audit.record(AuditTag.ACCOUNT_RECOVERY_CODE_USE, account_id=account_id)
                return True
            return False
    return False


def check_second_factor(account_id: int, code: str) -> str | None:
    """'otp' or 'recovery' when `code` is a fresh TOTP code or an unused recovery code (and
    spends it, in the caller's transaction), else None. Raises CodeAlreadyUsed for a right
    TOTP code already accepted once, so that the person is told to wait for the next one
    rather than that the code is wrong. Not throttled: callers are (a replay counts)."""
    found = credential(account_id)
    if found is None or found.confirmed_at is None:
        return None
    cleaned = _clean(code)
    if _is_totp_shape(cleaned):
        return "otp" if _spend_totp(found, cleaned) else None
    if _is_recovery_shape(cleaned):
        return "recovery" if _spend_recovery_code(account_id, cleaned) else None
    return None


def new_recovery_codes(account_id: int) -> list[str]:
    """Replace the account's recovery codes with RECOVERY_CODE_COUNT new ones (caller commits)."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(2 * RECOVERY_HALF))
        codes.append(f"{raw[:RECOVERY_HALF]}-{raw[RECOVERY_HALF:]}")
        db.session.add(RecoveryCode(account_id=account_id, code_hash=passwords.hash_password(raw)))
    return codes


def check_code(account_id: int, code: str) -> tuple[str | None, WrongCode | None]:
    """check_second_factor as (method, None) or (None, the error to raise after recording
    the failure)."""
    try:
        method = check_second_factor(account_id, code)
    except CodeAlreadyUsed as used:
        return None, used
    return method, (None if method is not None else WrongCode())


def _failed_spend(found: TotpCredential, cleaned: str) -> WrongCode | None:
    try:
        return None if _spend_totp(found, cleaned) else WrongCode()
    except CodeAlreadyUsed as used:
        return used


def begin_attempt(account_id: int) -> login_throttle.Attempt:
    """Count a second-factor attempt against the per-account throttle, or raise MfaThrottled."""
    try:
        return login_throttle.begin(throttle_key(account_id))
    except login_throttle.Throttled as exc:
        raise MfaThrottled(exc.retry_after) from None


# --- enrolment and removal -----------------------------------------------------------------

def confirm_enrolment(account: Account, code: str) -> list[str]:
    """Activate the pending secret with a current code. Returns the recovery codes (show once).

    Commits. Raises NotPending, MfaThrottled or WrongCode (CodeAlreadyUsed)."""
    codes, attempt = activate_pending(account, code)
    db.session.commit()
    login_throttle.succeeded(attempt)
    return codes


def activate_pending(account: Account, code: str) -> tuple[list[str], login_throttle.Attempt]:
    """confirm_enrolment up to its commit (the caller commits, then marks `attempt` succeeded),
    so that a step-up can share its transaction (step_up.enrol_and_step_up). A failure is
    recorded and committed here before raising."""
    found = pending(account.id)
    if found is None:
        raise NotPending()
    attempt = begin_attempt(account.id)
    failure = _failed_spend(found, _clean(code))
    if failure is not None:
        audit.record(AuditTag.ACCOUNT_MFA_FAILURE, account_id=account.id, step="enrol")
        db.session.commit()
        raise failure
    claimed = db.session.execute(
        update(TotpCredential)
        .where(TotpCredential.id == found.id, TotpCredential.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise NotPending()
    codes = new_recovery_codes(account.id)
    audit.record(AuditTag.ACCOUNT_MFA_ENROL, account_id=account.id, method="totp")
    return codes, attempt


def remove(account: Account, password: str, code: str) -> None:
    """Turn TOTP off after a fresh password and second-factor check. Commits.

    Raises MfaThrottled or WrongCode (one message for either wrong input)."""
    attempt = begin_attempt(account.id)
    ok_password = account.password is not None and passwords.verify_password(
        account.password.hash, password)
    method, failure = check_code(account.id, code) if ok_password else (None, None)
    if not ok_password or method is None:
        db.session.rollback()  # nothing spent when the other half was wrong
        audit.record(AuditTag.ACCOUNT_MFA_FAILURE, account_id=account.id, step="remove")
        db.session.commit()
        raise WrongCode(WRONG_PASSWORD_OR_CODE)
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    db.session.execute(delete(TotpCredential).where(TotpCredential.account_id == account.id))
    audit.record(AuditTag.ACCOUNT_MFA_REMOVE, account_id=account.id, method="totp")
    db.session.commit()
    login_throttle.succeeded(attempt)
