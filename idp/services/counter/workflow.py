"""The mechanics shared by the two kinds of counter check, citizens' (idp.services.counter.checks,
counter_decisions) and organisations' (counter_organisations, counter_organisation_decisions):
storing a refusal, the retry-safe conditional status change, the rejection's stage rules and
the supervisor's paged lists. What differs stays with each side: who the record is about, its
audit tags and wording, and what a decision does to the account or the organisation.

A side's `refuse(staff, code, *, verification, channel, action)` undoes the transaction,
commits the refusal's audit event and raises; the helpers here take it as their first argument.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import func, select

from idp.domain.errors import DomainError
from idp.extensions import db
from idp.models import (
    AuditTag,
    IdentityVerification,
    OrganisationVerification,
    RejectReason,
    StaffMember,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.platform import audit
from idp.services.standing.verification_state import transition

Verification = IdentityVerification | OrganisationVerification
Refuse = Callable[..., NoReturn]


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int


def store_refusal(tag: AuditTag, staff: StaffMember, code: str, *,
                  verification: Verification | None, account_id: int | None, channel: str,
                  action: str, problems: list[DomainError] | None) -> VerificationStatus | None:
    """Undo the transaction and commit only the refusal's audit event. Returns the record's
    status now on a `conflict` (the message names it), else None."""
    staff_id, office_id = staff.id, staff.office_id
    public_id = verification.public_id if verification is not None else None
    db.session.rollback()
    current = None
    if code == "conflict" and verification is not None:
        db.session.refresh(verification)
        current = verification.status
    data: dict[str, Any] = {"reason": code, "action": action}
    if public_id:
        data["verification"] = public_id
    if problems:
        data["problems"] = [p.code for p in problems]
    audit.record(tag, account_id=account_id, staff_id=staff_id, office_id=office_id,
                 channel=channel, **data)
    db.session.commit()
    return current


def visible_to(staff: StaffMember, verification: Verification | None) -> bool:
    """Pending records belong to no office yet (any office can take a code); once an office
    has acted on one, only that office sees it."""
    return verification is not None and verification.office_id in (None, staff.office_id)


def status_refusal(verification: Verification) -> str:
    """Why the record is not in the status an action needs."""
    return {VerificationStatus.EXPIRED: "expired",
            VerificationStatus.CANCELLED: "cancelled"}.get(verification.status, "conflict")


def parse_reason(refuse: Refuse, staff: StaffMember, reason: RejectReason | str | None,
                 verification: Verification, *, channel: str, action: str) -> RejectReason:
    if isinstance(reason, RejectReason):
        return reason
    try:
        return RejectReason(reason)
    except ValueError:
        refuse(staff, "invalid_reason", verification=verification, channel=channel, action=action)


def done_already(verification: Verification, status: VerificationStatus, **fields: Any) -> bool:
    """The record is in `status` with `fields` set: the same action was done (a retry)."""
    return verification.status is status and all(
        getattr(verification, key) == value for key, value in fields.items())


def transition_or_refuse(refuse: Refuse, staff: StaffMember, verification: Verification,
                         expected: VerificationStatus, new: VerificationStatus, *,
                         retry: dict[str, Any], channel: str, action: str,
                         **values: Any) -> bool:
    """The conditional status change of an action. True if this call made it; False if the
    same action (`new` with the `retry` fields) won a race, e.g. a double click: the
    transaction is rolled back and the caller returns the record unchanged. Any other loser
    is refused: expired, cancelled or conflict."""
    if transition(verification, expected, new, **values):
        return True
    if done_already(verification, new, **retry):
        db.session.rollback()
        return False
    refuse(staff, status_refusal(verification), verification=verification, channel=channel,
           action=action)


def reject_record(refuse: Refuse, staff: StaffMember, verification: Verification,
                  reason: RejectReason | str | None, *, channel: str
                  ) -> tuple[RejectReason, VerificationStatus] | None:
    """Reject `verification` with a reason code, in the caller's transaction: the reason and
    the stage it was rejected at, or None when the same rejection by the same person was
    already done (a retry: nothing to record). Refusals through `refuse`."""
    reason = parse_reason(refuse, staff, reason, verification, channel=channel, action="reject")
    retry = {"decided_by": staff.id, "reject_reason": reason}
    if done_already(verification, VerificationStatus.REJECTED, **retry):
        return None
    expected = verification.status
    values = rejection_values(refuse, staff, verification, reason, utcnow(), channel=channel)
    if not transition_or_refuse(refuse, staff, verification, expected, VerificationStatus.REJECTED,
                                retry=retry, channel=channel, action="reject", **values):
        return None
    return reason, expected


def rejection_values(refuse: Refuse, staff: StaffMember, verification: Verification,
                     reason: RejectReason, now: datetime, *, channel: str) -> dict[str, object]:
    """What a rejection sets, by stage: a pending record at the counter is taken by the staff
    member's office; a submitted check needs a supervisor who did not submit it; any other
    status is refused."""
    values: dict[str, object] = {"decided_by": staff.id, "decided_at": now, "reject_reason": reason}
    if verification.status is VerificationStatus.PENDING:
        values.update(office_id=staff.office_id, clerk_id=staff.id)
    elif verification.status is VerificationStatus.SUBMITTED:
        if not staff.is_supervisor:
            refuse(staff, "supervisor_only", verification=verification, channel=channel,
                   action="reject")
        if verification.clerk_id == staff.id:
            refuse(staff, "own_submission", verification=verification, channel=channel,
                   action="reject")
    else:
        refuse(staff, status_refusal(verification), verification=verification, channel=channel,
               action="reject")
    return values


def page_of(query: Any, page: int, order: tuple[Any, ...], *, size: int) -> Page:
    """One page of `query` in `order`; a page number out of range gives the nearest page."""
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / size))
    page = min(max(1, page), pages)
    items = list(db.session.scalars(query.order_by(*order).limit(size).offset((page - 1) * size)))
    return Page(items=items, page=page, pages=pages, total=total)
