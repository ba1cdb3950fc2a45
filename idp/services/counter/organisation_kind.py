"""What is particular to an organisation's check at the counter (docs/architecture.md §8, §10),
as the counter workflow (idp.services.counter.workflow) needs it: the organisation's
representative in the citizen's place, the check of the business registration certificate and
of the representative's ID card, the organisation's status on approval and revocation, and the
notices to the representative (SMS, and e-mail when confirmed, in their language).

Approval makes the organisation VERIFIED and revocation REVOKED, in the decision's transaction,
by a conditional UPDATE on its status: tokens acting for it are checked against that status at
every use, so they stop by themselves; revocation also revokes them all, so that a later new
check does not revive them. A registration replaced online takes its pending check with it:
the workflow then answers not found.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from idp.domain.business_check import BusinessCheck, business_check_problems
from idp.domain.errors import N_, DomainError
from idp.extensions import db
from idp.models import (
    LIVE_MEMBERSHIP,
    AuditTag,
    DocumentType,
    Organisation,
    OrganisationMember,
    OrganisationStatus,
    OrganisationVerification,
    RejectReason,
    RepresentativeAuthority,
    RepresentativeTitle,
    StaffMember,
)
from idp.services.business import organisations
from idp.services.counter.kind import AuditTags, CheckKind
from idp.services.counter.refusals import CounterOrganisationRefusal
from idp.services.platform import notify
from idp.services.platform.clock import today_in_vietnam
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

def is_own(staff: StaffMember, verification: OrganisationVerification) -> bool:
    """The staff member represents the organisation or is a live member of it."""
    organisation = verification.organisation
    if organisation.representative.national_id == staff.national_id:
        return True
    return db.session.scalar(select(OrganisationMember.id).where(
        OrganisationMember.organisation_id == organisation.id,
        OrganisationMember.national_id == staff.national_id,
        OrganisationMember.status.in_(LIVE_MEMBERSHIP)).limit(1)) is not None


def problems(verification: OrganisationVerification, check: BusinessCheck) -> list[DomainError]:
    """idp.domain.business_check.business_check_problems, with the representative's own
    account: the card number must be their personal ID number."""
    organisation = verification.organisation
    representative = organisation.representative
    return business_check_problems(
        check, representative_national_id=representative.national_id,
        representative_birthdate=representative.birthdate, today=today_in_vietnam(),
        requires_power_of_attorney=organisation.representative_title is RepresentativeTitle.AUTHORISED)


def check_values(staff: StaffMember, check: BusinessCheck, now: datetime) -> dict[str, Any]:
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


def submit_audit(check: BusinessCheck) -> dict[str, Any]:
    return {"document_type": check.document.document_type, "authority": check.authority}


def approved(verification: OrganisationVerification, now: datetime) -> dict[str, Any]:
    """The organisation becomes verified."""
    # Already verified (by an earlier check) stays verified: nothing to change then.
    _set_status(verification.organisation,
                (OrganisationStatus.UNVERIFIED, OrganisationStatus.REVOKED),
                OrganisationStatus.VERIFIED, verified_at=now)
    return {}


def revoked(verification: OrganisationVerification) -> list[int]:
    """The organisation is no longer verified, so nobody can act for it any more."""
    _set_status(verification.organisation, (OrganisationStatus.VERIFIED,),
                OrganisationStatus.REVOKED, verified_at=None)
    # Dead for good: a later new check verifying the organisation again must not revive them.
    tokens.revoke_for_organisation(verification.organisation_id, reason="organisation_revoked")
    return []


def _set_status(organisation: Organisation, expected: tuple[OrganisationStatus, ...],
                new: OrganisationStatus, **values: Any) -> None:
    """Conditional UPDATE of the organisation's status, in the caller's transaction (the
    commit that follows expires the loaded row)."""
    db.session.execute(
        update(Organisation)
        .where(Organisation.id == organisation.id, Organisation.status.in_(expected))
        .values(status=new, version=Organisation.version + 1, **values)
        .execution_options(synchronize_session=False))


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


ORGANISATION = CheckKind(
    model=OrganisationVerification,
    refusal=CounterOrganisationRefusal,
    owner=OrganisationVerification.organisation,
    tags=AuditTags(refused=AuditTag.COUNTER_ORGANISATION_REFUSED,
                   view=AuditTag.COUNTER_ORGANISATION_VIEW,
                   submit=AuditTag.COUNTER_ORGANISATION_SUBMIT,
                   approve=AuditTag.COUNTER_ORGANISATION_APPROVE,
                   reject=AuditTag.COUNTER_ORGANISATION_REJECT,
                   revoke=AuditTag.COUNTER_ORGANISATION_REVOKE),
    account_id=lambda verification: verification.organisation.representative_account_id,
    audit_ids=lambda verification: {"organisation": verification.organisation.public_id},
    account=lambda verification: verification.organisation.representative,
    is_own=is_own,
    owner_exists=organisations.still_there,
    problems=problems,
    check_values=check_values,
    submit_audit=submit_audit,
    approved=approved,
    revoked=revoked,
    notify_approved=lambda verification: _notify(verification, "approved"),
    notify_rejected=_notify_rejected,
    notify_revoked=lambda verification: _notify(verification, "revoked"),
)
