"""A parent confirms their link to a child with their own authentication (docs/architecture.md
§14), never on the clerk's word: either the SMS code sent to their confirmed phone typed into
the counter screen (idp.services.counter.guardian_confirmation), or the approval on their own
phone at /account/children (`approve`, here). Until then the link is pending and grants nothing
(idp.services.standing.delegation.guardianship_refusal); it can be confirmed only on the
Vietnamese calendar day it was made, as a mandate.

At confirmation the parent is told by SMS that the link was made, and every guardian already
linked to the child that another one now is.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import force_locale, gettext
from sqlalchemy import select, update

from idp.domain import names
from idp.domain.errors import N_
from idp.domain.mandates import vietnam_date
from idp.errors import Refusal
from idp.extensions import db, rowcount
from idp.models import Account, AuditTag, Guardianship, MandateConfirmation, UserSession
from idp.models.base import utcnow
from idp.services.identity.guardian_sign_in import PUBLIC_ID
from idp.services.platform import audit, failures, notify

MSG_DELEGATED = N_("Only the parent, signed in on their own, can confirm a link to a child.")
MSG_ANOTHER_DAY = N_("A link to a child can only be confirmed on the day it was made at the "
                     "post office. Go back to a post office with the birth certificate.")
MSG_ENDED = N_("This link to a child has ended and can no longer be confirmed.")


def is_pending(link: Guardianship) -> bool:
    return link.confirmed_at is None and link.ended_at is None


def confirmable(link: Guardianship, now: datetime | None = None) -> bool:
    """Pending and made today (Vietnamese date)."""
    now = now or utcnow()
    return is_pending(link) and vietnam_date(link.created_at) == vietnam_date(now)


def confirm_in_transaction(link: Guardianship, how: MandateConfirmation,
                           **event: object) -> bool:
    """Mark the pending link confirmed (`how`), audited GUARDIAN_CONFIRM, and send the notices;
    False when it was no longer pending (a concurrent confirmation or end)."""
    now = utcnow()
    won = rowcount(db.session.execute(
        update(Guardianship).where(Guardianship.id == link.id,
                                   Guardianship.confirmed_at.is_(None),
                                   Guardianship.ended_at.is_(None))
        .values(confirmed_at=now, confirmed_by=how)
        .execution_options(synchronize_session=False)))
    if not won:
        return False
    db.session.refresh(link)
    audit.record(AuditTag.GUARDIAN_CONFIRM, account_id=link.child_account_id,
                 actor_id=link.guardian_account_id, guardianship=link.public_id, how=how.value,
                 **event)  # type: ignore[arg-type]
    _tell_guardian(link)
    _tell_other_guardians(link)
    return True


def pending_links(guardian: Account) -> list[Guardianship]:
    """The guardian's links still waiting for their confirmation today, oldest first."""
    links = db.session.scalars(select(Guardianship).where(
        Guardianship.guardian_account_id == guardian.id, Guardianship.confirmed_at.is_(None),
        Guardianship.ended_at.is_(None)).order_by(Guardianship.id)).all()
    now = utcnow()
    return [link for link in links if confirmable(link, now)]


def approve(session: UserSession, public_id: str) -> Guardianship | None:
    """The parent confirms a pending link from their own session. One transaction. None: no
    such link of this account. Approving again returns the confirmed link. Raises `Refusal`
    (audited GUARDIAN_CONFIRM_FAILURE): `guardian.delegated` (403) from a delegated session,
    `guardian.another_day` after the day it was made, `guardian.ended` (409 both)."""
    link = None
    if isinstance(public_id, str) and PUBLIC_ID.fullmatch(public_id):
        link = db.session.scalar(select(Guardianship).where(
            Guardianship.public_id == public_id,
            Guardianship.guardian_account_id == session.account_id))
    if session.is_delegated:
        _refuse(session, link, "delegated", MSG_DELEGATED, 403)
    if link is None:
        return None
    if link.confirmed_at is not None and link.ended_at is None:
        return link
    if link.ended_at is not None:
        _refuse(session, link, "ended", MSG_ENDED, 409)
    if not confirmable(link):
        _refuse(session, link, "another_day", MSG_ANOTHER_DAY, 409)
    if not confirm_in_transaction(link, MandateConfirmation.OWN_DEVICE, session_id=session.id):
        db.session.rollback()
        db.session.refresh(link)
        if link.confirmed_at is None or link.ended_at is not None:
            _refuse(session, link, "ended", MSG_ENDED, 409)
        return link
    db.session.commit()
    return link


def _refuse(session: UserSession, link: Guardianship | None, reason: str, message: str,
            status: int) -> None:
    failures.fail(Refusal(f"guardian.{reason}", message, status=status),
                  AuditTag.GUARDIAN_CONFIRM_FAILURE, discard=True,
                  account_id=session.account_id, session_id=session.id,
                  guardianship=link.public_id if link else None,
                  how=MandateConfirmation.OWN_DEVICE.value, reason=reason)


def _first_name(child: Account) -> str:
    return names.split_name(child.full_name).given if child.full_name else ""


def _tell_guardian(link: Guardianship) -> None:
    guardian = link.guardian
    with force_locale(guardian.locale):
        text = gettext(
            "PostID: at %(office)s you were linked as the guardian of %(child)s. You can now sign "
            "in to portals for the child until their 14th birthday. If this was not you, go to "
            "a post office with your ID card right away.", office=link.office.name,
            child=_first_name(link.child))
    notify.send_sms(guardian.own_phone, text, template="guardian.linked",
                    account_id=guardian.id, locale=guardian.locale, asker="counter")


def _tell_other_guardians(link: Guardianship) -> None:
    """Each guardian already linked learns that another one now is (a wrong link made at a
    counter is then noticed by someone who knows the child)."""
    others = db.session.scalars(select(Guardianship).where(
        Guardianship.child_account_id == link.child_account_id, Guardianship.id != link.id,
        Guardianship.ended_at.is_(None), Guardianship.confirmed_at.is_not(None))).all()
    for other in others:
        guardian = other.guardian
        with force_locale(guardian.locale):
            text = gettext(
                "PostID: at %(office)s another guardian was linked to %(child)s and may now sign "
                "in to portals for the child. If you did not expect this, go to a post office "
                "with your ID card.", office=link.office.name, child=_first_name(link.child))
        notify.send_sms(guardian.own_phone, text, template="guardian.other_linked",
                        account_id=guardian.id, locale=guardian.locale, asker="counter")
