"""What a citizen's enrolment code (idp.services.identity.enrolment) and an organisation's
(idp.services.business.enrolment) have in common: the limits, the live and the latest
check of an owner (a pending one expired lazily when its code ran out), storing a new code
against a concurrent request, and cancelling a pending code online.

Each side keeps its own refusals, audit events, messages and count of recent requests; these
helpers only take them as callables. Statuses change only through
idp.services.standing.verification_state.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, NoReturn, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from idp.extensions import db
from idp.models import IdentityVerification, OrganisationVerification, PostOffice, VerificationStatus
from idp.models.base import utcnow
from idp.services.standing.verification_state import expire_if_due, transition
from idp.settings import current_settings

MAX_CODES_PER_DAY = 5
RATE_WINDOW = timedelta(hours=24)
# A collision of 8 characters from 29 is ~1 in 5·10^11 per live code: one retry is plenty,
# a few more cost nothing and stop an infinite loop on a broken generator.
INSERT_ATTEMPTS = 5

Check = TypeVar("Check", IdentityVerification, OrganisationVerification)


@dataclass(frozen=True)
class Standing(Generic[Check]):
    """What a status page shows: the latest check (if any) and the office that handled it."""

    verification: Check | None
    office: PostOffice | None

    @property
    def state(self) -> str:
        return self.verification.status.value if self.verification else "none"


def live(owner_column: Any, owner_id: int) -> Any:
    """The check whose live column (`live_account_id` / `live_organisation_id`) is `owner_id`,
    or None, also when it was just expired lazily (the caller commits)."""
    check = db.session.scalar(select(owner_column.class_).where(owner_column == owner_id))
    if check is not None and expire_if_due(check):
        return None
    return check


def latest(owner_column: Any, owner_id: int) -> Standing[Any]:
    """The owner's latest check with its office; a pending one whose code ran out is expired
    and that change committed. Never raises for a missing check."""
    model = owner_column.class_
    check = db.session.scalar(
        select(model).where(owner_column == owner_id)
        .order_by(model.created_at.desc(), model.id.desc())
        .limit(1)
    )
    if check is not None and expire_if_due(check):
        db.session.commit()
    office = db.session.get(PostOffice, check.office_id) if check and check.office_id else None
    return Standing(verification=check, office=office)


def issue(*, find_live: Callable[[], Check | None], recent_requests: Callable[[], int],
          too_many: Callable[[], NoReturn], stage: Callable[[datetime], Check]) -> Check:
    """The owner's live check, or a new one, committed.

    `find_live` finds the live check (it may refuse), `recent_requests` counts the requests
    that count against MAX_CODES_PER_DAY and `too_many` refuses (after a commit that keeps a
    lazy expiry); `stage` adds a new pending check with a fresh code expiring at the given
    moment, and audits the request."""
    for _ in range(INSERT_ATTEMPTS):
        current = find_live()
        if current is not None:
            db.session.commit()
            return current
        if recent_requests() >= MAX_CODES_PER_DAY:
            db.session.commit()  # keeps a lazy expiry that happened above
            too_many()
        days = current_settings().enrolment_code_days
        check = stage(utcnow() + timedelta(days=days))
        try:
            db.session.commit()
        except IntegrityError:
            # A concurrent request won the live slot (the loop then returns its code), or the
            # code / public id collided (the loop draws new ones). Rollback drops the audit event.
            db.session.rollback()
            continue
        return check
    raise RuntimeError("could not store an enrolment code")  # pragma: no cover


def cancel_pending(check: IdentityVerification | OrganisationVerification,
                   record: Callable[[], object]) -> bool:
    """Cancel `check` if it is pending (`record` audits the cancellation), and commit. True
    when it is now cancelled or expired; False when a clerk won the race or it never was
    pending (the caller refuses: the supervisor decides)."""
    expire_if_due(check)
    if check.status is VerificationStatus.PENDING and transition(
            check, VerificationStatus.PENDING, VerificationStatus.CANCELLED,
            cancelled_at=utcnow()):
        record()
    db.session.commit()
    return check.status in (VerificationStatus.CANCELLED, VerificationStatus.EXPIRED)
