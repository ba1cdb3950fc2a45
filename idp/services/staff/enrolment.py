"""Staff enrolment codes: the first TOTP set-up needs more than the first password.

The operator who creates a staff member (or resets their authenticator) gets a one-time
enrolment code, handed over by the supervisor in person and separately from the password.
Whoever holds only the initial password cannot set up TOTP, so cannot get a session: the
authenticator is bound to the person who also holds the code. A forced password change would
not do that (the first holder of the initial password would simply choose the new one).

Storage (no extra column): until TOTP is confirmed, `staff.totp_secret_encrypted` holds a
sealed *enrolment record* (aad "staff-enrolment:<id>", never the TOTP aad, so one can never be
read as the other): the code's HMAC, its expiry and, once the code was typed, the TOTP secret
being set up. Confirming the first TOTP code replaces it with the secret sealed under
"staff-totp:<id>" (staff.signin.confirm_enrolment); the code dies with it.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update

from idp.domain.errors import N_
from idp.extensions import db, rowcount
from idp.models import StaffMember
from idp.models.base import utcnow
from idp.services.platform import crypto, otp, totp

CODE_VALIDITY = timedelta(days=7)
MAX_CODE_LENGTH = 64
# No 0/O, 1/I/L: the code is read aloud or copied from paper.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_GROUPS = 2
GROUP_LENGTH = 5

WRONG_ENROLMENT_CODE = N_("This set-up code is not right, or it has expired. Check it, or ask "
                          "your supervisor for a new one.")


@dataclass(frozen=True)
class EnrolmentRecord:
    code_hash: str
    expires_at: datetime
    secret: str | None  # the TOTP secret being set up, once the code was typed

    def is_live(self, now: datetime | None = None) -> bool:
        return (now or utcnow()) < self.expires_at


def _aad(staff_id: int) -> bytes:
    return f"staff-enrolment:{staff_id}".encode()


def canonical(code: str) -> str:
    """Cleaned like a TOTP code (spaces and hyphens dropped), upper case: codes are copied by
    hand."""
    return totp.clean(code, MAX_CODE_LENGTH).upper()


def new_code() -> str:
    groups = ("".join(secrets.choice(CODE_ALPHABET) for _ in range(GROUP_LENGTH))
              for _ in range(CODE_GROUPS))
    return "-".join(groups)


def _seal(staff: StaffMember, record: EnrolmentRecord) -> bytes:
    payload = {"code": record.code_hash, "expires": record.expires_at.isoformat(),
               "secret": record.secret}
    return crypto.seal(json.dumps(payload).encode(), aad=_aad(staff.id))


def issue(staff: StaffMember, code: str | None = None) -> str:
    """Replace any authenticator or pending set-up of `staff` by a new enrolment code, valid
    CODE_VALIDITY; returns it (shown once, only its HMAC is kept). Caller's transaction.
    `code` fixes the code (the public demo staff only)."""
    code = code or new_code()
    record = EnrolmentRecord(code_hash=otp.secret_hash(canonical(code)),
                             expires_at=utcnow() + CODE_VALIDITY, secret=None)
    staff.totp_secret_encrypted = _seal(staff, record)
    staff.totp_confirmed_at = None
    staff.totp_last_used_step = None
    return code


def record_of(staff: StaffMember) -> EnrolmentRecord | None:
    """The enrolment record of a staff member without confirmed TOTP, or None (enrolled, or
    no code issued; a set-up begun before enrolment codes existed counts as none)."""
    if staff.totp_confirmed_at is not None or staff.totp_secret_encrypted is None:
        return None
    try:
        payload = json.loads(crypto.unseal(staff.totp_secret_encrypted, aad=_aad(staff.id)))
    except crypto.UnsealError:
        return None
    return EnrolmentRecord(code_hash=payload["code"],
                           expires_at=datetime.fromisoformat(payload["expires"]),
                           secret=payload["secret"])


def matches(staff: StaffMember, code: str) -> bool:
    """A live enrolment code of `staff` (constant-time comparison of the HMACs)."""
    record = record_of(staff)
    if record is None or not record.is_live():
        return False
    return hmac.compare_digest(record.code_hash, otp.secret_hash(canonical(code)))


def start_totp(staff: StaffMember) -> str | None:
    """After a right code: a fresh TOTP secret into the record (a second typing of the code
    replaces the first secret). Conditional on the record not having changed meanwhile;
    None if it did. Caller's transaction."""
    record = record_of(staff)
    if record is None:
        return None
    secret = totp.new_secret()
    updated = EnrolmentRecord(record.code_hash, record.expires_at, secret)
    claimed = rowcount(db.session.execute(
        update(StaffMember)
        .where(StaffMember.id == staff.id, StaffMember.totp_confirmed_at.is_(None),
               StaffMember.totp_secret_encrypted == staff.totp_secret_encrypted)
        .values(totp_secret_encrypted=_seal(staff, updated), totp_last_used_step=None)
        .execution_options(synchronize_session=False)
    ))
    if claimed != 1:
        return None
    db.session.expire(staff, ["totp_secret_encrypted", "totp_last_used_step"])
    return secret
