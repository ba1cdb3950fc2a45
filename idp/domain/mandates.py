"""Rules of a mandate: a citizen lets a post-office agent sign in to portals for them
(RFC 8693 §4.1: the token's ``sub`` is the citizen, its ``act`` claim the agent). Pure
functions over plain values; the services store mandates and decide what to audit.

- A mandate is made at a post office for a duration: this visit only, or 1 to 12 months.
  It grants nothing until the citizen confirms it (pending), and nothing once revoked or
  expired, ever again: the status is computed from the stored instants, never kept apart.
- Its scope names kinds of procedure (``idp.domain.procedures``) and/or portals by client id.
  A portal that does not accept delegated sign-in is never covered.
- Only an agent of the office that made it may act under it, and never an agent on their
  own account (the agent's own national ID number equal to the citizen's).
- A delegated sign-in carries at most the level of assurance the mandate was made at.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone

from idp.domain.errors import N_, DomainError
from idp.domain.national_id import normalize_national_id
from idp.domain.procedures import Procedure

# Vietnam keeps one offset all year (ICT, no daylight saving), the same as
# idp.services.platform.clock, which this layer cannot import.
VIETNAM = timezone(timedelta(hours=7), "ICT")
MAX_MONTHS = 12
# Levels of assurance are the integers 1-3 everywhere (idp.oidc.claims.LOA_ACR maps them to acr).
LOA_LEVELS = range(1, 4)

MSG_DURATION = N_("Choose “this visit only” or a number of months from 1 to 12.")


def vietnam_date(instant: datetime) -> date:
    """The calendar date in Vietnam at ``instant`` (an aware datetime)."""
    return _aware(instant).astimezone(VIETNAM).date()


@dataclass(frozen=True, slots=True)
class Duration:
    """``months`` is 0 for "this visit only", else 1-``MAX_MONTHS``."""

    months: int

    @classmethod
    def this_visit(cls) -> Duration:
        return cls(0)

    @classmethod
    def of_months(cls, months: int) -> Duration:
        """Raises ``DomainError("mandate.duration")`` outside 1-12 (and for a bool)."""
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= MAX_MONTHS:
            raise DomainError("mandate.duration", MSG_DURATION)
        return cls(months)


def add_months(day: date, months: int) -> date:
    """The same day of the month ``months`` later, clamped to that month's last day:
    31 Jan + 1 = 28 Feb (29 in a leap year), 31 Mar + 1 = 30 Apr, 29 Feb 2028 + 12 = 28 Feb 2029."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_valid_day(duration: Duration, made_at: datetime) -> date:
    """The last Vietnamese calendar day on which the mandate grants, counted from the
    moment it was made at the counter (not from the confirmation, which follows within the
    visit): the day itself for "this visit only", else the same date ``months`` later."""
    return add_months(vietnam_date(made_at), duration.months)


def expires_at(duration: Duration, made_at: datetime) -> datetime:
    """The first instant (UTC) at which the mandate no longer grants: local midnight after
    ``last_valid_day``.

    "This visit only" ends at the end of the local day rather than after N hours: a visit is a
    calendar event for the citizen and the counter alike ("valid today"), it is how every other
    validity in PostID is counted (Vietnamese calendar days, inclusive), and the office closes
    long before midnight, so a visit never straddles it; N hours would end mid-procedure for a
    long visit and run into the evening, outside anyone's oversight, for a short one.
    """
    end = datetime.combine(last_valid_day(duration, made_at) + timedelta(days=1), time(), VIETNAM)
    return end.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Scope:
    """What a mandate covers: kinds of procedure, portals by client id, or both."""

    kinds: frozenset[Procedure] = frozenset()
    client_ids: frozenset[str] = frozenset()

    @classmethod
    def of(cls, kinds: Iterable[Procedure] = (), client_ids: Iterable[str] = ()) -> Scope:
        return cls(frozenset(kinds), frozenset(client_ids))


def mandate_covers(scope: Scope, portal_kinds: Iterable[Procedure], portal_accepts_delegation: bool,
                   *, portal_client_id: str | None = None) -> bool:
    """Whether a mandate of ``scope`` lets the agent sign in to this portal.

    Never a portal that does not accept delegation, whatever the scope names. Otherwise: any
    accepting portal under ``any_delegating_portal``, a portal named by client id, or one
    whose declared kinds share a kind with the scope.
    """
    if not portal_accepts_delegation:
        return False
    if Procedure.ANY_DELEGATING_PORTAL in scope.kinds:
        return True
    if portal_client_id is not None and portal_client_id in scope.client_ids:
        return True
    return not scope.kinds.isdisjoint(portal_kinds)


class Status(enum.StrEnum):
    PENDING = "pending"  # awaiting the citizen's confirmation
    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


def status_at(now: datetime, *, expires: datetime, confirmed_at: datetime | None,
              revoked_at: datetime | None) -> Status:
    """The status at ``now``. Whichever ended it first wins: a mandate revoked before its
    expiry reads revoked forever after, one revoked after it had expired reads expired (the
    revocation changed nothing). A pending mandate expires too (never confirmed in time),
    and a pending one revoked (the citizen declined) reads revoked. Only ACTIVE grants.
    """
    now, expires = _aware(now), _aware(expires)
    if revoked_at is not None and _aware(revoked_at) <= now and _aware(revoked_at) < expires:
        return Status.REVOKED
    if now >= expires:
        return Status.EXPIRED
    if confirmed_at is None or _aware(confirmed_at) > now:
        return Status.PENDING
    return Status.ACTIVE


class Reason(enum.StrEnum):
    """Why a delegated sign-in is refused; stored in the audit trail, so stable."""

    EXPIRED = "expired"
    REVOKED = "revoked"
    NOT_CONFIRMED = "not_confirmed"
    PORTAL_NOT_COVERED = "portal_not_covered"
    PORTAL_NOT_DELEGATING = "portal_not_delegating"
    AGENT_OTHER_OFFICE = "agent_other_office"
    AGENT_IS_SUBJECT = "agent_is_subject"
    # Read by idp.services.standing.delegation from stored state this module does not see:
    AGENT_IS_COLLEAGUE = "agent_is_colleague"  # the citizen is staff of the agent's office
    SUBJECT_NOT_VERIFIED = "subject_not_verified"  # the citizen's level fell below the mandate's
    AGENT_INACTIVE = "agent_inactive"  # the agent's staff account was disabled


_REASON_OF_STATUS = {Status.EXPIRED: Reason.EXPIRED, Status.REVOKED: Reason.REVOKED,
                     Status.PENDING: Reason.NOT_CONFIRMED}


@dataclass(frozen=True, slots=True)
class Mandate:
    """The stored fields the rules read."""

    scope: Scope
    office_code: str
    subject_national_id: str
    expires_at: datetime
    confirmed_at: datetime | None = None
    revoked_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Portal:
    """A portal's delegation settings."""

    client_id: str
    kinds: frozenset[Procedure]
    accepts_delegation: bool


def why_refused(mandate: Mandate, *, agent_office: str, agent_national_id: str | None,
                portal: Portal, now: datetime) -> Reason | None:
    """The first reason this agent may not sign in to ``portal`` under ``mandate`` at
    ``now``, or None when they may.

    Order: who acts (on their own account, then from another office), then the mandate's
    status (revoked, expired, not confirmed), then the portal (not delegating, not covered).
    Who acts comes first because it is refused whatever the mandate's state, and the audit
    trail should say so rather than "expired".
    """
    if agent_national_id is not None and _same_person(agent_national_id, mandate.subject_national_id):
        return Reason.AGENT_IS_SUBJECT
    if agent_office != mandate.office_code:
        return Reason.AGENT_OTHER_OFFICE
    status = status_at(now, expires=mandate.expires_at, confirmed_at=mandate.confirmed_at,
                       revoked_at=mandate.revoked_at)
    if status is not Status.ACTIVE:
        return _REASON_OF_STATUS[status]
    if not portal.accepts_delegation:
        return Reason.PORTAL_NOT_DELEGATING
    if not mandate_covers(mandate.scope, portal.kinds, True, portal_client_id=portal.client_id):
        return Reason.PORTAL_NOT_COVERED
    return None


def delegated_acr(mandate_level: int, agent_level: int) -> int:
    """The level of assurance of a delegated sign-in: never above the level the mandate was
    made at (the citizen's identity as checked at the counter), nor above what the agent's
    own session reached. Raises ValueError for a level outside 1-3 (a programming error)."""
    for level in (mandate_level, agent_level):
        if level not in LOA_LEVELS:
            raise ValueError(f"level of assurance out of range: {level!r}")
    return min(mandate_level, agent_level)


def _same_person(a: str, b: str) -> bool:
    # Stored numbers are already normalised; normalising again also matches a number written
    # with separators. A malformed one is compared as written (it then cannot match a valid one).
    return _normalised_or_raw(a) == _normalised_or_raw(b)


def _normalised_or_raw(number: str) -> str:
    try:
        return normalize_national_id(number)
    except DomainError:
        return number.strip()


def _aware(instant: datetime) -> datetime:
    # A naive datetime would be read in the machine's zone: a silent off-by-7-hours.
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("an aware datetime is required")
    return instant
