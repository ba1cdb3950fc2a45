"""A person's organisations in their account's data export and at the deletion of their
account (idp.services.account_data; docs/architecture.md §10, §12: access and deletion of personal data).

Deletion keeps the account row (disabled), so the database's ON DELETE CASCADE never fires:
this module ends what would otherwise outlive the person. Their live memberships are
removed (a disabled account must not stay listed as a member, and its ID number must not
block a new invitation if the person registers again), every membership row bound to the
account loses the ID number, and the counter checks they asked for on behalf of an
organisation and that nobody has decided yet are cancelled (nobody approves a check of a
representative who is gone). The organisations themselves are the businesses' records and
stay, with their other members.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from idp.extensions import db
from idp.models import (
    Account,
    AuditTag,
    MembershipStatus,
    OrganisationMember,
    OrganisationVerification,
    VerificationStatus,
)
from idp.models.base import utcnow
from idp.services.business.members import move
from idp.services.platform import audit
from idp.services.platform.clock import iso
from idp.services.standing.verification_state import transition


def export_rows(account: Account) -> list[dict[str, Any]]:
    """Memberships bound to the account and invitations to its ID number: which organisation,
    in which role, from when to when, and their outcome."""
    rows = db.session.scalars(
        select(OrganisationMember)
        .options(joinedload(OrganisationMember.organisation))
        .where((OrganisationMember.account_id == account.id)
               | (OrganisationMember.national_id == account.national_id))
        .order_by(OrganisationMember.id)
    ).all()
    return [
        {"organisation": {"tax_code": m.organisation.tax_code, "name": m.organisation.name,
                          "status": m.organisation.status.value,
                          "represented_by_you": m.organisation.representative_account_id == account.id},
         "role": m.role.value, "status": m.status.value, "valid_from": iso(m.valid_from),
         "valid_until": iso(m.valid_until), "invited_at": iso(m.invited_at),
         "accepted_at": iso(m.accepted_at), "ended_at": iso(m.ended_at)}
        for m in rows
    ]


def erase_for_deletion(account_id: int, *, placeholder_national_id: str,
                       session_id: int | None) -> None:
    """Account deletion, in the caller's transaction (see the module docstring)."""
    live = db.session.scalars(select(OrganisationMember).where(
        OrganisationMember.account_id == account_id,
        OrganisationMember.status.in_((MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED)))).all()
    for membership in live:
        if move(membership, (MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED),
                MembershipStatus.REMOVED, changed_by=account_id, live_national_id=None,
                ended_at=utcnow()):
            audit.record(AuditTag.ORGANISATION_MEMBER_REMOVE, account_id=account_id,
                         session_id=session_id, organisation=membership.organisation.public_id,
                         membership=membership.public_id, status=MembershipStatus.REMOVED.value,
                         role=membership.role.value, reason="account_deleted")
    db.session.execute(
        update(OrganisationMember).where(OrganisationMember.account_id == account_id)
        .values(national_id=placeholder_national_id)
        .execution_options(synchronize_session=False))
    undecided = db.session.scalars(select(OrganisationVerification).where(
        OrganisationVerification.requested_by == account_id,
        OrganisationVerification.status.in_((VerificationStatus.PENDING,
                                             VerificationStatus.SUBMITTED)))).all()
    for check in undecided:
        if transition(check, check.status, VerificationStatus.CANCELLED, cancelled_at=utcnow()):
            audit.record(AuditTag.ORGANISATION_VERIFICATION_CANCEL, account_id=account_id,
                         session_id=session_id, organisation=check.organisation.public_id,
                         verification=check.public_id, reason="account_deleted")
