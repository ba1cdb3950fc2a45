"""The clerk's side of counter verification (DESIGN §5): open an enrolment code and record the
check of the physical ID card. Rejections (at the counter too) and the supervisor's decisions
are in idp.services.counter.decisions; both follow the rules, and share the refusals, here.

- The acting staff member's office is `staff.office_id`, from their session: never from the
  request. A record another office has taken (submitted, rejected, decided) is invisible to
  everybody else: 404, the same answer as an unknown code.
- Nobody acts on their own account (`staff.national_id == account.national_id`): 403.
- Every function is one transaction. A refusal (`CounterRefusal`) rolls back whatever the
  function did, then commits one COUNTER_VERIFICATION_REFUSED audit event and nothing else.
- Status changes only through idp.services.standing.verification_state.transition (a conditional
  UPDATE): of two concurrent actions one wins, the other is refused with `conflict`.
- Retrying the same action by the same person on a record already in its resulting state
  returns the record and records nothing new (a double click, a terminal retrying a timeout).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from flask_babel import gettext
from sqlalchemy import select

from idp.domain.document_check import DocumentCheck, check_problems
from idp.domain.enrolment_code import normalize_code
from idp.domain.errors import N_, DomainError
from idp.errors import IdpError
from idp.extensions import db
from idp.models import (
    AccountStatus,
    AuditTag,
    DocumentType,
    IdentityVerification,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.counter.workflow import (
    done_already,
    status_refusal,
    store_refusal,
    transition_or_refuse,
    visible_to,
)
from idp.services.platform import audit
from idp.services.platform.clock import today_in_vietnam
from idp.services.standing.verification_state import expire_if_due

MAX_PUBLIC_ID = 22
# Dates on ID cards are Vietnamese calendar dates (UTC+7, no daylight saving time).
USED = (VerificationStatus.APPROVED, VerificationStatus.REJECTED, VerificationStatus.REVOKED)

MESSAGES = {
    "not_found": N_("No enrolment code or verification like this was found at your office."),
    "expired": N_("This enrolment code has expired. The citizen can ask for a new one online."),
    "cancelled": N_("The citizen cancelled this enrolment code."),
    "already_used": N_("This enrolment code has already been used; a decision was made on it."),
    "own_account": N_("You cannot act on your own account. Ask a colleague."),
    "supervisor_only": N_("Only a supervisor can do this."),
    "own_submission": N_("You submitted this check yourself: another supervisor must decide."),
    "conflict": N_("This verification is now “%(status)s”: someone else acted on it first. "
                   "Reload it to see its current state."),
    "invalid_reason": N_("Choose a reason from the list."),
    "account_disabled": N_("This account is disabled; it cannot be verified."),
    "invalid_check": N_("The document check cannot be submitted."),
}
# How a conflict names the record's status now.
STATUS_NAMES = {
    VerificationStatus.PENDING: N_("waiting for the document check"),
    VerificationStatus.SUBMITTED: N_("submitted for approval"),
    VerificationStatus.APPROVED: N_("approved"),
    VerificationStatus.REJECTED: N_("rejected"),
    VerificationStatus.EXPIRED: N_("expired"),
    VerificationStatus.CANCELLED: N_("cancelled"),
    VerificationStatus.REVOKED: N_("revoked"),
}
STATUS = {"not_found": 404, "own_account": 403, "supervisor_only": 403, "own_submission": 403,
          "invalid_reason": 400, "invalid_check": 400}


class CounterRefusal(IdpError):
    """A counter action refused; nothing changed but one audit event. `code` is stable and is
    the API's `error`; `problems` lists every problem of a refused document check;
    `current_status` names the record's status on a `conflict`."""

    def __init__(self, code: str, *, problems: list[DomainError] | None = None,
                 current_status: VerificationStatus | None = None) -> None:
        message = problems[0].message if problems else MESSAGES.get(code, MESSAGES["invalid_check"])
        super().__init__(code, message)
        self.status = STATUS.get(code, 400 if problems else 409)
        self.problems = problems or []
        self.current_status = current_status

    @property
    def message_args(self) -> dict[str, str]:
        """Values for `gettext(message, **args)` at the web edge: a conflict names the
        record's current status in the reader's language."""
        if self.current_status is None:
            return {}
        return {"status": gettext(STATUS_NAMES[self.current_status])}


def refuse(staff: StaffMember, code: str, *, verification: IdentityVerification | None = None,
           channel: str, problems: list[DomainError] | None = None, action: str) -> NoReturn:
    """Undo the transaction, store only the refusal's audit event, raise CounterRefusal."""
    account_id = verification.account_id if verification is not None else None
    current = store_refusal(AuditTag.COUNTER_VERIFICATION_REFUSED, staff, code,
                            verification=verification, account_id=account_id, channel=channel,
                            action=action, problems=problems)
    raise CounterRefusal(code, problems=problems, current_status=current)


def load_for_action(staff: StaffMember, public_id: str, *, channel: str,
                    action: str) -> IdentityVerification:
    """The record by public id, if this staff member may see it: 404 / 403 refusals otherwise.
    A pending record past its expiry becomes expired (committed with its own audit event)."""
    verification = None
    if isinstance(public_id, str) and 0 < len(public_id) <= MAX_PUBLIC_ID:
        verification = db.session.scalar(
            select(IdentityVerification).where(IdentityVerification.public_id == public_id))
    return _checked(staff, verification, channel=channel, action=action)


def _checked(staff: StaffMember, verification: IdentityVerification | None, *, channel: str,
             action: str) -> IdentityVerification:
    if not visible_to(staff, verification):
        refuse(staff, "not_found", verification=verification, channel=channel, action=action)
    if verification.account.national_id == staff.national_id:
        refuse(staff, "own_account", verification=verification, channel=channel, action=action)
    if verification.status is VerificationStatus.PENDING and expire_if_due(verification,
                                                                            channel=channel):
        db.session.commit()  # the lazy expiry is a fact, whatever the caller does next
    return verification


def refuse_status(staff: StaffMember, verification: IdentityVerification, *, channel: str,
                  action: str) -> NoReturn:
    """The record is not in the status the action needs: say why."""
    refuse(staff, status_refusal(verification), verification=verification, channel=channel,
           action=action)


def lookup(staff: StaffMember, raw_code: str, *, channel: str = "web") -> IdentityVerification:
    """Open an enrolment code (typed, any case/spacing, or the QR payload POSTID:<code>).

    Returns a pending record, or a submitted one of this office; audited as a view.
    Refusals: not_found (404: unknown, malformed, or another office's), own_account (403),
    expired / cancelled / already_used (409)."""
    code = normalize_code(raw_code)
    verification = None
    if code is not None:
        verification = db.session.scalar(
            select(IdentityVerification).where(IdentityVerification.code == code))
    verification = _checked(staff, verification, channel=channel, action="lookup")
    if verification.status in USED:
        refuse(staff, "already_used", verification=verification, channel=channel, action="lookup")
    if verification.status not in (VerificationStatus.PENDING, VerificationStatus.SUBMITTED):
        refuse_status(staff, verification, channel=channel, action="lookup")
    audit_action(AuditTag.COUNTER_VERIFICATION_VIEW, staff, verification, channel, via="code")
    db.session.commit()
    return verification


def get(staff: StaffMember, public_id: str, *, channel: str = "web") -> IdentityVerification:
    """A record this staff member may see, in any status (the page shows where it stands).
    Refusals: not_found (404), own_account (403). Audited as a view."""
    verification = load_for_action(staff, public_id, channel=channel, action="view")
    audit_action(AuditTag.COUNTER_VERIFICATION_VIEW, staff, verification, channel, via="id")
    db.session.commit()
    return verification


def audit_action(tag: AuditTag, staff: StaffMember, verification: IdentityVerification, channel: str,
           **data: Any) -> None:
    audit.record(tag, account_id=verification.account_id, staff_id=staff.id,
                 office_id=staff.office_id, channel=channel, verification=verification.public_id,
                 **data)


def _check_values(staff: StaffMember, check: DocumentCheck, now: datetime) -> dict[str, Any]:
    return {
        "office_id": staff.office_id, "clerk_id": staff.id, "submitted_at": now,
        "document_type": DocumentType(check.document_type),
        "document_number": check.document_number,
        "document_issued_on": check.issued_on, "document_expires_on": check.expires_on,
        "name_match": check.name_match, "birthdate_match": check.birthdate_match,
        "sex_match": check.sex_match, "photo_match": check.photo_match,
        "verified_address": check.address.to_json() if check.address else None,
    }


def submit(staff: StaffMember, public_id: str, check: DocumentCheck, *,
           channel: str = "web") -> IdentityVerification:
    """Record the document check of a pending record and submit it for approval.

    The check must have no problem (idp.domain.document_check.check_problems); an expired
    card is refused with `document.expired` (the clerk rejects instead). Refusals: not_found,
    own_account, expired, cancelled, conflict (409: no longer pending, or submitted with
    other data or by someone else), account_disabled (409), <problem code> (400, all problems
    in `problems`). Submitting the same check twice returns the record unchanged."""
    verification = load_for_action(staff, public_id, channel=channel, action="submit")
    account = verification.account
    problems = check_problems(check, declared_national_id=account.national_id,
                              birthdate=account.birthdate, today=today_in_vietnam())
    values = _check_values(staff, check, utcnow()) if not problems else {}
    retry = {key: value for key, value in values.items() if key != "submitted_at"}
    if retry and done_already(verification, VerificationStatus.SUBMITTED, **retry):
        return verification  # a retry: already done
    if verification.status is not VerificationStatus.PENDING:
        refuse_status(staff, verification, channel=channel, action="submit")
    if problems:
        refuse(staff, problems[0].code, verification=verification, channel=channel,
               problems=problems, action="submit")
    if account.status is AccountStatus.DISABLED:
        refuse(staff, "account_disabled", verification=verification, channel=channel,
               action="submit")
    if not transition_or_refuse(refuse, staff, verification, VerificationStatus.PENDING,
                                VerificationStatus.SUBMITTED, retry=retry, channel=channel,
                                action="submit", **values):
        return verification  # a concurrent double click of the same person won
    audit_action(AuditTag.COUNTER_VERIFICATION_SUBMIT, staff, verification, channel,
           document_type=check.document_type, address=check.address is not None)
    db.session.commit()
    return verification


def allowed_actions(staff: StaffMember, verification: IdentityVerification) -> list[str]:
    """What this staff member may do next on a record they can see (drives the console's
    forms and the API's `actions`); the services enforce the same rules on their own."""
    status = verification.status
    deciding = staff.is_supervisor and verification.clerk_id != staff.id
    if status is VerificationStatus.PENDING:
        return ["submit", "reject"]
    if status is VerificationStatus.SUBMITTED and deciding:
        return ["approve", "reject"]
    if status is VerificationStatus.APPROVED and deciding:
        return ["revoke"]
    return []


def staff_by_id(*ids: int | None) -> dict[int, StaffMember]:
    """The staff members named on a record (clerk, decider), by primary key."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {s.id: s for s in db.session.scalars(select(StaffMember).where(StaffMember.id.in_(wanted)))}


def masked_phone(e164: str) -> str:
    """The citizen's phone as the counter sees it: enough to ask "is it the one ending 678?",
    not enough to copy down ("+84912345678" -> "09** *** 678")."""
    national = "0" + e164[3:] if e164.startswith("+84") else e164
    return f"{national[:2]}{'*' * (len(national) - 5)}{national[-3:]}" if len(national) > 5 \
        else "*" * len(national)
