"""Members of an organisation, managed by its representative and admins (docs/architecture.md §10).

Who manages: a member with the role REPRESENTATIVE or ADMIN whose membership is current
(active, within its dates, organisation VERIFIED: organisation_access.is_current). Nobody
touches the representative's membership online (only a new counter check of the
organisation changes who represents it), and an admin does not act on their own membership.

Every change is one transaction: a conditional UPDATE on the expected status (bumping
`version`), so of two concurrent changes exactly one applies, and an audit event
ORGANISATION_MEMBER_* with the public ids and the new status/role. A retry of a change that
already took effect is a success that changes nothing. Every refusal is audited
(ORGANISATION_REFUSED) and changes nothing else.

Suspending or removing a member, or changing their dates so that today lies outside them,
also revokes every code and token issued on behalf of the organisation through that
membership, in the same transaction: otherwise they would come back to life on
reinstatement or when the dates are changed again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, NoReturn

from flask_babel import force_locale, gettext
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from idp.domain.errors import N_, DomainError
from idp.domain.organisation_rules import check_member_national_id, check_validity, parse_day
from idp.extensions import db, rowcount
from idp.models import (
    LIVE_MEMBERSHIP,
    Account,
    AccountStatus,
    AuditTag,
    MemberRole,
    MembershipStatus,
    Organisation,
    OrganisationMember,
    OrganisationStatus,
)
from idp.models.base import utcnow
from idp.services.business import organisations
from idp.services.business.refusals import OrganisationRefusal, refuse
from idp.services.platform import audit, notify
from idp.services.platform.clock import today_in_vietnam
from idp.services.platform.secrets import new_public_id
from idp.services.portals import tokens
from idp.services.standing.organisation_access import is_current

INVITATION_DAYS = 14
MANAGERS = (MemberRole.REPRESENTATIVE, MemberRole.ADMIN)

MSG_NOT_FOUND = N_("This member was not found.")
MSG_FORBIDDEN = N_("Only the representative and current administrators of the organisation can "
                   "manage its members.")
MSG_NOT_VERIFIED = N_("Members can be added and managed only once the organisation has been "
                      "verified at a post office.")
MSG_PROTECTED = N_("The representative's membership cannot be changed here. A new check of the "
                   "organisation at a post office changes who represents it.")
MSG_OWN = N_("You cannot change your own membership. Ask the representative or another "
             "administrator.")
MSG_SELF_INVITE = N_("You are already a member of this organisation.")
MSG_ALREADY_MEMBER = N_("This person is already a member of the organisation, or already "
                        "invited.")
MSG_ROLE = N_("Choose administrator or member.")
MSG_STATE = N_("This cannot be done: the membership has changed. Reload the page.")
SMS_INVITED = N_("PostID: %(organisation)s has invited you to act on its behalf. Sign in to "
                 "PostID and open Organisations to accept or decline within 14 days.")


@dataclass(frozen=True)
class MemberInput:
    """What the manager typed; every rule is applied by the service."""

    role: str
    valid_from: str = ""
    valid_until: str = ""
    national_id: str = ""


@dataclass(frozen=True)
class Actor:
    """Who acts, for the audit trail and refusals."""

    account: Account
    session_id: int | None


def move(membership: OrganisationMember, expected: tuple[MembershipStatus, ...],
         new: MembershipStatus, *, changed_by: int | None, **values: Any) -> bool:
    """Conditional UPDATE from one of `expected` to `new` (caller's transaction); True if this
    call made the change. Reloads the object either way."""
    result = db.session.execute(
        update(OrganisationMember)
        .where(OrganisationMember.id == membership.id, OrganisationMember.status.in_(expected))
        .values(status=new, version=OrganisationMember.version + 1, changed_by=changed_by,
                **values)
        .execution_options(synchronize_session=False))
    db.session.refresh(membership)
    return rowcount(result) == 1


def expire_invitation_if_due(membership: OrganisationMember) -> bool:
    """An invitation not accepted in time becomes expired (lazily), audited
    ORGANISATION_MEMBER_EXPIRE; its ID number is free for a new invitation. Caller commits."""
    status = membership.status  # move() below reloads the membership's own
    if status is not MembershipStatus.INVITED or membership.invitation_expires_at is None \
            or membership.invitation_expires_at > utcnow():
        return status is MembershipStatus.EXPIRED
    if move(membership, (MembershipStatus.INVITED,), MembershipStatus.EXPIRED, changed_by=None,
            live_national_id=None, ended_at=utcnow()):
        audit.record(AuditTag.ORGANISATION_MEMBER_EXPIRE,
                     organisation=membership.organisation.public_id,
                     membership=membership.public_id, status=MembershipStatus.EXPIRED.value)
    return membership.status is MembershipStatus.EXPIRED


def _refuser(actor: Actor, action: str, **ids: Any) -> Callable[..., NoReturn]:
    """`no(code, message, status, field=None)`: refuse, audited with the actor and `ids`."""
    account_id = actor.account.id  # read now: after a failed commit it cannot be loaded

    def no(code: str, message: str, status: int, field: str | None = None) -> NoReturn:
        refuse(code, message, action=action, account_id=account_id,
               session_id=actor.session_id, status=status, field=field, **ids)
    return no


def manager_of(actor: Actor, public_id: str, *, action: str) -> OrganisationMember:
    """The actor's membership if it may manage the organisation's members now; otherwise an
    audited refusal: organisation.not_found (404), organisation.forbidden (403),
    organisation.not_verified (409)."""
    try:
        membership = organisations.viewer_membership(actor.account, public_id)
    except OrganisationRefusal as exc:
        _refuser(actor, action)(exc.code, exc.message, exc.status)
    no = _refuser(actor, action, organisation=membership.organisation.public_id)
    if membership.role not in MANAGERS:
        no("organisation.forbidden", MSG_FORBIDDEN, 403)
    if membership.organisation.status is not OrganisationStatus.VERIFIED:
        no("organisation.not_verified", MSG_NOT_VERIFIED, 409)
    if not is_current(membership):  # suspended, or outside its validity dates
        no("organisation.forbidden", MSG_FORBIDDEN, 403)
    return membership


def _dates(fields: MemberInput, no: Any, *, current: tuple[date | None, date | None] | None = None
           ) -> tuple[date | None, date | None]:
    try:
        valid_from = parse_day(fields.valid_from)
    except DomainError as exc:
        no(exc.code, exc.message, 400, "valid_from")
    try:
        valid_until = parse_day(fields.valid_until)
    except DomainError as exc:
        no(exc.code, exc.message, 400, "valid_until")
    if (valid_from, valid_until) != current:  # unchanged dates of a lapsed member stay as they are
        try:
            check_validity(valid_from, valid_until, today=today_in_vietnam())
        except DomainError as exc:
            field = "valid_from" if exc.code == "member.too_far" and valid_until is None \
                else "valid_until"
            no(exc.code, exc.message, 400, field)
    return valid_from, valid_until


def _role(raw: str, no: Any) -> MemberRole:
    if raw not in (MemberRole.ADMIN.value, MemberRole.MEMBER.value):
        no("member.role", MSG_ROLE, 400, "role")
    return MemberRole(raw)


def invite(actor: Actor, public_id: str, fields: MemberInput) -> OrganisationMember:
    """Invite a person, by personal ID number, to become an admin or member. The answer is the
    same whether an account holds that number or not; if an active one does, it is told by
    SMS. Refusals (audited): those of manager_of, an ID number or date rule (400, `field`),
    member.role, organisation.self_invite (400), organisation.already_member (409)."""
    manager = manager_of(actor, public_id, action="invite")
    organisation = manager.organisation
    no = _refuser(actor, "invite", organisation=organisation.public_id)
    try:
        national_id = check_member_national_id(fields.national_id, today=today_in_vietnam())
    except DomainError as exc:
        no(exc.code, exc.message, 400, "national_id")
    if national_id == actor.account.national_id:
        no("organisation.self_invite", MSG_SELF_INVITE, 400, "national_id")
    role = _role(fields.role, no)
    valid_from, valid_until = _dates(fields, no)
    previous = db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.organisation_id == organisation.id,
        OrganisationMember.live_national_id == national_id))
    if previous is not None and not expire_invitation_if_due(previous):
        no("organisation.already_member", MSG_ALREADY_MEMBER, 409, "national_id")
    now = utcnow()
    membership = OrganisationMember(
        public_id=new_public_id(), organisation_id=organisation.id,
        national_id=national_id, live_national_id=national_id, role=role,
        status=MembershipStatus.INVITED, valid_from=valid_from, valid_until=valid_until,
        invited_by=actor.account.id, invited_at=now,
        invitation_expires_at=now + timedelta(days=INVITATION_DAYS), changed_by=actor.account.id)
    try:
        db.session.add(membership)
        db.session.flush()  # the unique live (organisation, ID number) decides a race here
        audit.record(AuditTag.ORGANISATION_MEMBER_INVITE, account_id=actor.account.id,
                     session_id=actor.session_id, organisation=organisation.public_id,
                     membership=membership.public_id, role=role.value,
                     status=MembershipStatus.INVITED.value)
        _tell_invitee(national_id, organisation)
        db.session.commit()
    except IntegrityError:  # a concurrent invitation of the same person won
        no("organisation.already_member", MSG_ALREADY_MEMBER, 409, "national_id")
    return membership


def _tell_invitee(national_id: str, organisation: Organisation) -> None:
    invitee = db.session.scalar(select(Account).where(Account.national_id == national_id,
                                                      Account.status == AccountStatus.ACTIVE))
    if invitee is None:
        return
    with force_locale(invitee.locale or "vi"):
        text = gettext(SMS_INVITED, organisation=organisation.name)
        subject = gettext("Invitation to act for an organisation")
    notify.tell_account(invitee, template="organisation.invitation", sms=text, subject=subject,
                        body=text)


def _target(actor: Actor, manager: OrganisationMember, member_id: str, *,
            action: str) -> OrganisationMember:
    organisation = manager.organisation
    target = member_of(organisation, member_id)
    no = _refuser(actor, action, organisation=organisation.public_id,
                  **({"membership": target.public_id} if target is not None else {}))
    if target is None:
        no("organisation.member_not_found", MSG_NOT_FOUND, 404)
    if target.role is MemberRole.REPRESENTATIVE:
        no("organisation.representative_protected", MSG_PROTECTED, 403)
    if target.account_id == actor.account.id:
        no("organisation.own_membership", MSG_OWN, 403)
    return target


# What each status change needs: the statuses it starts from, the one it ends in, its audit
# tag, and the columns it sets besides.
TRANSITIONS: dict[str, tuple[tuple[MembershipStatus, ...], MembershipStatus, AuditTag]] = {
    "cancel": ((MembershipStatus.INVITED,), MembershipStatus.CANCELLED,
               AuditTag.ORGANISATION_MEMBER_CANCEL),
    "suspend": ((MembershipStatus.ACTIVE,), MembershipStatus.SUSPENDED,
                AuditTag.ORGANISATION_MEMBER_SUSPEND),
    "reinstate": ((MembershipStatus.SUSPENDED,), MembershipStatus.ACTIVE,
                  AuditTag.ORGANISATION_MEMBER_REINSTATE),
    "remove": ((MembershipStatus.ACTIVE, MembershipStatus.SUSPENDED), MembershipStatus.REMOVED,
               AuditTag.ORGANISATION_MEMBER_REMOVE),
}
ENDING = ("cancel", "remove")
# The changes that end a member's tokens, and the reason recorded on them.
REVOKING = {"suspend": "organisation_member_suspended", "remove": "organisation_member_removed"}


def change_status(actor: Actor, public_id: str, member_id: str, action: str) -> OrganisationMember:
    """Cancel an invitation, suspend, reinstate or remove a member (`action`, a key of
    TRANSITIONS). Refusals (audited): those of manager_of, organisation.member_not_found
    (404), organisation.representative_protected (403), organisation.own_membership (403),
    organisation.member_state (409: the membership is not in a status this applies to)."""
    sources, new, tag = TRANSITIONS[action]
    manager = manager_of(actor, public_id, action=action)
    target = _target(actor, manager, member_id, action=action)
    if action == "cancel":
        expire_invitation_if_due(target)
    values: dict[str, Any] = {"live_national_id": None, "ended_at": utcnow()} \
        if action in ENDING else {}
    if target.status in sources and move(target, sources, new, changed_by=actor.account.id,
                                         **values):
        audit.record(tag, account_id=actor.account.id, session_id=actor.session_id,
                     organisation=manager.organisation.public_id, membership=target.public_id,
                     status=new.value, role=target.role.value)
        if action in REVOKING:
            tokens.revoke_on_behalf([target.id], reason=REVOKING[action])
    db.session.commit()  # the change, or a lazy expiry
    if target.status is not new:  # neither this call nor an earlier one made it
        _refuser(actor, action, organisation=manager.organisation.public_id,
                 membership=target.public_id)("organisation.member_state", MSG_STATE, 409)
    return target


def update_member(actor: Actor, public_id: str, member_id: str,
                  fields: MemberInput) -> OrganisationMember:
    """Change a live member's role (admin <-> member) and validity dates. Refusals (audited):
    those of change_status, member.role, a date rule (400, `field`), organisation.member_state
    (409: no longer live, or changed meanwhile)."""
    manager = manager_of(actor, public_id, action="update")
    target = _target(actor, manager, member_id, action="update")
    no = _refuser(actor, "update", organisation=manager.organisation.public_id,
                  membership=target.public_id)
    role = _role(fields.role, no)
    valid_from, valid_until = _dates(fields, no, current=(target.valid_from, target.valid_until))
    if target.status not in LIVE_MEMBERSHIP:
        no("organisation.member_state", MSG_STATE, 409)
    if (role, valid_from, valid_until) == (target.role, target.valid_from, target.valid_until):
        return target  # nothing to change (a retry)
    changed = rowcount(db.session.execute(
        update(OrganisationMember)
        .where(OrganisationMember.id == target.id, OrganisationMember.version == target.version,
               OrganisationMember.status.in_(LIVE_MEMBERSHIP))
        .values(role=role, valid_from=valid_from, valid_until=valid_until,
                version=OrganisationMember.version + 1, changed_by=actor.account.id)
        .execution_options(synchronize_session=False))) == 1
    if not changed:
        no("organisation.member_state", MSG_STATE, 409)
    db.session.refresh(target)
    if not target.is_current(today_in_vietnam()):  # outside its new dates (or suspended)
        tokens.revoke_on_behalf([target.id], reason="organisation_member_dates")
    audit.record(AuditTag.ORGANISATION_MEMBER_UPDATE, account_id=actor.account.id,
                 session_id=actor.session_id, organisation=manager.organisation.public_id,
                 membership=target.public_id, role=role.value, status=target.status.value)
    db.session.commit()
    return target


def member_of(organisation: Organisation, member_id: str) -> OrganisationMember | None:
    """One membership of the organisation by its public id (unique index), or None."""
    if not isinstance(member_id, str) or len(member_id) != organisations.PUBLIC_ID_LENGTH:
        return None
    return db.session.scalar(select(OrganisationMember).where(
        OrganisationMember.public_id == member_id,
        OrganisationMember.organisation_id == organisation.id))


def members_of(organisation: Organisation) -> list[OrganisationMember]:
    """Every membership of the organisation, for its managers' list: live ones first (the
    representative at the top), then past ones. Invitations past their expiry are expired on
    the way (committed), so the list never shows a stale invitation as open."""
    rows = db.session.scalars(
        select(OrganisationMember)
        .options(joinedload(OrganisationMember.account))
        .where(OrganisationMember.organisation_id == organisation.id)
        .order_by(OrganisationMember.invited_at, OrganisationMember.id)
    ).all()
    if [row for row in rows if expire_invitation_if_due(row)]:
        db.session.commit()
    order = {MembershipStatus.ACTIVE: 0, MembershipStatus.SUSPENDED: 1, MembershipStatus.INVITED: 2}
    return sorted(rows, key=lambda m: (m.role is not MemberRole.REPRESENTATIVE,
                                       order.get(m.status, 3)))
