"""Invitations to me: a signed-in citizen sees the invitations addressed to their personal ID
number and accepts or declines them (docs/architecture.md §10).

An invitation names a personal ID number, not an account: whoever holds the account with
that number answers it (account numbers are unique). Accepting binds the account and makes
the membership ACTIVE; it is a conditional UPDATE from INVITED, so a concurrent cancel,
decline or expiry and the acceptance cannot both win. Refusals are audited and change
nothing else; answering the same way twice is a success that changes nothing.

Only an account whose identity was verified at a counter (LoA2) may accept: an account
registered online only declares its ID number, so whoever registers first with a colleague's
number could otherwise take the invitation meant for them. Declining needs no such check.
"""

from __future__ import annotations

from typing import Any, NoReturn

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from idp.domain.errors import N_
from idp.extensions import db
from idp.models import Account, AuditTag, MembershipStatus, OrganisationMember
from idp.models.base import utcnow
from idp.services.business import organisations
from idp.services.business.members import expire_invitation_if_due, move
from idp.services.business.refusals import refuse
from idp.services.platform import audit
from idp.services.standing.organisation_access import identity_verified

MSG_NOT_FOUND = N_("This invitation was not found.")
MSG_NOT_INVITEE = N_("This invitation is for another person. Only the person whose ID number was "
                     "invited can answer it.")
MSG_EXPIRED = N_("This invitation has expired. Ask the organisation to invite you again.")
MSG_NOT_VERIFIED = N_("To accept, your identity must first be verified at a post office. Ask "
                      "for a code on the Verification page of your account, bring it to any "
                      "post office with your ID card, then accept the invitation.")
MSG_CLOSED = N_("This invitation can no longer be answered: it was withdrawn or already "
                "answered.")


def invitations_for(account: Account) -> list[OrganisationMember]:
    """Open invitations to the account's ID number, newest first; those past their expiry are
    expired on the way (committed)."""
    rows = db.session.scalars(
        select(OrganisationMember)
        .options(joinedload(OrganisationMember.organisation))
        .where(OrganisationMember.national_id == account.national_id,
               OrganisationMember.status == MembershipStatus.INVITED)
        .order_by(OrganisationMember.invited_at.desc(), OrganisationMember.id.desc())
    ).all()
    expired = [row for row in rows if expire_invitation_if_due(row)]
    if expired:
        db.session.commit()
    return [row for row in rows if row.status is MembershipStatus.INVITED]


def _invitation(account: Account, member_id: str, *, action: str,
                session_id: int | None) -> OrganisationMember:
    def no(code: str, message: str, status: int, **ids: Any) -> NoReturn:
        refuse(code, message, action=action, account_id=account.id, session_id=session_id,
               status=status, **ids)

    membership = None
    if isinstance(member_id, str) and len(member_id) == organisations.PUBLIC_ID_LENGTH:
        membership = db.session.scalar(select(OrganisationMember).where(
            OrganisationMember.public_id == member_id))
    if membership is None:
        no("organisation.invitation_not_found", MSG_NOT_FOUND, 404)
    if membership.national_id != account.national_id:
        no("organisation.not_invitee", MSG_NOT_INVITEE, 403,
           organisation=membership.organisation.public_id, membership=membership.public_id)
    return membership


def _closed(account: Account, membership: OrganisationMember, *, action: str,
            session_id: int | None) -> NoReturn:
    expired = membership.status is MembershipStatus.EXPIRED
    refuse("organisation.invitation_expired" if expired else "organisation.invitation_closed",
           MSG_EXPIRED if expired else MSG_CLOSED, action=action, account_id=account.id,
           session_id=session_id, status=409, organisation=membership.organisation.public_id,
           membership=membership.public_id)


def _answer(account: Account, member_id: str, *, accept: bool,
            session_id: int | None) -> OrganisationMember:
    action = "accept" if accept else "decline"
    membership = _invitation(account, member_id, action=action, session_id=session_id)
    if accept and not identity_verified(account):
        refuse("organisation.identity_not_verified", MSG_NOT_VERIFIED, action=action,
               account_id=account.id, session_id=session_id, status=403,
               organisation=membership.organisation.public_id, membership=membership.public_id)
    if accept:
        new, tag = MembershipStatus.ACTIVE, AuditTag.ORGANISATION_MEMBER_ACCEPT
        values = {"account_id": account.id, "accepted_at": utcnow()}
    else:
        new, tag = MembershipStatus.DECLINED, AuditTag.ORGANISATION_MEMBER_DECLINE
        values = {"live_national_id": None, "ended_at": utcnow()}

    def answered() -> bool:  # by this account, this way (now or by an earlier request)
        if accept:
            return membership.account_id == account.id and membership.status in (
                MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED)
        return membership.status is MembershipStatus.DECLINED

    if answered():
        return membership
    expire_invitation_if_due(membership)
    if membership.status is MembershipStatus.INVITED and move(
            membership, (MembershipStatus.INVITED,), new, changed_by=account.id, **values):
        audit.record(tag, account_id=account.id, session_id=session_id,
                     organisation=membership.organisation.public_id,
                     membership=membership.public_id, status=new.value,
                     role=membership.role.value)
    db.session.commit()  # the answer, or a lazy expiry
    if not answered():
        _closed(account, membership, action=action, session_id=session_id)
    return membership


def accept(account: Account, member_id: str, *, session_id: int | None = None) -> OrganisationMember:
    """Accept the invitation `member_id`: the membership becomes active and bound to `account`.
    Refusals (audited): organisation.invitation_not_found (404), organisation.not_invitee
    (403), organisation.identity_not_verified (403: the account's identity is not verified at
    a counter), organisation.invitation_expired / organisation.invitation_closed (409)."""
    return _answer(account, member_id, accept=True, session_id=session_id)


def decline(account: Account, member_id: str, *, session_id: int | None = None) -> OrganisationMember:
    """Decline the invitation `member_id`. Refusals as for accept."""
    return _answer(account, member_id, accept=False, session_id=session_id)
