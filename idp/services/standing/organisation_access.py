"""Who may act for which organisation, right now (docs/architecture.md §10: only active members of verified
organisations can act for them). Read-only; used by the sign-in flow, the tokens it issues and
the organisation pages.

A membership is *current* when it is active, today (a Vietnamese calendar date) lies within
its valid-from / valid-until dates, its account is active and its identity verified at a
counter (LoA2), and its organisation is verified.
Every token issued on behalf of an organisation is checked against this at every use, so
suspending or removing a member, the end of their validity, or the organisation losing its
verification stops their tokens at once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import contains_eager

from idp.extensions import db
from idp.models import (
    Account,
    MembershipStatus,
    Organisation,
    OrganisationMember,
    OrganisationStatus,
)

# Validity dates are Vietnamese calendar dates, like those on ID cards.
from idp.services.platform.clock import today_in_vietnam

MAX_PUBLIC_ID = 22


def is_current(membership: OrganisationMember, *, today: date | None = None) -> bool:
    """The member may act for the organisation today (see the module docstring)."""
    return access_problem(membership, today=today) is None


def access_problem(membership: OrganisationMember, *, today: date | None = None) -> str | None:
    """Why the member cannot act for the organisation now, or None if they can:
    organisation_unverified,
    organisation_revoked, suspended, not_yet_valid, no_longer_valid, account_inactive,
    identity_not_verified."""
    today = today or today_in_vietnam()
    status = membership.organisation.status
    if status is OrganisationStatus.UNVERIFIED:
        return "organisation_unverified"
    if status is OrganisationStatus.REVOKED:
        return "organisation_revoked"
    if membership.status is not MembershipStatus.ACTIVE:
        return "suspended"
    if membership.valid_from is not None and today < membership.valid_from:
        return "not_yet_valid"
    if membership.valid_until is not None and membership.valid_until < today:
        return "no_longer_valid"
    if membership.account is None or not membership.account.is_active:
        return "account_inactive"
    if not identity_verified(membership.account):
        return "identity_not_verified"
    return None


def identity_verified(account: Account) -> bool:
    """Acting for an organisation needs an identity checked at a counter (LoA2): an account
    registered online only declares its ID number, and whoever registers first with a
    colleague's number could otherwise accept the invitation meant for them."""
    return account.identity_loa >= 2


def acting_choices(account: Account) -> list[OrganisationMember]:
    """The account's current memberships, by organisation name: what a person may choose to
    act for when a portal asks for the `organization` scope."""
    rows = db.session.scalars(
        select(OrganisationMember)
        .join(Organisation, Organisation.id == OrganisationMember.organisation_id)
        .options(contains_eager(OrganisationMember.organisation))  # one join, not two
        .where(OrganisationMember.account_id == account.id,
               OrganisationMember.status == MembershipStatus.ACTIVE,
               Organisation.status == OrganisationStatus.VERIFIED)
    )
    today = today_in_vietnam()
    current = [m for m in rows if is_current(m, today=today)]
    return sorted(current, key=lambda m: (m.organisation.name, m.organisation.tax_code))


def current_membership(membership_id: int | None, account_id: int) -> OrganisationMember | None:
    """The membership by row id if it is the account's and current, else None."""
    if membership_id is None:
        return None
    return _current_for(db.session.get(OrganisationMember, membership_id), account_id)


def membership_by_public_id(account: Account, public_id: str) -> OrganisationMember | None:
    """One of the account's current memberships, named by its public id (a form's choice)."""
    if not isinstance(public_id, str) or not 0 < len(public_id) <= MAX_PUBLIC_ID:
        return None
    return _current_for(db.session.scalar(
        select(OrganisationMember).where(OrganisationMember.public_id == public_id)), account.id)


def _current_for(membership: OrganisationMember | None, account_id: int
                 ) -> OrganisationMember | None:
    if membership is None or membership.account_id != account_id or not is_current(membership):
        return None
    return membership


def organization_claim(membership: OrganisationMember) -> dict[str, Any]:
    """The `organization` claim (docs/architecture.md §10): the organisation the person acts for."""
    organisation = membership.organisation
    return {"tax_code": organisation.tax_code, "name": organisation.name,
            "role": membership.role.value}
