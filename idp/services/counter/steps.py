"""The steps the counter workflow (idp.services.counter.workflow) is made of, for any kind of
check (idp.services.counter.kind): finding the record a staff member may act on, refusing (the
refusal's audit event in its own commit), auditing an action, the retry-safe conditional status
change, the rejection's stage rules and the supervisor's paged lists.

`refuse` undoes the transaction, commits the refusal's audit event and raises the kind's
refusal; every step that can refuse does it through `refuse`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NoReturn

from sqlalchemy import func, select

from idp.domain.errors import DomainError
from idp.extensions import db
from idp.models import AuditTag, RejectReason, StaffMember, VerificationStatus
from idp.services.counter.kind import CheckKind, V, Verification
from idp.services.platform import audit
from idp.services.standing.verification_state import expire_if_due, transition

MAX_PUBLIC_ID = 22


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int


def refuse(kind: CheckKind[V], staff: StaffMember, code: str, *,
           verification: V | None, channel: str, action: str,
           problems: list[DomainError] | None = None) -> NoReturn:
    """Undo the transaction, store only the refusal's audit event, raise the kind's refusal."""
    account_id = kind.account_id(verification) if verification is not None else None
    current = store_refusal(kind.tags.refused, staff, code, verification=verification,
                            account_id=account_id, channel=channel, action=action,
                            problems=problems)
    raise kind.refusal(code, problems=problems, current_status=current)


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


def audit_action(kind: CheckKind[V], tag: AuditTag, staff: StaffMember, verification: V,
                 channel: str, **data: Any) -> None:
    audit.record(tag, account_id=kind.account_id(verification), staff_id=staff.id,
                 office_id=staff.office_id, channel=channel, verification=verification.public_id,
                 **kind.audit_ids(verification), **data)


def load_for_action(kind: CheckKind[V], staff: StaffMember, public_id: str, *, channel: str,
                    action: str) -> V:
    """The record by public id, if this staff member may see it: 404 / 403 refusals otherwise.
    A pending record past its expiry becomes expired (committed with its own audit event)."""
    verification = None
    if isinstance(public_id, str) and 0 < len(public_id) <= MAX_PUBLIC_ID:
        verification = db.session.scalar(
            select(kind.model).where(kind.model.public_id == public_id))
    return checked(kind, staff, verification, channel=channel, action=action)


def checked(kind: CheckKind[V], staff: StaffMember, verification: V | None, *,
            channel: str, action: str) -> V:
    """`verification` if this staff member may act on it (visible to their office, not their
    own, its owner still there), lazily expired if due; refused otherwise."""
    if verification is None or not visible_to(staff, verification):
        refuse(kind, staff, "not_found", verification=verification, channel=channel,
               action=action)
    owner_id = kind.owner_id(verification)  # read now: the owner may be replaced online
    _refuse_if_owner_gone(kind, staff, owner_id, channel=channel, action=action)
    if kind.is_own(staff, verification):
        refuse(kind, staff, "own_account", verification=verification, channel=channel,
               action=action)
    if verification.status is VerificationStatus.PENDING and expire_if_due(verification,
                                                                            channel=channel):
        db.session.commit()  # the lazy expiry is a fact, whatever the caller does next
        # The commit ended any lock on the owner: it may be gone since.
        _refuse_if_owner_gone(kind, staff, owner_id, channel=channel, action=action)
    return verification


def _refuse_if_owner_gone(kind: CheckKind[V], staff: StaffMember, owner_id: int, *, channel: str,
                          action: str) -> None:
    if kind.owner_exists is not None and not kind.owner_exists(owner_id):
        refuse(kind, staff, "not_found", verification=None, channel=channel, action=action)


def visible_to(staff: StaffMember, verification: Verification) -> bool:
    """Pending records belong to no office yet (any office can take a code); once an office
    has acted on one, only that office sees it."""
    return verification.office_id in (None, staff.office_id)


def status_refusal(verification: Verification) -> str:
    """Why the record is not in the status an action needs."""
    return {VerificationStatus.EXPIRED: "expired",
            VerificationStatus.CANCELLED: "cancelled"}.get(verification.status, "conflict")


def refuse_status(kind: CheckKind[V], staff: StaffMember, verification: V, *,
                  channel: str, action: str) -> NoReturn:
    """The record is not in the status the action needs: say why."""
    refuse(kind, staff, status_refusal(verification), verification=verification,
           channel=channel, action=action)


def parse_reason(kind: CheckKind[V], staff: StaffMember, reason: RejectReason | str | None,
                 verification: V, *, channel: str, action: str) -> RejectReason:
    if isinstance(reason, RejectReason):
        return reason
    try:
        return RejectReason(reason)
    except ValueError:
        refuse(kind, staff, "invalid_reason", verification=verification, channel=channel,
               action=action)


def done_already(verification: Verification, status: VerificationStatus, **fields: Any) -> bool:
    """The record is in `status` with `fields` set: the same action was done (a retry)."""
    return verification.status is status and all(
        getattr(verification, key) == value for key, value in fields.items())


def transition_or_refuse(kind: CheckKind[V], staff: StaffMember, verification: V,
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
    refuse_status(kind, staff, verification, channel=channel, action=action)


def rejection_values(kind: CheckKind[V], staff: StaffMember, verification: V,
                     reason: RejectReason, now: datetime, *, channel: str) -> dict[str, object]:
    """What a rejection sets, by stage: a pending record at the counter is taken by the staff
    member's office; a submitted check needs a supervisor who did not submit it; any other
    status is refused."""
    values: dict[str, object] = {"decided_by": staff.id, "decided_at": now, "reject_reason": reason}
    if verification.status is VerificationStatus.PENDING:
        values.update(office_id=staff.office_id, clerk_id=staff.id)
    elif verification.status is VerificationStatus.SUBMITTED:
        if not staff.is_supervisor:
            refuse(kind, staff, "supervisor_only", verification=verification, channel=channel,
                   action="reject")
        if verification.clerk_id == staff.id:
            refuse(kind, staff, "own_submission", verification=verification, channel=channel,
                   action="reject")
    else:
        refuse_status(kind, staff, verification, channel=channel, action="reject")
    return values


def page_of(query: Any, page: int, order: tuple[Any, ...], *, size: int) -> Page:
    """One page of `query` in `order`; a page number out of range gives the nearest page."""
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, math.ceil(total / size))
    page = min(max(1, page), pages)
    items = list(db.session.scalars(query.order_by(*order).limit(size).offset((page - 1) * size)))
    return Page(items=items, page=page, pages=pages, total=total)

