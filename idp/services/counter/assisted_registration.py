"""Assisted registration at a post-office counter (docs/architecture.md §8): a clerk registers a walk-in
citizen; the citizen activates the account on their own phone (idp.services.identity.activation).

`register_walk_in` is one transaction that writes, or refuses with nothing written:
- the declared data pass self-registration's rules (accounts.citizen_errors) and the document
  check has no problem (document_check.check_problems): the card is in front of the clerk, its
  number is the declared ID number, it has not expired and the photo is the person's. Name,
  birth date and sex are typed from the card, so they match it by construction;
- an Account, PENDING_ACTIVATION, with no password and an unconfirmed phone: nobody can sign
  in to it until the citizen chooses a password on their own phone. Staff never choose or see
  one;
- an IdentityVerification already SUBMITTED (assisted, office and clerk from the staff
  session): it waits in the office's normal approval queue, so four-eyes still applies;
- an ACTIVATE_ACCOUNT code sent by SMS with the activation address. It lives
  ACTIVATION_CODE_HOURS (72 h), not the usual 10 minutes: the citizen leaves the counter and
  activates later, maybe at home, maybe after a weekend; a 6-digit code stays safe that long
  because a code dies after 5 wrong guesses and guesses are throttled per ID number
  (idp.services.identity.activation), and the SMS alone is useless without the ID number.
Audit: ACCOUNT_CREATE and COUNTER_ASSISTED_REGISTRATION (staff, office, account,
verification public id; no personal data).

Refusals (nothing written but the refusal's own audit event): the staff member's own ID
number (403 `own_account`); an ID number or phone that already has an account (409
`account_exists`). The clerk is told neither which of the two matched nor anything about that
account, only what to do: the citizen signs in (or activates, or recovers the password) and
asks for an enrolment code.

Retries: the same clerk sending the same declared data again within RETRY_WINDOW of an
account still pending activation (a double click, a lost response, a terminal retrying) gets
the earlier registration back with `created=False`: no second account, no second SMS, no new
audit event. Anything else that collides is `account_exists`.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.domain import names
from idp.domain.document_check import DocumentCheck, check_problems
from idp.domain.enrolment_code import new_code
from idp.domain.errors import N_, DomainError
from idp.domain.national_id import check_declared, decode_national_id, normalize_national_id
from idp.errors import IdpError, InvalidInput
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditTag,
    DocumentType,
    IdentityVerification,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.models.registration import OtpPurpose
from idp.services.identity import accounts
from idp.services.identity.accounts import CitizenDetails
from idp.services.platform import audit, notify, otp
from idp.services.platform.clock import today_in_vietnam
from idp.settings import current_settings

ACTIVATION_CODE_HOURS = 72
RETRY_WINDOW = timedelta(minutes=10)
INSERT_ATTEMPTS = 5  # enrolment code / public id collisions: one retry is plenty

MSG_INVALID = N_("Some details are missing or not valid. Check the marked fields.")
MSG_OWN_ACCOUNT = N_("You cannot register yourself. Ask a colleague to do it.")
MSG_ACCOUNT_EXISTS = N_(
    "A PostID account already exists for this ID number or this phone number, so no new "
    "account was created. Ask the citizen to sign in on their own phone (or to activate the "
    "account with the SMS code, or to recover the password), to ask for an enrolment code "
    "there, and to bring it to a counter.")
MSG_DOCUMENT_EXPIRED = N_("The document has expired: the citizen cannot be registered with it.")
MSG_PHOTO = N_("Register the citizen only if the photo on the document is the person in front "
               "of you.")

# Where each document problem (idp.domain.document_check) shows on the form.
PROBLEM_FIELDS = {
    "document.type": "document_type",
    "document.number_mismatch": "document_number",
    "document.issued_future": "issued_on",
    "document.issued_before_birth": "issued_on",
    "document.expiry_before_issue": "expires_on",
    "document.expired": "expires_on",
    "document.mismatch": "photo_match",
}
# The domain words its messages for the check of an enrolment code ("reject the check");
# here nothing is rejected, the registration simply does not happen.
# The clerk typed both numbers and the sex from the card: the messages speak to the clerk,
# not to a citizen who "chose" a sex or "declared" a number.
MSG_NUMBER_MISMATCH = N_("The number on the document is not the ID number typed above. Check "
                         "both against the card.")
MSG_GENDER_MISMATCH = N_(
    "The ID number does not match the sex entered. The 4th digit of the ID number shows the "
    "sex: 0 or 2 for a man, 1 or 3 for a woman. Check the number and the sex on the card.")
MSG_BIRTH_YEAR_MISMATCH = N_(
    "The ID number does not match the date of birth entered. In the ID number, the 4th digit "
    "shows the century (0 or 1: born 1900–1999; 2 or 3: born 2000 or later) and the 5th and "
    "6th digits are the last two digits of the birth year: 001099012345 is someone born in "
    "1999. Check the number and the date of birth on the card.")
PROBLEM_MESSAGES = {"document.expired": MSG_DOCUMENT_EXPIRED, "document.mismatch": MSG_PHOTO,
                    "document.number_mismatch": MSG_NUMBER_MISMATCH}
DETAIL_MESSAGES = {"national_id.gender_mismatch": MSG_GENDER_MISMATCH,
                   "national_id.birth_year_mismatch": MSG_BIRTH_YEAR_MISMATCH}


class WalkInInvalid(IdpError):
    """Declared data or document check refused; `errors` holds every field's problem."""

    def __init__(self, errors: list[InvalidInput]) -> None:
        super().__init__("invalid_input", MSG_INVALID)
        self.errors = errors


class OwnAccount(IdpError):
    status = 403

    def __init__(self) -> None:
        super().__init__("own_account", MSG_OWN_ACCOUNT)


class AccountExists(IdpError):
    status = 409

    def __init__(self) -> None:
        super().__init__("account_exists", MSG_ACCOUNT_EXISTS)


@dataclass(frozen=True)
class WalkIn:
    account: Account
    verification: IdentityVerification
    created: bool  # False: a retry got the earlier registration back


def details_errors(details: CitizenDetails) -> list[InvalidInput]:
    """Every declared field that self-registration's rules refuse (birthdate may be None).

    The ID number is checked against the sex, then the birth year, and the first mismatch
    stops there; the clerk, who types all three from the card, gets both in one round (issue
    11): the birth year's on the date of birth, as the number's field shows the sex's."""
    errors = accounts.citizen_errors(details, None)
    if details.birthdate is not None and any(
            e.code == "national_id.gender_mismatch" for e in errors) and not any(
            e.field == "birthdate" for e in errors):
        try:
            check_declared(decode_national_id(details.national_id), gender=None,
                           birthdate=details.birthdate)
        except DomainError as exc:
            errors.append(InvalidInput.from_domain(exc, "birthdate"))
    return errors


def normalize_document_number(raw: str) -> str:
    """The 12 digits of the number as typed (spaces, full-width digits), else it stripped."""
    try:
        return normalize_national_id(raw)
    except DomainError:
        return "".join(raw.split())


def walk_in_errors(details: CitizenDetails, check: DocumentCheck | None, *,
                   today: date | None = None) -> list[InvalidInput]:
    """Every problem with the declared data and the document check, for one round of form
    errors. `check` is None when the form could not even build one (unreadable dates)."""
    errors = [InvalidInput(e.code, DETAIL_MESSAGES[e.code], field=e.field)
              if e.code in DETAIL_MESSAGES else e for e in details_errors(details)]
    if check is None:
        return errors
    try:
        declared = normalize_national_id(details.national_id)
    except DomainError:
        declared = None  # the ID number field has its own error; do not add a mismatch too
    document_number = normalize_document_number(check.document_number)
    problems = check_problems(
        dataclasses.replace(check, document_number=document_number),
        declared_national_id=declared or document_number,
        birthdate=details.birthdate or date.min, today=today or today_in_vietnam())
    for problem in problems:
        errors.append(InvalidInput(problem.code, PROBLEM_MESSAGES.get(problem.code, problem.message),
                                   field=PROBLEM_FIELDS.get(problem.code)))
    return errors


def register_walk_in(staff: StaffMember, details: CitizenDetails, document_check: DocumentCheck,
                     *, channel: str, activation_link: str) -> WalkIn:
    """Register a walk-in citizen for `staff` (office from the staff member, never the request).
    `activation_link` is the absolute address of the activation page, sent in the SMS.

    Raises WalkInInvalid (400, every problem), OwnAccount (403) or AccountExists (409); the
    two refusals are audited (COUNTER_VERIFICATION_REFUSED) and nothing else is written.
    Returns the new registration, or the earlier one for a retry (see the module docstring).
    One transaction; the activation SMS is in the outbox when it commits.
    """
    errors = walk_in_errors(details, document_check)
    if errors:
        raise WalkInInvalid(errors)
    clean = accounts.validate_citizen(details, None)
    check = dataclasses.replace(
        document_check, document_number=normalize_document_number(document_check.document_number))
    if clean.national_id == staff.national_id:
        _refuse(staff, OwnAccount(), channel=channel, account_id=None)
    for _ in range(INSERT_ATTEMPTS):
        existing = accounts.taken_by(clean.national_id, clean.phone)
        if existing:
            earlier = _earlier_attempt(staff, clean, existing)
            if earlier is not None:
                db.session.commit()  # nothing changed: ends the read transaction
                return earlier
            _refuse(staff, AccountExists(), channel=channel, account_id=existing[0].id)
        try:
            walk_in = _create(staff, clean, check, channel=channel, activation_link=activation_link)
            db.session.commit()
            return walk_in
        except IntegrityError:
            # A concurrent registration took the ID number or phone (the loop then finds it),
            # or the enrolment code / public id collided (the loop draws new ones).
            db.session.rollback()
    raise RuntimeError("could not store the assisted registration")  # pragma: no cover


def _refuse(staff: StaffMember, error: IdpError, *, channel: str, account_id: int | None) -> None:
    """Audit a refusal in its own commit (a clerk probing ID numbers leaves a trace), raise it."""
    db.session.rollback()
    audit.record(AuditTag.COUNTER_VERIFICATION_REFUSED, account_id=account_id,
                 staff_id=staff.id, office_id=staff.office_id, channel=channel,
                 action="assisted_registration", reason=error.code)
    db.session.commit()
    raise error


def _declared(values: Account | CitizenDetails) -> tuple[object, ...]:
    return (values.national_id, values.full_name, values.birthdate, values.gender, values.phone,
            values.email)


def _earlier_attempt(staff: StaffMember, clean: CitizenDetails,
                     existing: list[Account]) -> WalkIn | None:
    """The same clerk's registration of the same data moments ago, still pending activation."""
    if len(existing) != 1:
        return None
    account = existing[0]
    if (account.status is not AccountStatus.PENDING_ACTIVATION
            or utcnow() - account.created_at > RETRY_WINDOW
            or _declared(account) != _declared(clean)):
        return None
    verification = db.session.scalar(
        select(IdentityVerification)
        .where(IdentityVerification.account_id == account.id,
               IdentityVerification.assisted.is_(True),
               IdentityVerification.clerk_id == staff.id,
               IdentityVerification.office_id == staff.office_id)
        .order_by(IdentityVerification.id.desc()).limit(1))
    return WalkIn(account, verification, created=False) if verification is not None else None


def _create(staff: StaffMember, clean: CitizenDetails, check: DocumentCheck, *,
            channel: str, activation_link: str) -> WalkIn:
    account = Account(
        sub=secrets.token_urlsafe(32), national_id=clean.national_id, full_name=clean.full_name,
        name_search_key=names.search_key(clean.full_name), birthdate=clean.birthdate,
        gender=clean.gender, phone=clean.phone, email=clean.email, locale="vi",
        status=AccountStatus.PENDING_ACTIVATION)
    db.session.add(account)
    db.session.flush()
    verification = add_assisted_check_in_transaction(staff, account, check)
    send_activation_code_in_transaction(account, activation_link)
    audit.record(AuditTag.ACCOUNT_CREATE, account_id=account.id, staff_id=staff.id,
                 office_id=staff.office_id, channel=channel, assisted=True)
    audit.record(AuditTag.COUNTER_ASSISTED_REGISTRATION, account_id=account.id, staff_id=staff.id,
                 office_id=staff.office_id, channel=channel, verification=verification.public_id)
    return WalkIn(account, verification, created=True)


def add_assisted_check_in_transaction(staff: StaffMember, account: Account,
                                      check: DocumentCheck) -> IdentityVerification:
    """The clerk's document check of `account`, SUBMITTED to the office's approval queue (four
    eyes); also used when a young person activates their own account at 14."""
    now = utcnow()
    days = current_settings().enrolment_code_days
    verification = IdentityVerification(
        public_id=secrets.token_urlsafe(16), account_id=account.id, live_account_id=account.id,
        code=new_code(), status=VerificationStatus.SUBMITTED, assisted=True, created_at=now,
        expires_at=now + timedelta(days=days), office_id=staff.office_id, clerk_id=staff.id,
        submitted_at=now, document_type=DocumentType(check.document_type),
        document_number=check.document_number, document_issued_on=check.issued_on,
        document_expires_on=check.expires_on, name_match=check.name_match,
        birthdate_match=check.birthdate_match, sex_match=check.sex_match,
        photo_match=check.photo_match,
        verified_address=check.address.to_json() if check.address else None)
    db.session.add(verification)
    return verification


def send_activation_code_in_transaction(account: Account, activation_link: str) -> None:
    """An ACTIVATE_ACCOUNT code valid ACTIVATION_CODE_HOURS, sent by SMS to the account's phone
    with the activation address; the owner then activates at /activate."""
    challenge, code = otp.issue_code(OtpPurpose.ACTIVATE_ACCOUNT, account.own_phone,
                                     account_id=account.id)
    challenge.expires_at = utcnow() + timedelta(hours=ACTIVATION_CODE_HOURS)
    _send_activation_code(account, code, activation_link)


def _send_activation_code(account: Account, code: str, link: str) -> None:
    with force_locale(account.locale):
        text = gettext(
            "PostID: a post office registered an account for you. On your own phone open "
            "%(link)s, enter your ID number and the code %(code)s (valid %(hours)s hours), then "
            "choose your password. Never tell the code or your password to anyone, not even "
            "post office staff.",
            link=link, code=code, hours=ACTIVATION_CODE_HOURS)
    # Counter staff's own budget (sms_limits): strangers cannot hold back a walk-in's code.
    notify.send_sms(account.own_phone, text, template="activate.code", account_id=account.id,
                    locale=account.locale, asker="counter")


def registration_for(staff: StaffMember, public_id: str) -> WalkIn | None:
    """An assisted registration made at the staff member's office (for the "done" page);
    None for anything else, including another office's (invisible, docs/architecture.md §8)."""
    if not isinstance(public_id, str) or len(public_id) != 22:
        return None
    verification = db.session.scalar(
        select(IdentityVerification).where(IdentityVerification.public_id == public_id,
                                           IdentityVerification.assisted.is_(True),
                                           IdentityVerification.office_id == staff.office_id))
    if verification is None:
        return None
    return WalkIn(verification.account, verification, created=False)
