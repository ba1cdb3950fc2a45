"""The counter workflow (docs/architecture.md §8), one for both kinds of check: a clerk opens an enrolment
code and records the check; a supervisor approves it or rejects it (a clerk may reject at the
counter too), and may revoke an approval. Each function runs it for a kind described by a
CheckKind (idp.services.counter.kind); the public entry points are idp.services.counter.checks
and .decisions (citizens) and .organisation_checks and .organisation_decisions (organisations).

- The acting staff member's office is `staff.office_id`, from their session: never from the
  request. A record another office has taken (submitted, rejected, decided) is invisible to
  everybody else: 404, the same answer as an unknown code.
- Nobody acts on their own account, or on an organisation they represent or belong to: 403.
- Four eyes: only a supervisor decides on a submitted check, and never on one they submitted.
- Every function is one transaction. A refusal rolls back whatever the function did, then
  commits one audit event (the kind's `refused` tag) and nothing else.
- Status changes only through idp.services.standing.verification_state.transition (a conditional
  UPDATE): of two concurrent actions one wins, the other is refused with `conflict`.
- Retrying the same action by the same person on a record already in its resulting state
  returns the record and records nothing new (a double click, a terminal retrying a timeout).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import joinedload

from idp.domain.enrolment_code import normalize_code
from idp.extensions import db
from idp.models import AccountStatus, RejectReason, StaffMember, VerificationStatus
from idp.models.base import utcnow
from idp.services.counter.kind import CheckKind, V
from idp.services.counter.steps import (
    Page,
    audit_action,
    checked,
    done_already,
    load_for_action,
    page_of,
    parse_reason,
    refuse,
    refuse_status,
    rejection_values,
    transition_or_refuse,
)

USED = (VerificationStatus.APPROVED, VerificationStatus.REJECTED, VerificationStatus.REVOKED)


@dataclass(frozen=True)
class Revocation(Generic[V]):
    verification: V
    logouts: list[int]  # back-channel deliveries to attempt after the commit


def lookup(kind: CheckKind[V], staff: StaffMember, raw_code: str, *, channel: str) -> V:
    """Open an enrolment code (typed, any case/spacing, or the QR payload POSTID:<code>): a
    pending record, or a submitted one of this office; audited as a view."""
    code = normalize_code(raw_code)
    verification = None
    if code is not None:
        verification = db.session.scalar(select(kind.model).where(kind.model.code == code))
    verification = checked(kind, staff, verification, channel=channel, action="lookup")
    if verification.status in USED:
        refuse(kind, staff, "already_used", verification=verification, channel=channel,
               action="lookup")
    if verification.status not in (VerificationStatus.PENDING, VerificationStatus.SUBMITTED):
        refuse_status(kind, staff, verification, channel=channel, action="lookup")
    audit_action(kind, kind.tags.view, staff, verification, channel, via="code")
    db.session.commit()
    return verification


def get(kind: CheckKind[V], staff: StaffMember, public_id: str, *, channel: str) -> V:
    """A record this staff member may see, in any status; audited as a view."""
    verification = load_for_action(kind, staff, public_id, channel=channel, action="view")
    audit_action(kind, kind.tags.view, staff, verification, channel, via="id")
    db.session.commit()
    return verification


def submit(kind: CheckKind[V], staff: StaffMember, public_id: str, check: Any, *,
           channel: str) -> V:
    """Record the clerk's check of a pending record and submit it for approval. The check must
    have no problem; the owner's account must not be disabled."""
    verification = load_for_action(kind, staff, public_id, channel=channel, action="submit")
    account = kind.account(verification)
    problems = kind.problems(verification, check)
    values = kind.check_values(staff, check, utcnow()) if not problems else {}
    retry = {key: value for key, value in values.items() if key != "submitted_at"}
    if retry and done_already(verification, VerificationStatus.SUBMITTED, **retry):
        return verification  # a retry: already done
    if verification.status is not VerificationStatus.PENDING:
        refuse_status(kind, staff, verification, channel=channel, action="submit")
    if problems:
        refuse(kind, staff, problems[0].code, verification=verification, channel=channel,
               problems=problems, action="submit")
    if account.status is AccountStatus.DISABLED:
        refuse(kind, staff, "account_disabled", verification=verification, channel=channel,
               action="submit")
    if not transition_or_refuse(kind, staff, verification, VerificationStatus.PENDING,
                                VerificationStatus.SUBMITTED, retry=retry, channel=channel,
                                action="submit", **values):
        return verification  # a concurrent double click of the same person won
    audit_action(kind, kind.tags.submit, staff, verification, channel, **kind.submit_audit(check))
    db.session.commit()
    return verification


def reject(kind: CheckKind[V], staff: StaffMember, public_id: str,
           reason: RejectReason | str | None, *, channel: str) -> V:
    """Reject with a reason code: a pending record at the counter (clerk or supervisor; the
    office taking it is the staff member's), or a submitted check of the office (supervisor
    who did not submit it)."""
    verification = load_for_action(kind, staff, public_id, channel=channel, action="reject")
    reason = parse_reason(kind, staff, reason, verification, channel=channel, action="reject")
    retry = {"decided_by": staff.id, "reject_reason": reason}
    if done_already(verification, VerificationStatus.REJECTED, **retry):
        return verification  # a retry: already done
    expected = verification.status
    values = rejection_values(kind, staff, verification, reason, utcnow(), channel=channel)
    if not transition_or_refuse(kind, staff, verification, expected, VerificationStatus.REJECTED,
                                retry=retry, channel=channel, action="reject", **values):
        return verification
    audit_action(kind, kind.tags.reject, staff, verification, channel, reason=reason.value,
                 stage=expected.value)
    kind.notify_rejected(verification, reason)
    db.session.commit()
    return verification


def approve(kind: CheckKind[V], staff: StaffMember, public_id: str, *, channel: str) -> V:
    """Approve a submitted check of the supervisor's office that they did not submit; the
    owner's account must not be disabled. The kind's `approved` does the rest."""
    verification = load_for_action(kind, staff, public_id, channel=channel, action="approve")
    _supervisor_only(kind, staff, verification, channel=channel, action="approve")
    retry = {"decided_by": staff.id}
    if done_already(verification, VerificationStatus.APPROVED, **retry):
        return verification
    _decidable(kind, staff, verification, VerificationStatus.SUBMITTED, channel=channel,
               action="approve")
    account = kind.account(verification)
    if account.status is AccountStatus.DISABLED:
        refuse(kind, staff, "account_disabled", verification=verification, channel=channel,
               action="approve")
    now = utcnow()
    if not transition_or_refuse(kind, staff, verification, VerificationStatus.SUBMITTED,
                                VerificationStatus.APPROVED, retry=retry, channel=channel,
                                action="approve", decided_by=staff.id, decided_at=now):
        return verification
    audited = kind.approved(verification, now)
    audit_action(kind, kind.tags.approve, staff, verification, channel, **audited)
    kind.notify_approved(verification)
    db.session.commit()
    return verification


def revoke(kind: CheckKind[V], staff: StaffMember, public_id: str,
           reason: RejectReason | str | None, *, channel: str) -> Revocation[V]:
    """Revoke an approved check of the supervisor's office (fraud, error) that they did not
    submit. The kind's `revoked` does the rest and names the logouts to deliver."""
    verification = load_for_action(kind, staff, public_id, channel=channel, action="revoke")
    _supervisor_only(kind, staff, verification, channel=channel, action="revoke")
    reason = parse_reason(kind, staff, reason, verification, channel=channel, action="revoke")
    retry = {"revoked_by": staff.id, "revoke_reason": reason}
    if done_already(verification, VerificationStatus.REVOKED, **retry):
        return Revocation(verification, [])
    _decidable(kind, staff, verification, VerificationStatus.APPROVED, channel=channel,
               action="revoke")
    if not transition_or_refuse(kind, staff, verification, VerificationStatus.APPROVED,
                                VerificationStatus.REVOKED, retry=retry, channel=channel,
                                action="revoke", revoked_by=staff.id, revoked_at=utcnow(),
                                revoke_reason=reason):
        return Revocation(verification, [])
    logouts = kind.revoked(verification)
    audit_action(kind, kind.tags.revoke, staff, verification, channel, reason=reason.value)
    kind.notify_revoked(verification)
    db.session.commit()
    return Revocation(verification, logouts)


# --- the supervisor's lists ------------------------------------------------------------------


def approval_queue(kind: CheckKind[V], staff: StaffMember, page: int, *, size: int) -> Page:
    """Submitted checks of the staff member's office, oldest first (office queue index)."""
    model = kind.model
    query = _of_office(kind, staff, VerificationStatus.SUBMITTED)
    return page_of(query, page, (model.submitted_at, model.id), size=size)


def approved(kind: CheckKind[V], staff: StaffMember, page: int, *, size: int,
             narrowed: ColumnElement[bool] | None = None) -> Page:
    """Approved checks of the office, newest decision first, `narrowed` by a condition if
    given (a search)."""
    model = kind.model
    query = _of_office(kind, staff, VerificationStatus.APPROVED)
    if narrowed is not None:
        query = query.where(narrowed)
    return page_of(query, page, (model.decided_at.desc(), model.id.desc()), size=size)


def _of_office(kind: CheckKind[V], staff: StaffMember, status: VerificationStatus) -> Select[Any]:
    """The office's records in `status`; the lists name each owner: loaded with the rows, not
    one query per row."""
    model = kind.model
    return select(model).options(joinedload(kind.owner)).where(
        model.office_id == staff.office_id, model.status == status)


# --- the rules every decision shares --------------------------------------------------------


def _supervisor_only(kind: CheckKind[V], staff: StaffMember, verification: V, *,
                     channel: str, action: str) -> None:
    if not staff.is_supervisor:
        refuse(kind, staff, "supervisor_only", verification=verification, channel=channel,
               action=action)


def _decidable(kind: CheckKind[V], staff: StaffMember, verification: V,
               needed: VerificationStatus, *, channel: str, action: str) -> None:
    """A decision needs the record in `needed` (else: why not) and a supervisor other than
    the clerk who submitted it (four eyes)."""
    if verification.status is not needed:
        refuse_status(kind, staff, verification, channel=channel, action=action)
    if verification.clerk_id == staff.id:
        refuse(kind, staff, "own_submission", verification=verification, channel=channel,
               action=action)
