"""The clerk's side of the counter verification of an organisation (docs/architecture.md §8, business
accounts): open the organisation's enrolment code, check the business registration
certificate and the representative's ID card, and submit. Rejections, the supervisor's
decisions and lists are in idp.services.counter.organisation_decisions.

Both run the one counter workflow of citizens' checks (idp.services.counter.workflow, whose
rules they follow), with the organisation's representative in the citizen's place
(idp.services.counter.organisation_kind): nobody acts on an organisation they represent or
are a live member of (invited, active or suspended: compared by personal ID number), 403
`own_account`; a refusal raises CounterOrganisationRefusal and is audited as
COUNTER_ORGANISATION_REFUSED.
"""

from __future__ import annotations

from sqlalchemy import select

from idp.domain.business_check import BusinessCheck
from idp.domain.enrolment_code import normalize_code
from idp.extensions import db
from idp.models import OrganisationVerification, StaffMember
from idp.services.counter import steps, workflow
from idp.services.counter.organisation_kind import ORGANISATION
from idp.services.counter.refusals import CounterOrganisationRefusal

__all__ = ["CounterOrganisationRefusal", "get", "holds_code", "load_for_action", "lookup",
           "submit"]


def load_for_action(staff: StaffMember, public_id: str, *, channel: str,
                    action: str) -> OrganisationVerification:
    """The record by public id, if this staff member may see it: 404 / 403 refusals otherwise."""
    return steps.load_for_action(ORGANISATION, staff, public_id, channel=channel, action=action)


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
    return workflow.lookup(ORGANISATION, staff, raw_code, channel=channel)


def get(staff: StaffMember, public_id: str, *, channel: str = "web") -> OrganisationVerification:
    """A record this staff member may see, in any status. Refusals: not_found, own_account."""
    return workflow.get(ORGANISATION, staff, public_id, channel=channel)


def submit(staff: StaffMember, public_id: str, check: BusinessCheck, *,
           channel: str = "web") -> OrganisationVerification:
    """Record the check of a pending record and submit it for a supervisor's approval.

    The check must have no problem (idp.domain.business_check.business_check_problems, with
    the representative's own account: the card number must be their personal ID number).
    Refusals: not_found, own_account, expired, cancelled, conflict (409: no longer pending,
    or submitted with other data or by someone else), account_disabled (409), <problem code>
    (400, every problem in `problems`). Submitting the same check twice returns the record."""
    return workflow.submit(ORGANISATION, staff, public_id, check, channel=channel)
