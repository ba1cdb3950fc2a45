"""Counter staff administration (docs/architecture.md §8): create, disable, list.

Staff are created by the operator (`idp staff create`) with a password they are given and a
one-time enrolment code that their supervisor hands over separately; with both they set up
TOTP themselves at their first console sign-in (staff.enrolment, staff.signin). A staff
member's own 12-digit ID number is kept so that nobody can act on their own citizen account.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from idp.domain import names
from idp.domain.errors import N_, DomainError
from idp.domain.national_id import decode_national_id
from idp.domain.password_policy import SERVICE_WORDS, check_password
from idp.errors import Conflict, IdpError, InvalidInput
from idp.extensions import db, rowcount
from idp.models import AuditTag, PostOffice, StaffMember, StaffRole, StaffStatus
from idp.models.base import utcnow
from idp.services.platform import audit, passwords
from idp.services.staff import enrolment as staff_enrolment
from idp.services.staff import offices
from idp.services.staff import sessions as staff_sessions

USERNAME_RE = re.compile(r"[a-z0-9._-]{3,64}")
# Without a birth date only the year in the ID number can be checked: someone at a post-office
# counter is an adult (Labour Code 2019 art. 143: under 18 is a minor) and younger than 100.
MIN_STAFF_AGE = 18
MAX_STAFF_AGE = 100

MSG_USERNAME = N_("A username has 3 to 64 characters: a-z, digits, “.”, “_” or “-”.")
MSG_STAFF_AGE = N_("The birth year in this ID number is not possible for a staff member.")
MSG_ROLE = N_("The role must be clerk or supervisor.")
MSG_DUPLICATE_USERNAME = N_("A staff member with this username already exists.")
MSG_DUPLICATE_NATIONAL_ID = N_("A staff member with this ID number already exists.")
MSG_UNKNOWN_STAFF = N_("There is no staff member with this username.")
MSG_ALREADY_DISABLED = N_("This staff member is already disabled.")


class NotFound(IdpError):
    status = 404


@dataclass(frozen=True)
class StaffDetails:
    """What the operator enters, as typed; normalised by `validate_staff`."""

    username: str
    national_id: str
    full_name: str
    office_code: str
    role: str


def normalize_username(raw: str) -> str:
    """Lower-case `[a-z0-9._-]{3,64}`, or raise InvalidInput (`staff.username`)."""
    text = (raw or "").strip()
    # ASCII before lower-casing: "K" (Kelvin sign) lower-cases to an ASCII "k".
    if not text.isascii() or not USERNAME_RE.fullmatch(text.lower()):
        raise InvalidInput("staff.username", MSG_USERNAME, field="username")
    return text.lower()


def check_staff_national_id(raw: str, *, today: datetime.date | None = None) -> str:
    """Structure (12 digits, known prefix, century digit) and a plausible birth year."""
    try:
        facts = decode_national_id(raw or "")
    except DomainError as exc:
        raise InvalidInput.from_domain(exc, "national_id") from None
    year = (today or datetime.date.today()).year
    if not year - MAX_STAFF_AGE <= facts.birth_year <= year - MIN_STAFF_AGE:
        raise InvalidInput("staff.national_id_age", MSG_STAFF_AGE, field="national_id")
    return facts.number


def parse_role(raw: str) -> StaffRole:
    try:
        return StaffRole((raw or "").strip().lower())
    except ValueError:
        raise InvalidInput("staff.role", MSG_ROLE, field="role") from None


@dataclass(frozen=True)
class StaffWithCode:
    """A staff member and the enrolment code just issued (shown once: only its HMAC is kept)."""

    staff: StaffMember
    enrolment_code: str


@dataclass(frozen=True)
class CleanStaff:
    username: str
    national_id: str
    full_name: str
    office: PostOffice
    role: StaffRole


def validate_staff(details: StaffDetails, password: str) -> CleanStaff:
    """Apply every rule, in the order of the fields; raise the first InvalidInput."""
    username = normalize_username(details.username)
    national_id = check_staff_national_id(details.national_id)
    try:
        full_name = names.normalize_name(details.full_name)
    except DomainError as exc:
        raise InvalidInput.from_domain(exc, "full_name") from None
    office = offices.find_office(details.office_code)
    if office is None:
        raise InvalidInput("office.unknown", offices.MSG_UNKNOWN, field="office")
    role = parse_role(details.role)
    try:
        check_password(password, personal_values=(national_id,), name=full_name,
                       service_words=SERVICE_WORDS)
    except DomainError as exc:
        raise InvalidInput.from_domain(exc, "password") from None
    return CleanStaff(username, national_id, full_name, office, role)


def _refuse_duplicates(clean: CleanStaff) -> None:
    if db.session.scalar(select(StaffMember.id).where(StaffMember.username == clean.username)):
        raise Conflict("staff.duplicate_username", MSG_DUPLICATE_USERNAME, field="username")
    if db.session.scalar(select(StaffMember.id)
                         .where(StaffMember.national_id == clean.national_id)):
        raise Conflict("staff.duplicate_national_id", MSG_DUPLICATE_NATIONAL_ID,
                       field="national_id")


def create_staff(details: StaffDetails, password: str, *, channel: str = "cli",
                 enrolment_code: str | None = None) -> StaffWithCode:
    """Create an active staff member (TOTP still to set up) and issue their enrolment code.
    One transaction. `enrolment_code` fixes the code (the public demo staff only).

    Raises InvalidInput (a rule refused a field; the field is named) or Conflict (username or
    ID number already used by staff); then nothing is written. Audited as staff.create.
    """
    clean = validate_staff(details, password)
    _refuse_duplicates(clean)
    staff = StaffMember(username=clean.username, national_id=clean.national_id,
                        full_name=clean.full_name, office_id=clean.office.id, role=clean.role,
                        status=StaffStatus.ACTIVE, password_hash=passwords.hash_password(password))
    db.session.add(staff)
    try:
        db.session.flush()
    except IntegrityError:
        # A concurrent create won the unique index; say which value collided.
        db.session.rollback()
        _refuse_duplicates(clean)
        raise
    code = staff_enrolment.issue(staff, enrolment_code)
    audit.record(AuditTag.STAFF_CREATE, staff_id=staff.id, office_id=staff.office_id,
                 channel=channel, role=staff.role.value)
    db.session.commit()
    return StaffWithCode(staff, code)


def find_staff(username: str) -> StaffMember | None:
    """The staff member with this username (any case), or None; malformed names find nobody."""
    try:
        canonical = normalize_username(username)
    except InvalidInput:
        return None
    return db.session.scalar(select(StaffMember).where(StaffMember.username == canonical))


def disable_staff(username: str, *, channel: str = "cli") -> StaffMember:
    """Disable a staff member and end all their sessions at once. One transaction.

    Console and API requests are refused from the very next one (the guard also checks the
    status on every request). Raises NotFound (`staff.unknown`) or InvalidInput
    (`staff.already_disabled`). Audited as staff.disable.
    """
    staff = find_staff(username)
    if staff is None:
        raise NotFound("staff.unknown", MSG_UNKNOWN_STAFF, field="username")
    now = utcnow()
    claimed = rowcount(db.session.execute(
        update(StaffMember)
        .where(StaffMember.id == staff.id, StaffMember.status == StaffStatus.ACTIVE)
        .values(status=StaffStatus.DISABLED, disabled_at=now)
        .execution_options(synchronize_session=False)
    ))
    if claimed != 1:
        db.session.rollback()
        raise InvalidInput("staff.already_disabled", MSG_ALREADY_DISABLED, field="username")
    ended = staff_sessions.end_staff_sessions(staff.id)
    audit.record(AuditTag.STAFF_DISABLE, staff_id=staff.id, office_id=staff.office_id,
                 channel=channel, sessions_ended=ended)
    db.session.commit()
    db.session.refresh(staff)
    return staff


def reset_staff_totp(username: str, *, channel: str = "cli",
                     enrolment_code: str | None = None) -> StaffWithCode:
    """Forget a staff member's authenticator (lost or replaced phone), or a set-up not finished,
    end their sessions and issue a new enrolment code: the next sign-in sets up TOTP again
    with it. One transaction. `enrolment_code` fixes the code (the public demo staff only).

    Raises NotFound (`staff.unknown`). Audited as staff.mfa.reset.
    """
    staff = find_staff(username)
    if staff is None:
        raise NotFound("staff.unknown", MSG_UNKNOWN_STAFF, field="username")
    code = staff_enrolment.issue(staff, enrolment_code)
    ended = staff_sessions.end_staff_sessions(staff.id)
    audit.record(AuditTag.STAFF_MFA_RESET, staff_id=staff.id, office_id=staff.office_id,
                 channel=channel, sessions_ended=ended)
    db.session.commit()
    return StaffWithCode(staff, code)


def list_staff(office_code: str | None = None) -> list[StaffMember]:
    """Staff by username, optionally of one office. Raises InvalidInput (`office.unknown`)."""
    query = select(StaffMember).order_by(StaffMember.username)
    if office_code is not None:
        office = offices.find_office(office_code)
        if office is None:
            raise InvalidInput("office.unknown", offices.MSG_UNKNOWN, field="office")
        query = query.where(StaffMember.office_id == office.id)
    return list(db.session.scalars(query))
