"""Decisions on the counter verification of an organisation (DESIGN §5): reject (a clerk at the
counter, or a supervisor on a submitted check), approve and revoke (supervisors, four-eyes);
and the supervisor's lists of organisation checks.

The shared rules (office, own organisation, audited refusals, conditional status changes,
idempotent retries) are described in idp.services.counter.organisation_checks. Approval makes the
organisation VERIFIED and revocation REVOKED, in the same transaction, by a conditional
UPDATE on its status: tokens acting for it are checked against that status at every use, so
they stop by themselves; revocation also revokes them all, so that a later new check does not
revive them. Every decision notifies the representative by SMS (and by e-mail
when confirmed), in their language.
"""

from __future__ import annotations

from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import joinedload

from idp.domain.enrolment_code import normalize_code
from idp.domain.errors import N_, DomainError
from idp.domain.tax_code import parse_tax_code
from idp.extensions import db
from idp.models import (
    AccountStatus,
    AuditTag,
    Organisation,
    OrganisationStatus,
    OrganisationVerification,
    RejectReason,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.counter.decisions import PAGE_SIZE
from idp.services.counter.organisation_checks import (
    audit_action,
    load_for_action,
    refuse,
    refuse_status,
)
from idp.services.counter.workflow import (
    Page,
    done_already,
    page_of,
    parse_reason,
    reject_record,
    transition_or_refuse,
)
from idp.services.platform import notify
from idp.services.portals import tokens

# The reason codes are the citizens'; their words, for an organisation's check.
REASON_LABELS = {
    RejectReason.DOCUMENT_EXPIRED: N_("The representative's ID document has expired"),
    RejectReason.NUMBER_MISMATCH: N_("The number on the ID document is not the "
                                     "representative's ID number"),
    RejectReason.DATA_MISMATCH: N_("The registration certificate or the representative's "
                                   "details do not match what was registered online"),
    RejectReason.PHOTO_MISMATCH: N_("The photo does not match the person"),
    RejectReason.DOCUMENT_DAMAGED: N_("A document is damaged or cannot be read"),
    RejectReason.SUSPECTED_FRAUD: N_("Suspected fraud"),
    RejectReason.OTHER: N_("Another reason (for example, no power of attorney)"),
}


def _set_status(organisation: Organisation, expected: tuple[OrganisationStatus, ...],
                new: OrganisationStatus, **values: Any) -> None:
    """Conditional UPDATE of the organisation's status, in the caller's transaction (the
    commit that follows expires the loaded row)."""
    db.session.execute(
        update(Organisation)
        .where(Organisation.id == organisation.id, Organisation.status.in_(expected))
        .values(status=new, version=Organisation.version + 1, **values)
        .execution_options(synchronize_session=False))


def reject(staff: StaffMember, public_id: str, reason: RejectReason | str | None, *,
           channel: str = "web") -> OrganisationVerification:
    """Reject with a reason code: a pending record at the counter (clerk or supervisor; the
    office taking it is the staff member's), or a submitted check of the office (supervisor
    who did not submit it). The organisation's status does not change. Refusals: not_found,
    own_account, invalid_reason (400), supervisor_only, own_submission (403), expired,
    cancelled, conflict (409). The same rejection retried returns the record unchanged."""
    verification = load_for_action(staff, public_id, channel=channel, action="reject")
    rejected = reject_record(refuse, staff, verification, reason, channel=channel)
    if rejected is None:
        return verification  # a retry: already done
    reason, expected = rejected
    audit_action(AuditTag.COUNTER_ORGANISATION_REJECT, staff, verification, channel,
                 reason=reason.value, stage=expected.value)
    _notify_rejected(verification, reason)
    db.session.commit()
    return verification


def approve(staff: StaffMember, public_id: str, *,
            channel: str = "web") -> OrganisationVerification:
    """Approve a submitted check of the supervisor's office that they did not submit: the
    organisation becomes verified. Refusals: not_found, own_account, supervisor_only,
    own_submission (403), expired, cancelled, conflict, account_disabled (409: the
    representative's account). Approving twice returns the record."""
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
    if verification.organisation.representative.status is AccountStatus.DISABLED:
        refuse(staff, "account_disabled", verification=verification, channel=channel,
               action="approve")
    now = utcnow()
    if not transition_or_refuse(refuse, staff, verification, VerificationStatus.SUBMITTED,
                                VerificationStatus.APPROVED, retry=retry, channel=channel,
                                action="approve", decided_by=staff.id, decided_at=now):
        return verification
    # Already verified (by an earlier check) stays verified: nothing to change then.
    _set_status(verification.organisation,
                (OrganisationStatus.UNVERIFIED, OrganisationStatus.REVOKED),
                OrganisationStatus.VERIFIED, verified_at=now)
    audit_action(AuditTag.COUNTER_ORGANISATION_APPROVE, staff, verification, channel)
    _notify(verification, "approved")
    db.session.commit()
    return verification


def revoke(staff: StaffMember, public_id: str, reason: RejectReason | str | None, *,
           channel: str = "web") -> OrganisationVerification:
    """Revoke an approved check of the supervisor's office (fraud, error): the organisation
    is no longer verified, so nobody can act for it any more. Refusals: not_found,
    own_account, invalid_reason, supervisor_only, own_submission, conflict. The same
    revocation retried returns the record."""
    verification = load_for_action(staff, public_id, channel=channel, action="revoke")
    if not staff.is_supervisor:
        refuse(staff, "supervisor_only", verification=verification, channel=channel,
               action="revoke")
    reason = parse_reason(refuse, staff, reason, verification, channel=channel, action="revoke")
    retry = {"revoked_by": staff.id, "revoke_reason": reason}
    if done_already(verification, VerificationStatus.REVOKED, **retry):
        return verification
    if verification.status is not VerificationStatus.APPROVED:
        refuse_status(staff, verification, channel=channel, action="revoke")
    if verification.clerk_id == staff.id:
        refuse(staff, "own_submission", verification=verification, channel=channel,
               action="revoke")
    if not transition_or_refuse(refuse, staff, verification, VerificationStatus.APPROVED,
                                VerificationStatus.REVOKED, retry=retry, channel=channel,
                                action="revoke", revoked_by=staff.id, revoked_at=utcnow(),
                                revoke_reason=reason):
        return verification
    _set_status(verification.organisation, (OrganisationStatus.VERIFIED,),
                OrganisationStatus.REVOKED, verified_at=None)
    # Dead for good: a later new check verifying the organisation again must not revive them.
    tokens.revoke_for_organisation(verification.organisation_id, reason="organisation_revoked")
    audit_action(AuditTag.COUNTER_ORGANISATION_REVOKE, staff, verification, channel,
                 reason=reason.value)
    _notify(verification, "revoked")
    db.session.commit()
    return verification


# --- notices to the representative ------------------------------------------------------------


def _notify(verification: OrganisationVerification, what: str) -> None:
    organisation = verification.organisation
    account = organisation.representative
    name = organisation.name
    with force_locale(account.locale or "vi"):
        if what == "approved":
            sms = gettext("PostID: %(org)s has been verified at a post office. Its members can "
                          "now act for it.", org=name)
            subject = gettext("PostID: your organisation has been verified")
            body = gettext("Hello %(name)s,\n\n%(org)s has been verified at a post office. Its "
                           "active members can now sign in to public services on its behalf.",
                           name=account.full_name, org=name)
        else:
            sms = gettext("PostID: the verification of %(org)s was withdrawn; nobody can act for "
                          "it any more. Visit a post office to have it verified again.", org=name)
            subject = gettext("PostID: the verification of your organisation was withdrawn")
            body = gettext("Hello %(name)s,\n\nThe post office withdrew the verification of "
                           "%(org)s. Nobody can sign in to public services on its behalf any "
                           "more. To have it verified again, ask for a new enrolment code in "
                           "your account and visit any post office with the registration "
                           "certificate and your ID card.",
                           name=account.full_name, org=name)
    notify.tell_account(account, template=f"counter.organisation.{what}", sms=sms,
                        subject=subject, body=body)


def _notify_rejected(verification: OrganisationVerification, reason: RejectReason) -> None:
    organisation = verification.organisation
    account = organisation.representative
    with force_locale(account.locale or "vi"):
        why = gettext(REASON_LABELS[reason])
        sms = gettext("PostID: %(org)s could not be verified at the post office (%(why)s). You "
                      "can ask for a new code online.", org=organisation.name, why=why)
        subject = gettext("PostID: your organisation could not be verified")
        body = gettext("Hello %(name)s,\n\n%(org)s could not be verified at the post office. "
                       "Reason: %(why)s.\n\nYou can ask for a new enrolment code in your account "
                       "and visit any post office with the registration certificate and your "
                       "ID card.", name=account.full_name, org=organisation.name, why=why)
    notify.tell_account(account, template="counter.organisation.rejected", sms=sms,
                        subject=subject, body=body)


# --- the supervisor's lists --------------------------------------------------------------------


def _listed() -> Select[tuple[OrganisationVerification]]:
    """The lists name each organisation: loaded with the rows, not one query per row."""
    return select(OrganisationVerification).options(
        joinedload(OrganisationVerification.organisation))


def approval_queue(staff: StaffMember, page: int = 1) -> Page:
    """Submitted organisation checks of the staff member's office, oldest first."""
    query = _listed().where(
        OrganisationVerification.office_id == staff.office_id,
        OrganisationVerification.status == VerificationStatus.SUBMITTED)
    return page_of(query, page, (OrganisationVerification.submitted_at, OrganisationVerification.id),
                   size=PAGE_SIZE)


def approved(staff: StaffMember, page: int = 1, search: str | None = None) -> Page:
    """Approved organisation checks of the office, newest decision first; `search` narrows
    the list to one enrolment code or one tax code (both unique); anything else matches
    nothing."""
    query = _listed().where(
        OrganisationVerification.office_id == staff.office_id,
        OrganisationVerification.status == VerificationStatus.APPROVED)
    if search:
        try:
            tax_code = parse_tax_code(search).value
        except DomainError:
            tax_code = ""
        organisation_ids = select(Organisation.id).where(Organisation.tax_code == tax_code)
        query = query.where(or_(OrganisationVerification.code == (normalize_code(search) or ""),
                                OrganisationVerification.organisation_id.in_(organisation_ids)))
    return page_of(query, page, (OrganisationVerification.decided_at.desc(),
                                 OrganisationVerification.id.desc()), size=PAGE_SIZE)
