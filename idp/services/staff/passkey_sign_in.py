"""A passkey as the console's second step (docs/architecture.md §8), next to the TOTP code.

The pending web session that the right password opened accepts a passkey of its staff member;
a right answer completes the step exactly as a code does (staff.signin.verified_session: a new
token, mfa_verified_at, staff.login.success with method "passkey"). User verification is
preferred, not required: the password is the other factor. A failure spends the ceremony, is
audited as staff.mfa.failure (method "passkey", with its reason) and counts in the same
throttle as wrong codes ("staff:mfa:"), so passkey answers buy no extra guesses.

The terminal API stays TOTP-only: a terminal cannot run WebAuthn in the PostID origin. An
office that requires passkeys therefore closes the API to its staff (staff.signin).
"""

from __future__ import annotations

from sqlalchemy import select

from idp.extensions import db
from idp.models import AuditTag, StaffSession
from idp.models.passkey import CeremonyPurpose, Passkey
from idp.services.platform import metrics, passkey_core, throttle
from idp.services.platform.failures import fail
from idp.services.staff import sessions, signin
from idp.services.staff.passkeys import of_staff, refusal, require_available


def _require_pending(pending: StaffSession) -> None:
    if pending.mfa_verified_at is not None or pending.staff.totp_confirmed_at is None:
        raise signin.refusal("staff.mfa_not_pending")


def begin_second_factor(pending: StaffSession) -> tuple[str, dict[str, object]]:
    """Request options naming the staff member's passkeys, bound to the pending session, and
    the ceremony's handle. Commits. Raises staff.passkey_unavailable, staff.mfa_not_pending or
    staff.passkey_failed (no passkey)."""
    require_available()
    _require_pending(pending)
    allowed = of_staff(pending.staff_id)
    if not allowed:
        raise refusal("staff.passkey_failed")
    handle, challenge = passkey_core.begin(CeremonyPurpose.SECOND_FACTOR,
                                           staff_session_id=pending.id)
    options = passkey_core.authentication_options(challenge, allowed=allowed,
                                                  user_verification=False)
    db.session.commit()
    return handle, options


def _named_passkey(credential: object, staff_id: int) -> Passkey:
    named = passkey_core.read_assertion(credential)
    found = db.session.scalar(select(Passkey).where(Passkey.credential_id == named.credential_id,
                                                    Passkey.staff_id == staff_id))
    if found is None:
        raise passkey_core.CeremonyFailed("unknown_passkey")
    return found


def finish_second_factor(pending: StaffSession, handle: object, credential: object
                         ) -> sessions.NewStaffSession:
    """Complete the console sign-in with a passkey. Commits. Raises Throttled or a refusal:
    staff.mfa_not_pending, staff.passkey_failed (counted and audited like a wrong code)."""
    _require_pending(pending)
    staff = pending.staff
    attempt = throttle.begin(signin.mfa_key(staff.id))
    try:
        ceremony = passkey_core.take(handle, CeremonyPurpose.SECOND_FACTOR,
                                     staff_session_id=pending.id)
        passkey = _named_passkey(credential, staff.id)
        passkey_core.verify_assertion(credential, ceremony.challenge, passkey,
                                      require_user_verification=False)
    except passkey_core.CeremonyFailed as error:
        metrics.sign_in("staff", "second_factor_failed")
        # The spent ceremony is kept with the event: a replayed answer finds it spent.
        fail(refusal("staff.passkey_failed"), AuditTag.STAFF_MFA_FAILURE, staff_id=staff.id,
             office_id=staff.office_id, channel="web", step="sign_in", method="passkey",
             reason=error.reason)
    new = signin.verified_session(pending, method="passkey")
    db.session.commit()
    throttle.succeeded(attempt)
    metrics.sign_in("staff", "success")
    return new
