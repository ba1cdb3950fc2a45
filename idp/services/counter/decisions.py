"""Decisions on a citizen's counter verification (docs/architecture.md §8): reject (a clerk at the counter, or
a supervisor on a submitted check), approve and revoke (supervisors, four-eyes); and the
supervisor's lists: the approval queue and the approved verifications of the office.

The decisions run the one counter workflow (idp.services.counter.workflow, which describes the
rules) for a citizen's check; what a decision does to the account and tells the citizen is in
idp.services.counter.citizen_kind.
"""

from __future__ import annotations

from idp.domain.enrolment_code import normalize_code
from idp.models import IdentityVerification, RejectReason, StaffMember
from idp.services.counter import workflow
from idp.services.counter.citizen_kind import CITIZEN, REASON_LABELS
from idp.services.counter.steps import Page
from idp.services.counter.workflow import Revocation

__all__ = ["PAGE_SIZE", "REASON_LABELS", "Page", "Revocation", "approval_queue", "approve",
           "approved", "reject", "revoke"]

PAGE_SIZE = 20


def reject(staff: StaffMember, public_id: str, reason: RejectReason | str | None, *,
           channel: str = "web") -> IdentityVerification:
    """Reject with a reason code: a pending record at the counter (clerk or supervisor; the
    office taking it is the staff member's), or a submitted check of the office (supervisor
    who did not submit it). Refusals: not_found, own_account, invalid_reason (400),
    supervisor_only, own_submission (403), expired, cancelled, conflict (409). The same
    rejection retried by the same person returns the record unchanged."""
    return workflow.reject(CITIZEN, staff, public_id, reason, channel=channel)


def approve(staff: StaffMember, public_id: str, *, channel: str = "web") -> IdentityVerification:
    """Approve a submitted check of the supervisor's office that they did not submit: the
    account becomes LoA2 and takes the verified postal address, if one was recorded.
    Refusals: not_found, own_account, supervisor_only, own_submission (403), expired,
    cancelled, conflict, account_disabled (409). Approving twice returns the record."""
    return workflow.approve(CITIZEN, staff, public_id, channel=channel)


def revoke(staff: StaffMember, public_id: str, reason: RejectReason | str | None, *,
           channel: str = "web") -> Revocation[IdentityVerification]:
    """Revoke an approved verification of the supervisor's office (fraud, error): the account
    drops to LoA1, loses its verified address, every sign-in session ends and every token is
    revoked, with back-channel logouts queued to the portals. Refusals: not_found,
    own_account, invalid_reason, supervisor_only, own_submission, conflict. The same
    revocation retried by the same person returns the record and queues nothing."""
    return workflow.revoke(CITIZEN, staff, public_id, reason, channel=channel)


# --- the supervisor's lists ------------------------------------------------------------------


def approval_queue(staff: StaffMember, page: int = 1) -> Page:
    """Submitted checks of the staff member's office, oldest first (office_id index)."""
    return workflow.approval_queue(CITIZEN, staff, page, size=PAGE_SIZE)


def approved(staff: StaffMember, page: int = 1, code: str | None = None) -> Page:
    """Approved verifications of the office, newest decision first; `code` narrows the list
    to one enrolment code (unique index); a malformed code matches nothing."""
    narrowed = IdentityVerification.code == (normalize_code(code) or "") if code else None
    return workflow.approved(CITIZEN, staff, page, size=PAGE_SIZE, narrowed=narrowed)
