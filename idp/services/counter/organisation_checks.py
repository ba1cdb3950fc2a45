"""The clerk's side of the counter verification of an organisation (DESIGN §5, business
accounts): open the organisation's enrolment code, check the business registration
certificate and the representative's ID card, and submit. Rejections, the supervisor's
decisions and lists are in idp.services.counter.organisation_decisions.

The rules are those of citizens' checks (idp.services.counter.checks), with the
organisation's representative in the citizen's place:

- The office is `staff.office_id`, from the session. A record another office has acted on is
  invisible (404, like an unknown code).
- Nobody acts on an organisation they represent or are a live member of (invited, active or
  suspended: compared by personal ID number): 403 `own_account`.
- Every function is one transaction. A refusal rolls back, then commits one
  COUNTER_ORGANISATION_REFUSED event and nothing else.
- Status changes only through idp.services.standing.verification_state.transition (conditional UPDATE);
  identical retries by the same person return the record and record nothing new.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import select

from idp.domain.business_check import BusinessCheck, business_check_problems
from idp.domain.enrolment_code import normalize_code
from idp.domain.errors import N_, DomainError
from idp.extensions import db
from idp.models import (
    LIVE_MEMBERSHIP,
    AccountStatus,
    AuditTag,
    DocumentType,
    OrganisationMember,
    OrganisationVerification,
    RepresentativeAuthority,
    RepresentativeTitle,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.business import organisations
from idp.services.counter.checks import MAX_PUBLIC_ID, USED, CounterRefusal
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

# Where the citizens' wording does not fit an organisation.
MESSAGES = {
    "own_account": N_("You cannot act on an organisation you represent or are a member of. "
                      "Ask a colleague."),
    "expired": N_("This enrolment code has expired. The organisation's representative can ask "
                  "for a new one online."),
    "cancelled": N_("The organisation's representative cancelled this enrolment code."),
    "account_disabled": N_("The representative's account is disabled; the organisation cannot "
                           "be verified."),
}


class CounterOrganisationRefusal(CounterRefusal):
    """A CounterRefusal (same codes, statuses and API shape) worded for organisations."""

    def __init__(self, code: str, **kwargs: Any) -> None:
        super().__init__(code, **kwargs)
        if not self.problems and code in MESSAGES:
            self.message = MESSAGES[code]


def refuse(staff: StaffMember, code: str, *, verification: OrganisationVerification | None,
           channel: str, action: str, problems: list[DomainError] | None = None) -> NoReturn:
    """Undo the transaction, store only the refusal's audit event, raise CounterOrganisationRefusal."""
    account_id = (verification.organisation.representative_account_id
                  if verification is not None else None)
    current = store_refusal(AuditTag.COUNTER_ORGANISATION_REFUSED, staff, code,
                            verification=verification, account_id=account_id, channel=channel,
                            action=action, problems=problems)
    raise CounterOrganisationRefusal(code, problems=problems, current_status=current)


def refuse_status(staff: StaffMember, verification: OrganisationVerification, *, channel: str,
                  action: str) -> NoReturn:
    """The record is not in the status the action needs: say why."""
    refuse(staff, status_refusal(verification), verification=verification, channel=channel,
           action=action)


def audit_action(tag: AuditTag, staff: StaffMember, verification: OrganisationVerification,
                 channel: str, **data: Any) -> None:
    audit.record(tag, account_id=verification.organisation.representative_account_id,
                 staff_id=staff.id, office_id=staff.office_id, channel=channel,
                 verification=verification.public_id,
                 organisation=verification.organisation.public_id, **data)


def is_own(staff: StaffMember, verification: OrganisationVerification) -> bool:
    """The staff member represents the organisation or is a live member of it."""
    organisation = verification.organisation
    if organisation.representative.national_id == staff.national_id:
        return True
    return db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == organisation.id,
        OrganisationMember.national_id == staff.national_id,
        OrganisationMember.status.in_(LIVE_MEMBERSHIP)).limit(1)) is not None


def _checked(staff: StaffMember, verification: OrganisationVerification | None, *, channel: str,
             action: str) -> OrganisationVerification:
    if not visible_to(staff, verification):
        refuse(staff, "not_found", verification=verification, channel=channel, action=action)
    organisation_pk = verification.organisation_id  # a stale registration replaced online
    if not organisations.still_there(organisation_pk):
        refuse(staff, "not_found", verification=None, channel=channel, action=action)
    if is_own(staff, verification):
        refuse(staff, "own_account", verification=verification, channel=channel, action=action)
    if verification.status is VerificationStatus.PENDING and expire_if_due(verification,
                                                                            channel=channel):
        db.session.commit()  # the lazy expiry is a fact, whatever the caller does next
        if not organisations.still_there(organisation_pk):  # the commit ended the lock
            refuse(staff, "not_found", verification=None, channel=channel, action=action)
    return verification


def load_for_action(staff: StaffMember, public_id: str, *, channel: str,
                    action: str) -> OrganisationVerification:
    """The record by public id, if this staff member may see it: 404 / 403 refusals otherwise."""
    verification = None
    if isinstance(public_id, str) and 0 < len(public_id) <= MAX_PUBLIC_ID:
        verification = db.session.scalar(select(OrganisationVerification).where(
            OrganisationVerification.public_id == public_id))
    return _checked(staff, verification, channel=channel, action=action)


def holds_code(raw_code: str) -> bool:
    """Whether a typed or scanned enrolment code is an organisation's (codes are unique across
    citizens and organisations). A probe for routing, not an action: not audited."""
    code = normalize_code(raw_code)
    return code is not None and db.session.scalar(select(OrganisationVerification.id).where(
        OrganisationVerification.code == code)) is not None


def lookup(staff: StaffMember, raw_code: str, *, channel: str = "web") -> OrganisationVerification:
    """Open an organisation's enrolment code (any case/spacing, or POSTID:<code>).

    Returns a pending record, or a submitted one of this office; audited as a view.
    Refusals: not_found (404), own_account (403), expired / cancelled / already_used (409)."""
    code = normalize_code(raw_code)
    verification = None
    if code is not None:
        verification = db.session.scalar(select(OrganisationVerification).where(
            OrganisationVerification.code == code))
    verification = _checked(staff, verification, channel=channel, action="lookup")
    if verification.status in USED:
        refuse(staff, "already_used", verification=verification, channel=channel, action="lookup")
    if verification.status not in (VerificationStatus.PENDING, VerificationStatus.SUBMITTED):
        refuse_status(staff, verification, channel=channel, action="lookup")
    audit_action(AuditTag.COUNTER_ORGANISATION_VIEW, staff, verification, channel, via="code")
    db.session.commit()
    return verification


def get(staff: StaffMember, public_id: str, *, channel: str = "web") -> OrganisationVerification:
    """A record this staff member may see, in any status. Refusals: not_found, own_account."""
    verification = load_for_action(staff, public_id, channel=channel, action="view")
    audit_action(AuditTag.COUNTER_ORGANISATION_VIEW, staff, verification, channel, via="id")
    db.session.commit()
    return verification


def _check_values(staff: StaffMember, check: BusinessCheck, now: datetime) -> dict[str, Any]:
    document = check.document
    return {
        "office_id": staff.office_id, "clerk_id": staff.id, "submitted_at": now,
        "certificate_number": check.certificate_number,
        "certificate_issued_on": check.certificate_issued_on,
        "certificate_match": check.certificate_match,
        "document_type": DocumentType(document.document_type),
        "document_number": document.document_number,
        "document_issued_on": document.issued_on, "document_expires_on": document.expires_on,
        "person_match": check.person_match,
        "authority": RepresentativeAuthority(check.authority),
        "power_of_attorney_ref": check.power_of_attorney_ref or None,
        "power_of_attorney_date": check.power_of_attorney_date,
    }


def submit(staff: StaffMember, public_id: str, check: BusinessCheck, *,
           channel: str = "web") -> OrganisationVerification:
    """Record the check of a pending record and submit it for a supervisor's approval.

    The check must have no problem (idp.domain.business_check.business_check_problems, with
    the representative's own account: the card number must be their personal ID number).
    Refusals: not_found, own_account, expired, cancelled, conflict (409: no longer pending,
    or submitted with other data or by someone else), account_disabled (409), <problem code>
    (400, every problem in `problems`). Submitting the same check twice returns the record."""
    verification = load_for_action(staff, public_id, channel=channel, action="submit")
    organisation = verification.organisation
    representative = organisation.representative
    problems = business_check_problems(
        check, representative_national_id=representative.national_id,
        representative_birthdate=representative.birthdate, today=today_in_vietnam(),
        requires_power_of_attorney=organisation.representative_title is RepresentativeTitle.AUTHORISED)
    values = _check_values(staff, check, utcnow()) if not problems else {}
    retry = {key: value for key, value in values.items() if key != "submitted_at"}
    if retry and done_already(verification, VerificationStatus.SUBMITTED, **retry):
        return verification  # a retry: already done
    if verification.status is not VerificationStatus.PENDING:
        refuse_status(staff, verification, channel=channel, action="submit")
    if problems:
        refuse(staff, problems[0].code, verification=verification, channel=channel,
               problems=problems, action="submit")
    if representative.status is AccountStatus.DISABLED:
        refuse(staff, "account_disabled", verification=verification, channel=channel,
               action="submit")
    if not transition_or_refuse(refuse, staff, verification, VerificationStatus.PENDING,
                                VerificationStatus.SUBMITTED, retry=retry, channel=channel,
                                action="submit", **values):
        return verification  # a concurrent double click of the same person won
    audit_action(AuditTag.COUNTER_ORGANISATION_SUBMIT, staff, verification, channel,
                 document_type=check.document.document_type, authority=check.authority)
    db.session.commit()
    return verification
