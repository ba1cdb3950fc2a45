"""Second factor (docs/architecture.md §7): TOTP (RFC 6238) with single-use recovery codes, and the sign-in
step that waits for it.

- The secret comes from a CSPRNG (platform.totp.new_secret), is sealed under the KEK with
  aad "totp:<account id>", and lives in the database from the first "Set up" click: a pending
  secret is never put in a cookie.
- A code is accepted within ±1 time-step (platform.totp, shared with staff sign-in), and only
  for a time-step later than the last one accepted (stored with a conditional UPDATE, so two
  concurrent uses of one code cannot both win). pyotp's verify() alone would accept the same
  code again within its window.
- Recovery codes: 10, shown once, stored argon2-hashed, spent with a conditional UPDATE.
- Failures are throttled per account (platform.throttle key "mfa:<account id>") and a pending
  sign-in dies after MAX_CHALLENGE_ATTEMPTS wrong codes.
- The step-up of a signed-in session reuses these checks: idp/services/identity/step_up.py; the
  pending sign-in that waits for the second factor lives in idp/services/identity/mfa_challenge.py.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import delete, or_, select, update

from idp.domain.errors import N_
from idp.domain.phone import display_phone
from idp.errors import Refusal
from idp.extensions import db, rowcount
from idp.models import Account, AuditTag
from idp.models.base import utcnow
from idp.models.mfa import RecoveryCode, TotpCredential
from idp.services.platform import audit, crypto, metrics, passwords, throttle, totp
from idp.services.platform.failures import fail

CHALLENGE_LIFETIME = timedelta(minutes=5)
MAX_CHALLENGE_ATTEMPTS = 5
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: a code read off paper is typed right the first time.
RECOVERY_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
RECOVERY_HALF = 4
MAX_CODE_LENGTH = totp.MAX_CODE_LENGTH

# One answer for a wrong password, a wrong code and a spent code, so that a spent code cannot
# be used to test password guesses; it still tells the person what to do if they reused one.
WRONG_PASSWORD_OR_CODE = N_("The password or the code is not right. Each code works only once: "
                            "if you have just used this one, wait for the next code.")
CHALLENGE_DEAD = N_("This sign-in has expired or had too many wrong codes. Please sign in again.")
NOT_PENDING = N_("There is no set-up in progress.")


# Refusals (idp.errors.Refusal) by code: "mfa.wrong_code" and "mfa.code_used" (401, the right
# code of a time-step already accepted: a replay, or typed twice), "mfa.challenge_dead" (the
# pending sign-in is over), "mfa.not_pending" (no set-up to confirm), "mfa.already_enrolled".

def wrong_code(message: str = totp.WRONG_CODE) -> Refusal:
    return Refusal("mfa.wrong_code", message, status=401, field="code")


def code_used() -> Refusal:
    return Refusal("mfa.code_used", totp.CODE_USED, status=401, field="code")


def challenge_dead() -> Refusal:
    return Refusal("mfa.challenge_dead", CHALLENGE_DEAD)


def not_pending() -> Refusal:
    return Refusal("mfa.not_pending", NOT_PENDING)


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
        raise Refusal("mfa.already_enrolled", N_("Two-step verification is already on."))
    secret = totp.new_secret()
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
    return totp.provisioning_uri(secret, display_phone(account.own_phone))


# --- codes ---------------------------------------------------------------------------------

def _clean(code: str) -> str:
    """totp.clean, case-folded: recovery codes are letters, typed in either case."""
    return totp.clean(code).casefold()


def _is_recovery_shape(cleaned: str) -> bool:
    return len(cleaned) == 2 * RECOVERY_HALF and all(ch in RECOVERY_ALPHABET for ch in cleaned)


def code_kind(code: str) -> metrics.MfaMethod:
    """What a typed code was meant to be, by its shape: for the metrics of failures."""
    cleaned = _clean(code or "")
    if totp.is_code_shape(cleaned):
        return "totp"
    return "recovery_code" if _is_recovery_shape(cleaned) else "malformed"


def _spend_totp(found: TotpCredential, code: str) -> bool:
    """Check `code` and claim its time-step; False if wrong. Raises the "mfa.code_used"
    refusal for the right code of a time-step already accepted (replay, or typed again)."""
    step = totp.matching_step(secret_of(found), code)
    if step is None:
        return False
    claimed = rowcount(db.session.execute(
        update(TotpCredential)
        .where(TotpCredential.id == found.id,
               or_(TotpCredential.last_used_step.is_(None), TotpCredential.last_used_step < step))
        .values(last_used_step=step)
        .execution_options(synchronize_session=False)
    ))
    if claimed == 1:
        found.last_used_step = step
        return True
    raise code_used()


def _spend_recovery_code(account_id: int, code: str) -> bool:
    unused = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.account_id == account_id,
                                   RecoveryCode.used_at.is_(None))
    ).all()
    for candidate in unused:
        if passwords.verify_password(candidate.code_hash, code):
            claimed = rowcount(db.session.execute(
                update(RecoveryCode)
                .where(RecoveryCode.id == candidate.id, RecoveryCode.used_at.is_(None))
                .values(used_at=utcnow())
                .execution_options(synchronize_session=False)
            ))
            if claimed == 1:
                audit.record(AuditTag.ACCOUNT_RECOVERY_CODE_USE, account_id=account_id)
                return True
            return False
    return False


def check_second_factor(account_id: int, code: str) -> str | None:
    """'otp' or 'recovery' when `code` is a fresh TOTP code or an unused recovery code (and
    spends it, in the caller's transaction), else None. Raises "mfa.code_used" for a right
    TOTP code already accepted once, so that the person is told to wait for the next one
    rather than that the code is wrong. Not throttled: callers are (a replay counts)."""
    found = credential(account_id)
    if found is None or found.confirmed_at is None:
        return None
    cleaned = _clean(code)
    if totp.is_code_shape(cleaned):
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


def check_code(account_id: int, code: str) -> tuple[str | None, Refusal | None]:
    """check_second_factor as (method, None) or (None, the refusal to raise after recording
    the failure)."""
    try:
        method = check_second_factor(account_id, code)
    except Refusal as used:
        return None, used
    return method, (None if method is not None else wrong_code())


def _failed_spend(found: TotpCredential, cleaned: str) -> Refusal | None:
    try:
        return None if _spend_totp(found, cleaned) else wrong_code()
    except Refusal as used:
        return used


def begin_attempt(account_id: int) -> throttle.Attempt:
    """Count a second-factor attempt against the per-account throttle, or raise Throttled."""
    return throttle.begin(throttle_key(account_id))


# --- enrolment and removal -----------------------------------------------------------------

def confirm_enrolment(account: Account, code: str) -> list[str]:
    """Activate the pending secret with a current code. Returns the recovery codes (show once).

    Commits. Raises Throttled or a Refusal: mfa.not_pending, mfa.wrong_code, mfa.code_used."""
    codes, attempt = activate_pending(account, code)
    db.session.commit()
    throttle.succeeded(attempt)
    return codes


def activate_pending(account: Account, code: str) -> tuple[list[str], throttle.Attempt]:
    """confirm_enrolment up to its commit (the caller commits, then marks `attempt` succeeded),
    so that a step-up can share its transaction (step_up.enrol_and_step_up). A failure is
    recorded and committed here before raising."""
    found = pending(account.id)
    if found is None:
        raise not_pending()
    attempt = begin_attempt(account.id)
    failure = _failed_spend(found, _clean(code))
    if failure is not None:
        metrics.mfa_failure("citizen", "enrol", code_kind(code))
        fail(failure, AuditTag.ACCOUNT_MFA_FAILURE, account_id=account.id, step="enrol")
    claimed = rowcount(db.session.execute(
        update(TotpCredential)
        .where(TotpCredential.id == found.id, TotpCredential.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
        .execution_options(synchronize_session=False)
    ))
    if claimed != 1:
        db.session.rollback()
        raise not_pending()
    codes = new_recovery_codes(account.id)
    audit.record(AuditTag.ACCOUNT_MFA_ENROL, account_id=account.id, method="totp")
    return codes, attempt


def remove(account: Account, password: str, code: str) -> None:
    """Turn TOTP off after a fresh password and second-factor check. Commits.

    Raises Throttled or mfa.wrong_code (one message for either wrong input)."""
    attempt = begin_attempt(account.id)
    ok_password = account.password is not None and passwords.verify_password(
        account.password.hash, password)
    method, failure = check_code(account.id, code) if ok_password else (None, None)
    if not ok_password or method is None:
        # Nothing spent when the other half was wrong.
        metrics.mfa_failure("citizen", "remove", code_kind(code))
        fail(wrong_code(WRONG_PASSWORD_OR_CODE), AuditTag.ACCOUNT_MFA_FAILURE, discard=True,
             account_id=account.id, step="remove")
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
    db.session.execute(delete(TotpCredential).where(TotpCredential.account_id == account.id))
    audit.record(AuditTag.ACCOUNT_MFA_REMOVE, account_id=account.id, method="totp")
    db.session.commit()
    throttle.succeeded(attempt)
