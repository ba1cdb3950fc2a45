"""The clerk's side of a citizen's counter verification (docs/architecture.md §8): open an enrolment code and
record the check of the physical ID card. Rejections (at the counter too) and the supervisor's
decisions are in idp.services.counter.decisions. Both run the one counter workflow
(idp.services.counter.workflow, whose rules they follow) for a citizen's check
(idp.services.counter.citizen_kind); a refusal raises CounterRefusal.
"""

from __future__ import annotations

from sqlalchemy import select

from idp.domain.document_check import DocumentCheck
from idp.extensions import db
from idp.models import IdentityVerification, StaffMember, VerificationStatus
from idp.services.counter import steps, workflow
from idp.services.counter.citizen_kind import CITIZEN
from idp.services.counter.kind import Verification
from idp.services.counter.refusals import MESSAGES, CounterRefusal

__all__ = ["MESSAGES", "CounterRefusal", "allowed_actions", "get", "load_for_action", "lookup",
           "staff_by_id", "submit"]


def load_for_action(staff: StaffMember, public_id: str, *, channel: str,
                    action: str) -> IdentityVerification:
    """The record by public id, if this staff member may see it: 404 / 403 refusals otherwise.
    A pending record past its expiry becomes expired (committed with its own audit event)."""
    return steps.load_for_action(CITIZEN, staff, public_id, channel=channel, action=action)


def lookup(staff: StaffMember, raw_code: str, *, channel: str = "web") -> IdentityVerification:
    """Open an enrolment code (typed, any case/spacing, or the QR payload POSTID:<code>).

    Returns a pending record, or a submitted one of this office; audited as a view.
    Refusals: not_found (404: unknown, malformed, or another office's), own_account (403),
    expired / cancelled / already_used (409)."""
    return workflow.lookup(CITIZEN, staff, raw_code, channel=channel)


def get(staff: StaffMember, public_id: str, *, channel: str = "web") -> IdentityVerification:
    """A record this staff member may see, in any status (the page shows where it stands).
    Refusals: not_found (404), own_account (403). Audited as a view."""
    return workflow.get(CITIZEN, staff, public_id, channel=channel)


def submit(staff: StaffMember, public_id: str, check: DocumentCheck, *,
           channel: str = "web") -> IdentityVerification:
    """Record the document check of a pending record and submit it for approval.

    The check must have no problem (idp.domain.document_check.check_problems); an expired
    card is refused with `document.expired` (the clerk rejects instead). Refusals: not_found,
    own_account, expired, cancelled, conflict (409: no longer pending, or submitted with
    other data or by someone else), account_disabled (409), <problem code> (400, all problems
    in `problems`). Submitting the same check twice returns the record unchanged."""
    return workflow.submit(CITIZEN, staff, public_id, check, channel=channel)


def allowed_actions(staff: StaffMember, verification: Verification) -> list[str]:
    """What this staff member may do next on a record they can see (drives the console's
    forms and the API's `actions`); the services enforce the same rules on their own. The
    same for an organisation's check."""
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


