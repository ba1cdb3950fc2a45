"""Decisions on a counter verification (DESIGN §5): reject (a clerk at the counter, or a
supervisor on a submitted check), approve and revoke (supervisors, four-eyes); and the
supervisor's lists: the approval queue and the approved verifications of the office.

The rules shared with the clerk's side (visibility by office, own account, refusals audited in
their own commit, status changes by conditional UPDATE, idempotent retries) are described in
idp.services.counter.checks. Every decision notifies the citizen by SMS, and by e-mail when
their address is confirmed, in the account's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import force_locale, gettext
from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from idp.domain.enrolment_code import normalize_code
from idp.domain.errors import N_
from idp.extensions import db
from idp.models import (
    Account,
    AccountStatus,
    AuditTag,
    IdentityVerification,
    RejectReason,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.counter.checks import audit_action, load_for_action, refuse, refuse_status
from idp.services.counter.workflow import (
    Page,
    done_already,
    page_of,
    parse_reason,
    reject_record,
    transition_or_refuse,
)
from idp.services.identity import logout
from idp.services.platform import notify
from idp.services.portals import tokens

REVOKE_REASON = "verification_revoked"
PAGE_SIZE = 20

# Plain words for the reason codes, shown to staff and sent to the citizen.
REASON_LABELS = {
    RejectReason.DOCUMENT_EXPIRED: N_("The ID document has expired"),
    RejectReason.NUMBER_MISMATCH: N_("The number on the document is not the declared ID number"),
    RejectReason.DATA_MISMATCH: N_("The name, date of birth or sex does not match the document"),
    RejectReason.PHOTO_MISMATCH: N_("The photo does not match the person"),
    RejectReason.DOCUMENT_DAMAGED: N_("The document is damaged or cannot be read"),
    RejectReason.SUSPECTED_FRAUD: N_("Suspected fraud"),
    RejectReason.OTHER: N_("Another reason"),
}


@dataclass(frozen=True)
class Revocation:
    verification: IdentityVerification
    logouts: list[int]  # back-channel deliveries to attempt after the commit


def reject(staff: StaffMember, public_id: str, reason: RejectReason | str | None, *,
           channel: str = "web") -> IdentityVerification:
    """Reject with a reason code: a pending record at the counter (clerk or supervisor; the
    office taking it is the staff member's), or a submitted check of the office (supervisor
    who did not submit it). Refusals: not_found, own_account, invalid_reason (400),
    supervisor_only, own_submission (403), expired, cancelled, conflict (409). The same
    rejection retried by the same person returns the record unchanged."""
    verification = load_for_action(staff, public_id, channel=channel, action="reject")
    rejected = reject_record(refuse, staff, verification, reason, channel=channel)
    if rejected is None:
        return verification  # a retry: already done
    reason, expected = rejected
    audit_action(AuditTag.COUNTER_VERIFICATION_REJECT, staff, verification, channel,
                 reason=reason.value, stage=expected.value)
    _notify_rejected(verification.account, reason)
    db.session.commit()
    return verification


def approve(staff: StaffMember, public_id: str, *, channel: str = "web") -> IdentityVerification:
    """Approve a submitted check of the supervisor's office that they did not submit: the
    account becomes LoA2 and takes the verified postal address, if one was recorded.
    Refusals: not_found, own_account, supervisor_only, own_submission (403), expired,
    cancelled, conflict, account_disabled (409). Approving twice returns the record."""
    verification = load_for_action(staff, public_id, channel=channel, action="approve")
    if not staff.is_supervisor:
        refuse(staff, "supervisor_only", verification=verification, channel=channel,
               action="approve")
    retry = {"decided_by": staff.id}
    if done_already(verification, VerificationStatus.APPROVED, **retry):
        return verification
    if verification.status is not VerificationStatus.SUBMITTED:
        refuse_status(staff, verification, channel=channel, action="approve")
    if verification.clerk_id == staff.id:
        refuse(staff, "own_submission", verification=verification, channel=channel,
               action="approve")
    account = verification.account
    if account.status is AccountStatus.DISABLED:
        refuse(staff, "account_disabled", verification=verification, channel=channel,
               action="approve")
    now = utcnow()
    if not transition_or_refuse(refuse, staff, verification, VerificationStatus.SUBMITTED,
                                VerificationStatus.APPROVED, retry=retry, channel=channel,
                                action="approve", decided_by=staff.id, decided_at=now):
        return verification
    account.identity_loa = 2
    if verification.verified_address:
        account.postal_address = verification.verified_address
        account.address_verified_at = now
    audit_action(AuditTag.COUNTER_VERIFICATION_APPROVE, staff, verification, channel,
                 address=verification.verified_address is not None)
    _notify_approved(account)
    db.session.commit()
    return verification


def revoke(staff: StaffMember, public_id: str, reason: RejectReason | str | None, *,
           channel: str = "web") -> Revocation:
    """Revoke an approved verification of the supervisor's office (fraud, error): the account
    drops to LoA1, loses its verified address, every sign-in session ends and every token is
    revoked, with back-channel logouts queued to the portals. Refusals: not_found,
    own_account, invalid_reason, supervisor_only, own_submission, conflict. The same
    revocation retried by the same person returns the record and queues nothing."""
    verification = load_for_action(staff, public_id, channel=channel, action="revoke")
    if not staff.is_supervisor:
        refuse(staff, "supervisor_only", verification=verification, channel=channel,
               action="revoke")
    reason = parse_reason(refuse, staff, reason, verification, channel=channel, action="revoke")
    retry = {"revoked_by": staff.id, "revoke_reason": reason}
    if done_already(verification, VerificationStatus.REVOKED, **retry):
        return Revocation(verification, [])
    if verification.status is not VerificationStatus.APPROVED:
        refuse_status(staff, verification, channel=channel, action="revoke")
    if verification.clerk_id == staff.id:
        refuse(staff, "own_submission", verification=verification, channel=channel,
               action="revoke")
    if not transition_or_refuse(refuse, staff, verification, VerificationStatus.APPROVED,
                                VerificationStatus.REVOKED, retry=retry, channel=channel,
                                action="revoke", revoked_by=staff.id, revoked_at=utcnow(),
                                revoke_reason=reason):
        return Revocation(verification, [])
    account = verification.account
    account.identity_loa = 1
    account.postal_address = None
    account.address_verified_at = None
    logouts = _sign_out_everywhere(account)
    audit_action(AuditTag.COUNTER_VERIFICATION_REVOKE, staff, verification, channel,
                 reason=reason.value)
    _notify_revoked(account)
    db.session.commit()
    return Revocation(verification, logouts)


def _sign_out_everywhere(account: Account) -> list[int]:
    """Sessions carry the LoA they were opened with, and tokens the acr they were issued at:
    end them all (DESIGN §4: refresh tokens are revoked on verification revocation)."""
    logouts = logout.end_other_sessions_in_transaction(
        account.id, current_session_id=None, reason=REVOKE_REASON)
    tokens.revoke_for_account(account.id, reason=REVOKE_REASON)
    return logouts


def _notify_approved(account: Account) -> None:
    with force_locale(account.locale or "vi"):
        sms = gettext("PostID: your identity has been verified at a post office. Sign in again "
                      "to use services that need verified identity.")
        subject = gettext("PostID: your identity has been verified")
        body = gettext("Hello %(name)s,\n\nYour identity has been verified in person at a post "
                       "office. Sign in again to use public services that need a verified "
                       "identity.", name=account.full_name)
    notify.tell_account(account, template="counter.approved", sms=sms, subject=subject, body=body)


def _notify_rejected(account: Account, reason: RejectReason) -> None:
    with force_locale(account.locale or "vi"):
        why = gettext(REASON_LABELS[reason])
        sms = gettext("PostID: your identity could not be verified at the post office (%(why)s). "
                      "You can ask for a new code online and visit any post office.", why=why)
        subject = gettext("PostID: your identity could not be verified")
        body = gettext("Hello %(name)s,\n\nYour identity could not be verified at the post "
                       "office. Reason: %(why)s.\n\nYou can ask for a new enrolment code in your "
                       "account and visit any post office with your ID card.",
                       name=account.full_name, why=why)
    notify.tell_account(account, template="counter.rejected", sms=sms, subject=subject, body=body)


def _notify_revoked(account: Account) -> None:
    with force_locale(account.locale or "vi"):
        sms = gettext("PostID: the verification of your identity was withdrawn and every device "
                      "was signed out. Visit a post office with your ID card.")
        subject = gettext("PostID: the verification of your identity was withdrawn")
        body = gettext("Hello %(name)s,\n\nThe in-person verification of your identity was "
                       "withdrawn by the post office, and every device and service was signed "
                       "out. To be verified again, visit any post office with your ID card.",
                       name=account.full_name)
    notify.tell_account(account, template="counter.revoked", sms=sms, subject=subject, body=body)


# --- the supervisor's lists ------------------------------------------------------------------


def _listed() -> Select[tuple[IdentityVerification]]:
    """The lists name each citizen: loaded with the rows, not one query per row."""
    return select(IdentityVerification).options(joinedload(IdentityVerification.account))


def approval_queue(staff: StaffMember, page: int = 1) -> Page:
    """Submitted checks of the staff member's office, oldest first (office_id index)."""
    query = _listed().where(
        IdentityVerification.office_id == staff.office_id,
        IdentityVerification.status == VerificationStatus.SUBMITTED)
    return page_of(query, page, (IdentityVerification.submitted_at, IdentityVerification.id),
                   size=PAGE_SIZE)


def approved(staff: StaffMember, page: int = 1, code: str | None = None) -> Page:
    """Approved verifications of the office, newest decision first; `code` narrows the list
    to one enrolment code (unique index); a malformed code matches nothing."""
    query = _listed().where(
        IdentityVerification.office_id == staff.office_id,
        IdentityVerification.status == VerificationStatus.APPROVED)
    if code:
        query = query.where(IdentityVerification.code == (normalize_code(code) or ""))
    return page_of(query, page, (IdentityVerification.decided_at.desc(),
                                 IdentityVerification.id.desc()), size=PAGE_SIZE)
