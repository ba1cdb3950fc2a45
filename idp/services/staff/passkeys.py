"""A staff member's passkeys (docs/architecture.md §8): adding one at /counter/security, the list,
removing one, and the office setting that requires them. The WebAuthn work is
platform.passkey_core's (py_webauthn); the passkey on the console's second step is
staff.passkey_sign_in.

- Adding and removing need a second factor proven in this staff session in the last
  RECENT_PROOF (the TOTP code or passkey of the sign-in): a console left open for hours cannot
  add a way in.
- An office that requires passkeys keeps its staff's last one: removing it is refused.
- Refusals (idp.errors.Refusal), by code in REFUSALS.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from idp.domain.errors import N_
from idp.errors import Refusal
from idp.extensions import db, rowcount
from idp.models import AuditTag, StaffMember, StaffSession
from idp.models.base import utcnow
from idp.models.passkey import MAX_PASSKEY_NAME, CeremonyPurpose, Passkey
from idp.services.platform import audit, passkey_core
from idp.services.platform.failures import fail
from idp.services.staff import sessions as staff_sessions
from idp.services.staff.admin import MSG_UNKNOWN_STAFF, NotFound, find_staff

RECENT_PROOF = timedelta(minutes=15)
MAX_PASSKEYS = 10

REFUSALS = {
    "staff.passkey_failed": (N_("The passkey could not be checked. Please try again."), 400),
    "staff.passkey_unavailable": (N_("Passkeys cannot be used at this address."), 404),
    "staff.passkey_reauthenticate": (
        N_("For your security, sign in again before you change your passkeys."), 403),
    "staff.passkey_unknown": (N_("This passkey is not one of yours."), 404),
    "staff.passkey_too_many": (
        N_("You have the largest number of passkeys allowed. Remove one first."), 400),
    "staff.passkey_last": (
        N_("Your post office requires a passkey: add another before you remove this one."), 409),
    # The office requires passkeys and the staff member has one: a TOTP code is not enough.
    "staff.passkey_required": (
        N_("Your post office requires a passkey to sign in. Use your passkey."), 403),
}


def refusal(code: str) -> Refusal:
    message, status = REFUSALS[code]
    return Refusal(code, message, status=status)


def available() -> bool:
    return passkey_core.available()


def require_available() -> None:
    if not passkey_core.available():
        raise refusal("staff.passkey_unavailable")


def of_staff(staff_id: int) -> list[Passkey]:
    return list(db.session.scalars(select(Passkey).where(Passkey.staff_id == staff_id)
                                   .order_by(Passkey.created_at, Passkey.id)))


def has_passkey(staff_id: int) -> bool:
    return db.session.scalar(select(Passkey.id).where(Passkey.staff_id == staff_id).limit(1)) \
        is not None


def must_add(staff: StaffMember) -> bool:
    """The office requires passkeys and this staff member has none: the console shows only
    the security page until one is added."""
    return staff.office.passkeys_required and not has_passkey(staff.id)


def recently_proven(session: StaffSession) -> bool:
    verified = session.mfa_verified_at
    return verified is not None and utcnow() - verified <= RECENT_PROOF


def _require_recent(session: StaffSession) -> None:
    if not recently_proven(session):
        raise refusal("staff.passkey_reauthenticate")


def _user_handle(staff_id: int) -> bytes:
    found = db.session.scalar(select(Passkey.user_handle).where(Passkey.staff_id == staff_id)
                              .limit(1))
    return found or passkey_core.new_user_handle()


def begin_registration(session: StaffSession) -> tuple[str, dict[str, object]]:
    """Creation options for a new passkey of the session's staff member, and the ceremony's
    handle. Commits. Raises staff.passkey_unavailable or staff.passkey_reauthenticate."""
    require_available()
    _require_recent(session)
    staff = session.staff
    handle_bytes = _user_handle(staff.id)
    handle, challenge = passkey_core.begin(CeremonyPurpose.REGISTER, staff_session_id=session.id,
                                           user_handle=handle_bytes)
    # The authenticator's account chooser shows the username at the office, never the ID number.
    label = f"{staff.username}@{staff.office.code}"
    options = passkey_core.registration_options(
        challenge, user_handle=handle_bytes, user_name=label, display_name=staff.full_name,
        existing=of_staff(staff.id))
    db.session.commit()
    return handle, options


def clean_name(name: object) -> str:
    text = " ".join(name.split()) if isinstance(name, str) else ""
    return "".join(ch for ch in text if ch.isprintable())[:MAX_PASSKEY_NAME]


def finish_registration(session: StaffSession, handle: object, credential: object,
                        name: object) -> Passkey:
    """Verify the authenticator's answer and store the passkey. Commits; a failure is audited
    (staff.mfa.failure, step "enrol") and spends the ceremony. Raises a Refusal:
    staff.passkey_reauthenticate, staff.passkey_too_many, staff.passkey_failed."""
    _require_recent(session)
    staff = session.staff
    if len(of_staff(staff.id)) >= MAX_PASSKEYS:
        raise refusal("staff.passkey_too_many")
    event: dict[str, Any] = {"staff_id": staff.id, "office_id": staff.office_id, "channel": "web",
             "step": "enrol", "method": "passkey"}
    try:
        ceremony = passkey_core.take(handle, CeremonyPurpose.REGISTER, staff_session_id=session.id)
        new = passkey_core.verify_registration(credential, ceremony.challenge)
    except passkey_core.CeremonyFailed as error:
        fail(refusal("staff.passkey_failed"), AuditTag.STAFF_MFA_FAILURE, reason=error.reason,
             **event)
    if db.session.scalar(select(Passkey.id).where(Passkey.credential_id == new.credential_id)):
        fail(refusal("staff.passkey_failed"), AuditTag.STAFF_MFA_FAILURE,
             reason="known_credential", **event)
    assert ceremony.user_handle is not None
    passkey = Passkey(
        staff_id=staff.id, credential_id=new.credential_id, user_handle=ceremony.user_handle,
        public_key=new.public_key, sign_count=new.sign_count, transports=new.transports,
        aaguid=new.aaguid, backup_eligible=new.backup_eligible, backed_up=new.backed_up,
        user_verified=new.user_verified,
        # Stored, so not translated: the owner chooses it.
        name=clean_name(name) or ("Passkey (synced)" if new.backup_eligible else "Passkey"))
    db.session.add(passkey)
    db.session.flush()
    audit.record(AuditTag.STAFF_MFA_ENROL, staff_id=staff.id, office_id=staff.office_id,
                 channel="web", method="passkey", passkey_id=passkey.id)
    db.session.commit()
    return passkey


def remove(session: StaffSession, passkey_id: int) -> None:
    """Remove one of the staff member's passkeys, in a session that proved a second factor
    recently; never the last one when the office requires passkeys (TOTP stays either way).
    Commits. Raises staff.passkey_unknown, staff.passkey_reauthenticate, staff.passkey_last."""
    staff = session.staff
    found = db.session.get(Passkey, passkey_id)
    if found is None or found.staff_id != staff.id:
        raise refusal("staff.passkey_unknown")
    _require_recent(session)
    # Two removals at once must not both see a second passkey: one waits for the other.
    db.session.execute(select(StaffMember.id).where(StaffMember.id == staff.id).with_for_update())
    if staff.office.passkeys_required and len(of_staff(staff.id)) <= 1:
        raise refusal("staff.passkey_last")
    db.session.execute(delete(Passkey).where(Passkey.id == found.id))
    audit.record(AuditTag.STAFF_MFA_REMOVE, staff_id=staff.id, office_id=staff.office_id,
                 channel="web", method="passkey", passkey_id=passkey_id)
    db.session.commit()


def remove_all(username: str, *, channel: str = "cli") -> tuple[StaffMember, int]:
    """The operator's way out of a lost passkey (`idp staff remove-passkeys`): remove every
    passkey of the staff member and end their sessions. Their TOTP stays; in an office that
    requires passkeys the next sign-in, with a code, leads to adding a new one first. One
    transaction, audited as staff.mfa.remove. Raises NotFound (`staff.unknown`)."""
    staff = find_staff(username)
    if staff is None:
        raise NotFound("staff.unknown", MSG_UNKNOWN_STAFF, field="username")
    removed = rowcount(db.session.execute(delete(Passkey).where(Passkey.staff_id == staff.id)))
    ended = staff_sessions.end_staff_sessions(staff.id)
    audit.record(AuditTag.STAFF_MFA_REMOVE, staff_id=staff.id, office_id=staff.office_id,
                 channel=channel, method="passkey", passkeys_removed=removed,
                 sessions_ended=ended)
    db.session.commit()
    return staff, removed
