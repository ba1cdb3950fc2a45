"""Decisions on the counter verification of an organisation (docs/architecture.md §8): reject (a clerk at the
counter, or a supervisor on a submitted check), approve and revoke (supervisors, four-eyes);
and the supervisor's lists of organisation checks.

The decisions run the one counter workflow (idp.services.counter.workflow, which describes the
rules) for an organisation's check; what a decision does to the organisation and tells its
representative is in idp.services.counter.organisation_kind.
"""

from __future__ import annotations

from sqlalchemy import or_, select

from idp.domain.enrolment_code import normalize_code
from idp.domain.errors import DomainError
from idp.domain.tax_code import parse_tax_code
from idp.models import (
    Organisation,
    OrganisationVerification,
    RejectReason,
    StaffMember,
)
from idp.services.counter import workflow
from idp.services.counter.decisions import PAGE_SIZE
from idp.services.counter.organisation_kind import ORGANISATION, REASON_LABELS
from idp.services.counter.steps import Page

__all__ = ["PAGE_SIZE", "REASON_LABELS", "approval_queue", "approve", "approved", "reject",
           "revoke"]


def reject(staff: StaffMember, public_id: str, reason: RejectReason | str | None, *,
           channel: str = "web") -> OrganisationVerification:
    """Reject with a reason code: a pending record at the counter (clerk or supervisor; the
    office taking it is the staff member's), or a submitted check of the office (supervisor
    who did not submit it). The organisation's status does not change. Refusals: not_found,
    own_account, invalid_reason (400), supervisor_only, own_submission (403), expired,
    cancelled, conflict (409). The same rejection retried returns the record unchanged."""
    return workflow.reject(ORGANISATION, staff, public_id, reason, channel=channel)


def approve(staff: StaffMember, public_id: str, *,
            channel: str = "web") -> OrganisationVerification:
    """Approve a submitted check of the supervisor's office that they did not submit: the
    organisation becomes verified. Refusals: not_found, own_account, supervisor_only,
    own_submission (403), expired, cancelled, conflict, account_disabled (409: the
    representative's account). Approving twice returns the record."""
    return workflow.approve(ORGANISATION, staff, public_id, channel=channel)


def revoke(staff: StaffMember, public_id: str, reason: RejectReason | str | None, *,
           channel: str = "web") -> OrganisationVerification:
    """Revoke an approved check of the supervisor's office (fraud, error): the organisation
    is no longer verified, so nobody can act for it any more. Refusals: not_found,
    own_account, invalid_reason, supervisor_only, own_submission, conflict. The same
    revocation retried returns the record."""
    return workflow.revoke(ORGANISATION, staff, public_id, reason, channel=channel).verification


# --- the supervisor's lists --------------------------------------------------------------------


def approval_queue(staff: StaffMember, page: int = 1) -> Page:
    """Submitted organisation checks of the staff member's office, oldest first."""
    return workflow.approval_queue(ORGANISATION, staff, page, size=PAGE_SIZE)


def approved(staff: StaffMember, page: int = 1, search: str | None = None) -> Page:
    """Approved organisation checks of the office, newest decision first; `search` narrows
    the list to one enrolment code or one tax code (both unique); anything else matches
    nothing."""
    narrowed = None
    if search:
        try:
            tax_code = parse_tax_code(search).value
        except DomainError:
            tax_code = ""
        organisation_ids = select(Organisation.id).where(Organisation.tax_code == tax_code)
        narrowed = or_(OrganisationVerification.code == (normalize_code(search) or ""),
                       OrganisationVerification.organisation_id.in_(organisation_ids))
    return workflow.approved(ORGANISATION, staff, page, size=PAGE_SIZE, narrowed=narrowed)
