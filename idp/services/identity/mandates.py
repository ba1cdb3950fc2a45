"""The citizen's side of mandates (docs/architecture.md §14): every mandate of their account
with its uses, the approval on their own phone, and revocation (a pending one: declined).

Only the citizen's own session acts here, never a delegated one: an agent under a mandate
cannot approve, extend or end mandates (the account pages refuse delegated sessions before
any view runs; these functions refuse them again). Another account's mandate is "no such
mandate", so a public id tells nobody whether it exists.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import select, update

from idp.domain.errors import N_
from idp.domain.mandates import Status, vietnam_date
from idp.domain.procedures import Procedure
from idp.errors import Refusal
from idp.extensions import db, rowcount
from idp.models import (
    Account,
    AuditTag,
    Guardianship,
    Mandate,
    MandateConfirmation,
    MandateEnder,
    MandateUse,
    OAuthClient,
    PostOffice,
    UserSession,
)
from idp.models.base import utcnow
from idp.services.identity import acting
from idp.services.platform import audit, failures
from idp.services.portals import backchannel
from idp.services.standing import delegation

# What secrets.new_public_id makes: 22 characters of URL-safe base64.
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{22}")

MSG_DELEGATED = N_("Only the citizen, signed in on their own, can approve or end a mandate.")
MSG_ANOTHER_DAY = N_("A mandate can only be approved on the day it was made at the post "
                     "office. Ask the post office to make a new one.")
MSG_ENDED = N_("This mandate has ended and can no longer be approved.")


@dataclass(frozen=True, slots=True)
class Use:
    portal: str
    office: str
    used_at: datetime


@dataclass(frozen=True, slots=True)
class MandateView:
    """One mandate as the citizen sees it: who may act, for what, until when, and its uses."""

    public_id: str
    office: str
    kinds: tuple[Procedure, ...]
    portals: tuple[str, ...]
    months: int
    status: Status
    created_at: datetime
    expires_at: datetime
    last_day: date  # the last Vietnamese calendar day it grants
    confirmed_at: datetime | None
    confirmed_by: MandateConfirmation | None
    revoked_at: datetime | None
    revoked_by: MandateEnder | None
    uses: tuple[Use, ...]
    # A pending mandate can be approved only on the Vietnamese day it was made.
    approvable: bool


class Revoked(enum.Enum):
    REVOKED = "revoked"  # an active mandate ended
    DECLINED = "declined"  # a pending one refused
    ALREADY_ENDED = "already_ended"  # revoked or expired before: nothing changed


def _own(account_id: int, public_id: str) -> Mandate | None:
    if not PUBLIC_ID.fullmatch(public_id):  # a NUL or a long string never reaches the database
        return None
    return db.session.scalar(select(Mandate).where(Mandate.public_id == public_id,
                                                   Mandate.account_id == account_id))


def _uses(mandate_ids: list[int]) -> dict[int, list[Use]]:
    found: dict[int, list[Use]] = {}
    if not mandate_ids:
        return found
    rows = db.session.execute(
        select(MandateUse.mandate_id, OAuthClient.name, PostOffice.name, MandateUse.used_at)
        .join(OAuthClient, OAuthClient.id == MandateUse.client_pk)
        # The office the mandate was given to (its agents' only one), not wherever the agent
        # works today.
        .join(Mandate, Mandate.id == MandateUse.mandate_id)
        .join(PostOffice, PostOffice.id == Mandate.office_id)
        .where(MandateUse.mandate_id.in_(mandate_ids))
        .order_by(MandateUse.used_at.desc(), MandateUse.id.desc())).all()
    for mandate_id, portal, office, used_at in rows:
        found.setdefault(mandate_id, []).append(Use(portal, office, used_at))
    return found


def _portal_names(client_ids: set[str]) -> dict[str, str]:
    if not client_ids:
        return {}
    rows = db.session.execute(select(OAuthClient.client_id, OAuthClient.name)
                              .where(OAuthClient.client_id.in_(client_ids))).all()
    return {client_id: name for client_id, name in rows}


def _view(mandate: Mandate, *, uses: list[Use], names: dict[str, str], now: datetime) -> MandateView:
    status = delegation.status_of(mandate, now=now)
    return MandateView(
        public_id=mandate.public_id, office=mandate.office.name,
        kinds=tuple(k for k in Procedure if k in delegation.procedures_of(mandate.kinds)),
        # A portal removed since is left out rather than shown by its bare client id.
        portals=tuple(names[c] for c in mandate.client_ids or () if c in names),
        months=mandate.months, status=status, created_at=mandate.created_at,
        expires_at=mandate.expires_at,
        last_day=vietnam_date(mandate.expires_at - timedelta(microseconds=1)),
        confirmed_at=mandate.confirmed_at,
        confirmed_by=mandate.confirmed_by, revoked_at=mandate.revoked_at,
        revoked_by=mandate.revoked_by, uses=tuple(uses),
        approvable=status is Status.PENDING and vietnam_date(mandate.created_at) == vietnam_date(now))


def mandates_of(account: Account, *, now: datetime | None = None) -> list[MandateView]:
    """Every mandate of the account, newest first, each with its uses (newest first)."""
    now = now or utcnow()
    rows = db.session.scalars(select(Mandate).where(Mandate.account_id == account.id)
                              .order_by(Mandate.created_at.desc(), Mandate.id.desc())).all()
    uses = _uses([m.id for m in rows])
    names = _portal_names({c for m in rows for c in m.client_ids or ()})
    return [_view(m, uses=uses.get(m.id, []), names=names, now=now) for m in rows]


def awaiting_approval(account: Account, *, now: datetime | None = None) -> int:
    """How many mandates of the account the citizen can approve now (made today, pending)."""
    return sum(1 for m in mandates_of(account, now=now) if m.approvable)


def mandate_of(account: Account, public_id: str) -> MandateView | None:
    """One mandate of the account (None: not this account's, or no such mandate)."""
    mandate = _own(account.id, public_id)
    if mandate is None:
        return None
    names = _portal_names(set(mandate.client_ids or ()))
    return _view(mandate, uses=_uses([mandate.id]).get(mandate.id, []), names=names, now=utcnow())


def _refuse(session: UserSession, mandate: Mandate, reason: str, message: str) -> NoReturn:
    failures.fail(Refusal(f"mandate.{reason}", message, status=409),
                  AuditTag.MANDATE_CONFIRM_FAILURE, account_id=session.account_id,
                  session_id=session.id, office_id=mandate.office_id, mandate=mandate.public_id,
                  how=MandateConfirmation.OWN_DEVICE.value, reason=reason)


def _who_acts(session: UserSession) -> dict[str, Any]:
    """The audit fields of a delegated session: the agent and their office under a mandate
    (a guardian's session names its link)."""
    if session.mandate_id is not None:
        office_id = db.session.scalar(select(Mandate.office_id).where(Mandate.id == session.mandate_id))
        return {"staff_id": session.acting_staff_id, "office_id": office_id}
    return {"guardianship": db.session.scalar(
        select(Guardianship.public_id).where(Guardianship.id == session.guardianship_id))}


def _refuse_delegated(session: UserSession, action: str) -> None:
    """An agent under a mandate never approves or ends mandates (the pages refuse first)."""
    if session.is_delegated:
        failures.fail(Refusal("mandate.delegated", MSG_DELEGATED, status=403),
                      AuditTag.DELEGATED_ACCOUNT_CHANGE_REFUSED, account_id=session.account_id,
                      session_id=session.id, action=action, **_who_acts(session))


def record_delegated_refusal(session: UserSession, *, route: str) -> None:
    """The wall around a delegated session: an account page it asked for was refused. One
    transaction, holding only the audit event (the route pattern, never the path or input)."""
    failures.keep(AuditTag.DELEGATED_ACCOUNT_CHANGE_REFUSED, account_id=session.account_id,
                  session_id=session.id, route=route, **_who_acts(session))


def approve(session: UserSession, public_id: str) -> MandateView | None:
    """The citizen confirms a pending mandate of their account from their own session. One
    transaction. None: no such mandate of this account. Approving again returns the same
    (active) mandate. Raises `Refusal` (audited): `mandate.delegated` (403) from a delegated
    session, `mandate.another_day` after the Vietnamese day it was made, `mandate.ended` once
    it was revoked or has expired (409 both)."""
    _refuse_delegated(session, "mandate.approve")
    mandate = _own(session.account_id, public_id)
    if mandate is None:
        return None
    now = utcnow()
    status = delegation.status_of(mandate, now=now)
    if status is Status.ACTIVE:
        return mandate_of(session.account, public_id)
    if status is not Status.PENDING:
        _refuse(session, mandate, "ended", MSG_ENDED)
    if vietnam_date(mandate.created_at) != vietnam_date(now):
        _refuse(session, mandate, "another_day", MSG_ANOTHER_DAY)
    won = rowcount(db.session.execute(
        update(Mandate).where(Mandate.id == mandate.id, Mandate.confirmed_at.is_(None),
                              Mandate.revoked_at.is_(None), Mandate.expires_at > now)
        .values(confirmed_at=now, confirmed_by=MandateConfirmation.OWN_DEVICE)
        .execution_options(synchronize_session=False)))
    if won:
        audit.record(AuditTag.MANDATE_CONFIRM, account_id=session.account_id,
                     session_id=session.id, office_id=mandate.office_id,
                     mandate=mandate.public_id, how=MandateConfirmation.OWN_DEVICE.value)
    db.session.commit()
    db.session.refresh(mandate)
    if delegation.status_of(mandate) is not Status.ACTIVE:  # lost to a revocation or expiry
        _refuse(session, mandate, "ended", MSG_ENDED)
    return mandate_of(session.account, public_id)


def revoke(session: UserSession, public_id: str) -> Revoked | None:
    """The citizen ends a mandate of their account at once: a pending one is declined, an
    active one revoked with every session opened under it, their tokens and back-channel
    logouts (acting.end_mandate_in_transaction). One transaction; the first back-channel
    attempt after the commit, as at sign-out. None: no such mandate of this account. A
    mandate already revoked or expired changes nothing (`ALREADY_ENDED`). Raises `Refusal`
    `mandate.delegated` (403, audited) from a delegated session."""
    _refuse_delegated(session, "mandate.revoke")
    mandate = _own(session.account_id, public_id)
    if mandate is None:
        return None
    before = delegation.status_of(mandate)
    if before not in (Status.PENDING, Status.ACTIVE):
        return Revoked.ALREADY_ENDED
    queued = acting.end_mandate_in_transaction(mandate, by=MandateEnder.CITIZEN,
                                              session_id=session.id)
    db.session.commit()
    if queued is None:  # another request revoked it first
        return Revoked.ALREADY_ENDED
    backchannel.deliver_after_commit(queued)
    return Revoked.DECLINED if before is Status.PENDING else Revoked.REVOKED
