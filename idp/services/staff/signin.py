"""Staff sign-in (docs/architecture.md §8: staff accounts require TOTP): password, then TOTP,
then a session.

- Console: the password opens a *pending* web session (it may only do the TOTP step); a staff
  member without a confirmed TOTP must first type the enrolment code their supervisor handed
  over (staff.enrolment: the initial password alone never sets up TOTP), which stores a
  fresh secret, sealed under the KEK, before any QR is shown (never in a cookie); they must
  confirm it before anything else. A correct code ends the pending session and opens a verified one:
  a new token whenever the privilege level changes (OWASP session management).
- Terminal API: username, password and code in one request; one generic failure.
- Codes (platform.totp, as for citizens): ±1 time-step, and only a step later than the last
  one accepted (conditional UPDATE on totp_last_used_step: two concurrent uses of one code
  cannot both win).
- Throttling (platform.throttle, progressive delay): the password is counted per username under
  "staff:login:" before argon2 runs; codes per staff member under "staff:mfa:", on both
  channels, so a password success on one channel never buys code guesses on the other.
"""

from __future__ import annotations

import unicodedata
from typing import NoReturn

from sqlalchemy import or_, update

from idp.domain.errors import N_
from idp.errors import IdpError, Refusal, Throttled
from idp.extensions import db, rowcount
from idp.models import AuditTag, StaffMember, StaffSession
from idp.models.base import utcnow
from idp.services.platform import audit, crypto, metrics, passwords, qr, throttle, totp
from idp.services.platform.failures import fail
from idp.services.staff import enrolment as staff_enrolment
from idp.services.staff import passkeys as staff_passkeys
from idp.services.staff import sessions
from idp.services.staff.admin import find_staff, normalize_username

MAX_USERNAME_LENGTH = 64
MAX_PASSWORD_LENGTH = 1024
MAX_CODE_LENGTH = totp.MAX_CODE_LENGTH

SIGN_IN_FAILED = N_("The username or password is not right. Please try again.")
ENROLMENT_REQUIRED = N_("Set up the authenticator app in the counter console first.")
NOT_PENDING = N_("This sign-in has ended. Please sign in again.")

# The refusals (idp.errors.Refusal) by code: message, HTTP status, the field at fault.
REFUSALS = {
    "staff.login_failed": (SIGN_IN_FAILED, 401, None),
    "staff.mfa_wrong_code": (totp.WRONG_CODE, 401, "code"),
    # The right code of a time-step already accepted: "wait for the next", as for citizens.
    "staff.mfa_code_used": (totp.CODE_USED, 401, "code"),
    "staff.wrong_enrolment_code": (staff_enrolment.WRONG_ENROLMENT_CODE, 401, "code"),
    "staff.totp_enrolment_required": (ENROLMENT_REQUIRED, 403, None),
    # The pending session ended, or the TOTP state changed under it: sign in again.
    "staff.mfa_not_pending": (NOT_PENDING, 400, None),
}


# The audit event's failure reason, as the sign-in metric's result.
SIGN_IN_RESULTS: dict[str, metrics.SignInResult] = {
    "unknown_user": "unknown_account", "password": "wrong_password", "disabled": "not_active"}


def refusal(code: str) -> Refusal:
    message, status, field = REFUSALS[code]
    return Refusal(code, message, status=status, field=field)


def login_key(username: str) -> str:
    """Per username (every spelling of one username is one key), known or not."""
    try:
        return "staff:login:" + normalize_username(username)
    except IdpError:
        raw = unicodedata.normalize("NFKC", (username or "")[:256])
        return "staff:login:raw:" + "".join(raw.split()).casefold()[:64]


def mfa_key(staff_id: int) -> str:
    return f"staff:mfa:{staff_id}"


STAFF_MFA_STEPS: dict[str, metrics.MfaStep] = {
    "sign_in": "sign_in", "enrol": "enrol", "enrolment_code": "enrolment_code"}


def _aad(staff_id: int) -> bytes:
    return f"staff-totp:{staff_id}".encode()


# --- password ------------------------------------------------------------------------------

def _check_password(username: str, password: str, *, channel: str
                    ) -> tuple[StaffMember, throttle.Attempt]:
    """Throttle, then check; the right password of an active staff member, or raise (and
    record) "staff.login_failed" / Throttled. Same work for unknown usernames (argon2 is
    spent)."""
    staff = find_staff(username) if len(username or "") <= MAX_USERNAME_LENGTH else None
    try:
        attempt = throttle.begin(login_key(username))
    except Throttled as refused:
        metrics.sign_in("staff", "throttled")
        fail(refused, AuditTag.STAFF_LOGIN_FAILURE, staff_id=staff.id if staff else None,
             office_id=staff.office_id if staff else None, channel=channel, reason="throttled")
    if staff is None:
        passwords.spend_verification_time(password)
        ok, reason = False, "unknown_user"
    else:
        ok = passwords.verify_password(staff.password_hash, password)
        reason = "password" if not ok else "disabled" if not staff.is_active else ""
    if not ok or staff is None or not staff.is_active:
        metrics.sign_in("staff", SIGN_IN_RESULTS[reason])
        fail(refusal("staff.login_failed"), AuditTag.STAFF_LOGIN_FAILURE,
             staff_id=staff.id if staff else None, office_id=staff.office_id if staff else None,
             channel=channel, reason=reason)
    if passwords.needs_rehash(staff.password_hash):
        staff.password_hash = passwords.hash_password(password)
    return staff, attempt


def sign_in_password(username: str, password: str, *, previous: StaffSession | None = None
                     ) -> sessions.NewStaffSession:
    """Console step 1: open a pending web session (TOTP still to do). Commits.

    `previous` (the browser's earlier session, if any) is ended: every sign-in gets a new
    token. Raises Throttled (no password check was made) or "staff.login_failed" (unknown
    username, wrong password or disabled: indistinguishable on purpose).
    """
    staff, attempt = _check_password(username, password, channel="web")
    if previous is not None:
        sessions.end_staff_session(previous)
    new = sessions.open_staff_session(staff, channel="web")
    db.session.commit()
    throttle.succeeded(attempt)  # the password was right; codes have their own count
    metrics.sign_in("staff", "second_factor_required")
    return new


# --- TOTP ----------------------------------------------------------------------------------

def secret_of(staff: StaffMember) -> str | None:
    """The staff member's TOTP secret (set up, or being set up after the enrolment code was
    typed), or None."""
    return pending_secret(staff) if staff.totp_confirmed_at is None else _secret(staff)


def _secret(staff: StaffMember) -> str:
    """The confirmed TOTP secret."""
    return crypto.unseal(staff.totp_secret_encrypted or b"", aad=_aad(staff.id)).decode()


def pending_secret(staff: StaffMember) -> str | None:
    """The secret being set up (enrolment code typed, still valid, not confirmed), or None."""
    record = staff_enrolment.record_of(staff)
    return record.secret if record is not None and record.is_live() else None


def redeem_enrolment_code(pending: StaffSession, code: str) -> str:
    """Console, first sign-in: check the enrolment code and start setting up TOTP; returns the
    new secret (for the QR). Commits. Counted with the TOTP codes (one guess budget).

    Raises "staff.mfa_not_pending" (already enrolled, or the session is past this step),
    Throttled or "staff.wrong_enrolment_code" (audited as staff.mfa.failure, step
    "enrolment_code").
    """
    staff = pending.staff
    if staff.totp_confirmed_at is not None or pending.mfa_verified_at is not None:
        raise refusal("staff.mfa_not_pending")
    attempt = throttle.begin(mfa_key(staff.id))
    if not staff_enrolment.matches(staff, code):
        _fail_code("staff.wrong_enrolment_code", staff, channel="web", step="enrolment_code")
    secret = staff_enrolment.start_totp(staff)
    if secret is None:
        db.session.rollback()
        raise refusal("staff.mfa_not_pending")
    db.session.commit()
    throttle.succeeded(attempt)
    return secret


def provisioning_qr(staff: StaffMember, secret: str) -> str:
    """The otpauth URI as an inline SVG data: URI (CSP allows img-src data:)."""
    label = f"{staff.username}@{staff.office.code}"
    return qr.svg_data_uri(totp.provisioning_uri(secret, label))


def _spend_code(staff: StaffMember, secret: str, code: str, *, channel: str, step: str,
                refused_as: str | None = None) -> None:
    """Check `code` and claim its time-step (caller's transaction). Else the attempt fails:
    only its audit event is kept, and `refused_as` is raised (one answer for every failure)
    or what went wrong: a wrong code, or a right one whose time-step was already spent."""
    found = totp.matching_step(secret, totp.clean(code))
    if found is not None and rowcount(db.session.execute(
        update(StaffMember)
        .where(StaffMember.id == staff.id,
               StaffMember.totp_secret_encrypted == staff.totp_secret_encrypted,
               or_(StaffMember.totp_last_used_step.is_(None),
                   StaffMember.totp_last_used_step < found))
        .values(totp_last_used_step=found)
        .execution_options(synchronize_session=False)
    )) == 1:
        return
    last = staff.totp_last_used_step
    used = found is not None and last is not None and last >= found
    _fail_code(refused_as or ("staff.mfa_code_used" if used else "staff.mfa_wrong_code"), staff,
               channel=channel, step=step)


def _fail_code(code: str, staff: StaffMember, *, channel: str, step: str) -> NoReturn:
    """Nothing of this attempt is kept but its audit event."""
    metrics.sign_in("staff", "second_factor_failed")
    metrics.mfa_failure("staff", STAFF_MFA_STEPS[step],
                        "enrolment_code" if step == "enrolment_code" else "totp")
    fail(refusal(code), AuditTag.STAFF_MFA_FAILURE, discard=True, staff_id=staff.id,
         office_id=staff.office_id, channel=channel, step=step)


def verified_session(pending: StaffSession, *, method: str) -> sessions.NewStaffSession:
    """End the pending session and open a verified one with a new token (caller commits):
    after a TOTP code or a passkey (staff.passkey_sign_in), `method` in the audit event."""
    if not sessions.end_staff_session(pending):
        raise refusal("staff.mfa_not_pending")
    new = sessions.open_staff_session(pending.staff, channel=pending.channel,
                                            mfa_verified=True)
    new.session.created_at = pending.created_at  # the absolute timeout runs from sign-in
    db.session.flush()
    audit.record(AuditTag.STAFF_LOGIN_SUCCESS, staff_id=pending.staff_id,
                 office_id=pending.staff.office_id, channel=pending.channel,
                 staff_session_id=new.session.id, method=method)
    return new


def confirm_enrolment(pending: StaffSession, code: str) -> sessions.NewStaffSession:
    """Console: confirm the pending secret with a current code; the sign-in is complete.

    Commits. Raises Throttled or a refusal: "staff.mfa_not_pending" (nothing to confirm, or
    the session ended), a wrong or used code. Audited as staff.mfa.enrol and
    staff.login.success (staff.mfa.failure).
    """
    staff = pending.staff
    secret = pending_secret(staff)
    if secret is None or pending.mfa_verified_at is not None:
        raise refusal("staff.mfa_not_pending")
    attempt = throttle.begin(mfa_key(staff.id))
    _spend_code(staff, secret, code, channel="web", step="enrol")
    claimed = rowcount(db.session.execute(
        update(StaffMember)
        .where(StaffMember.id == staff.id, StaffMember.totp_confirmed_at.is_(None),
               StaffMember.totp_secret_encrypted == staff.totp_secret_encrypted)
        # The enrolment record (and its code) gives way to the secret alone.
        .values(totp_confirmed_at=utcnow(),
                totp_secret_encrypted=crypto.seal(secret.encode(), aad=_aad(staff.id)))
        .execution_options(synchronize_session=False)
    ))
    if claimed != 1:
        db.session.rollback()
        raise refusal("staff.mfa_not_pending")
    audit.record(AuditTag.STAFF_MFA_ENROL, staff_id=staff.id, office_id=staff.office_id,
                 channel="web", method="totp")
    new = verified_session(pending, method="totp")
    db.session.commit()
    throttle.succeeded(attempt)
    metrics.sign_in("staff", "success")
    return new


def verify_code(pending: StaffSession, code: str) -> sessions.NewStaffSession:
    """Console step 2: check a TOTP code for a pending session; the sign-in is complete.

    Commits. Raises Throttled or a refusal: "staff.mfa_not_pending", a wrong or used code
    (audited as staff.mfa.failure), "staff.passkey_required" (the office requires passkeys and
    the staff member has one: staff.passkey_sign_in; one without passkeys signs in with the
    code and must add one before anything else, idp/web/counter/guard.py).
    """
    staff = pending.staff
    if staff.totp_confirmed_at is None or pending.mfa_verified_at is not None:
        raise refusal("staff.mfa_not_pending")
    if staff.office.passkeys_required and staff_passkeys.has_passkey(staff.id):
        # The code is not even checked: it would prove nothing the office accepts.
        fail(staff_passkeys.refusal("staff.passkey_required"), AuditTag.STAFF_MFA_FAILURE,
             staff_id=staff.id, office_id=staff.office_id, channel="web", step="sign_in",
             method="totp", reason="passkey_required")
    attempt = throttle.begin(mfa_key(staff.id))
    _spend_code(staff, _secret(staff), code, channel="web", step="sign_in")
    new = verified_session(pending, method="totp")
    db.session.commit()
    throttle.succeeded(attempt)
    metrics.sign_in("staff", "success")
    return new


def api_sign_in(username: str, password: str, code: str) -> sessions.NewStaffSession:
    """Terminal sign-in: password and code in one request; a verified api session. Commits.

    Raises Throttled, "staff.login_failed" (wrong username, password or code, or disabled:
    one answer) or "staff.totp_enrolment_required" (403: right password, TOTP never set up:
    use the console).
    """
    staff, attempt = _check_password(username, password, channel="api")
    if staff.totp_confirmed_at is None:
        db.session.commit()  # a rehash, if any
        throttle.succeeded(attempt)
        metrics.sign_in("staff", "second_factor_required")
        raise refusal("staff.totp_enrolment_required")
    if staff.office.passkeys_required:
        # A terminal cannot run WebAuthn: an office that requires passkeys uses the console.
        db.session.commit()
        throttle.succeeded(attempt)
        metrics.sign_in("staff", "second_factor_required")
        raise staff_passkeys.refusal("staff.passkey_required")
    code_attempt = throttle.begin(mfa_key(staff.id))
    _spend_code(staff, _secret(staff), code, channel="api", step="sign_in",
                refused_as="staff.login_failed")
    new = sessions.open_staff_session(staff, channel="api", mfa_verified=True)
    db.session.flush()
    audit.record(AuditTag.STAFF_LOGIN_SUCCESS, staff_id=staff.id, office_id=staff.office_id,
                 channel="api", staff_session_id=new.session.id)
    db.session.commit()
    throttle.succeeded(attempt)
    throttle.succeeded(code_attempt)
    metrics.sign_in("staff", "success")
    return new


def sign_out(session: StaffSession) -> None:
    """End one session (console or terminal). Commits. Audited as staff.logout."""
    if sessions.end_staff_session(session):
        audit.record(AuditTag.STAFF_LOGOUT, staff_id=session.staff_id,
                     office_id=session.staff.office_id, channel=session.channel,
                     staff_session_id=session.id)
    db.session.commit()
