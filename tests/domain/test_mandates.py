"""Mandate rules: durations and month ends, local midnight, coverage, status, refusals, acr."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from idp.domain.errors import DomainError
from idp.domain.mandates import (
    Duration,
    Mandate,
    Portal,
    Reason,
    Scope,
    Status,
    add_months,
    delegated_acr,
    expires_at,
    last_valid_day,
    mandate_covers,
    status_at,
    vietnam_date,
    why_refused,
)
from idp.domain.procedures import Procedure as P

ICT = timezone(timedelta(hours=7))


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# --- the calendar in Vietnam -------------------------------------------------------------

@pytest.mark.parametrize(
    ("instant", "day"),
    [
        (utc(2026, 12, 6, 16, 59, 59), date(2026, 12, 6)),  # 23:59:59 in Hà Nội
        (utc(2026, 12, 6, 17, 0, 0), date(2026, 12, 7)),    # local midnight
        (utc(2026, 12, 31, 17, 0), date(2027, 1, 1)),
        (datetime(2026, 12, 7, 0, 0, tzinfo=ICT), date(2026, 12, 7)),
    ],
)
def test_vietnam_date(instant: datetime, day: date) -> None:
    assert vietnam_date(instant) == day


def test_a_naive_instant_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        vietnam_date(datetime(2026, 12, 7, 12, 0))


# --- durations ---------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),  # leap year
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 1, 30), 1, date(2026, 2, 28)),
        (date(2026, 1, 28), 1, date(2026, 2, 28)),
        (date(2028, 2, 29), 12, date(2029, 2, 28)),
        (date(2026, 12, 31), 1, date(2027, 1, 31)),
        (date(2026, 12, 15), 12, date(2027, 12, 15)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2027, 8, 31), 6, date(2028, 2, 29)),
        (date(2026, 5, 31), 4, date(2026, 9, 30)),
        (date(2026, 2, 28), 1, date(2026, 3, 28)),  # not moved to the month's end
        (date(2026, 6, 10), 0, date(2026, 6, 10)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize("months", [1, 6, 12])
def test_duration_of_months(months: int) -> None:
    assert Duration.of_months(months).months == months


@pytest.mark.parametrize("months", [0, -1, 13, 120, True])
def test_duration_out_of_range(months: int) -> None:
    with pytest.raises(DomainError) as info:
        Duration.of_months(months)
    assert info.value.code == "mandate.duration"


@pytest.mark.parametrize(
    ("duration", "made_at", "last_day", "ends"),
    [
        # This visit only: until local midnight after the visit.
        (Duration.this_visit(), utc(2026, 12, 7, 2, 0), date(2026, 12, 7), utc(2026, 12, 7, 17, 0)),
        # 06:30 in Hà Nội is still 6 December in UTC: the local day decides.
        (Duration.this_visit(), utc(2026, 12, 6, 23, 30), date(2026, 12, 7), utc(2026, 12, 7, 17, 0)),
        # Made at 00:00 local exactly: that day.
        (Duration.this_visit(), utc(2026, 12, 6, 17, 0), date(2026, 12, 7), utc(2026, 12, 7, 17, 0)),
        # Made at 23:59:59 local: that day, one second long.
        (Duration.this_visit(), utc(2026, 12, 7, 16, 59, 59), date(2026, 12, 7), utc(2026, 12, 7, 17, 0)),
        (Duration.of_months(1), utc(2026, 1, 31, 3, 0), date(2026, 2, 28), utc(2026, 2, 28, 17, 0)),
        # 31 January local, 30 January in UTC: the local date is the one that is moved.
        (Duration.of_months(1), utc(2026, 1, 30, 18, 0), date(2026, 2, 28), utc(2026, 2, 28, 17, 0)),
        (Duration.of_months(12), utc(2028, 2, 29, 3, 0), date(2029, 2, 28), utc(2029, 2, 28, 17, 0)),
        (Duration.of_months(3), utc(2026, 11, 30, 3, 0), date(2027, 2, 28), utc(2027, 2, 28, 17, 0)),
    ],
)
def test_expiry(duration: Duration, made_at: datetime, last_day: date, ends: datetime) -> None:
    assert last_valid_day(duration, made_at) == last_day
    assert expires_at(duration, made_at) == ends
    assert expires_at(duration, made_at).utcoffset() == timedelta(0)


# --- coverage ----------------------------------------------------------------------------

CIVIL = frozenset({P.CIVIL_STATUS})
LAND_AND_JUSTICE = frozenset({P.LAND_HOUSING, P.JUSTICE_RECORDS})


@pytest.mark.parametrize(
    ("scope", "kinds", "accepts", "client_id", "covered"),
    [
        (Scope.of([P.CIVIL_STATUS]), CIVIL, True, "hotich", True),
        (Scope.of([P.CIVIL_STATUS]), CIVIL, False, "hotich", False),
        (Scope.of([P.JUSTICE_RECORDS, P.SOCIAL_INSURANCE]), LAND_AND_JUSTICE, True, "p", True),
        (Scope.of([P.SOCIAL_INSURANCE]), LAND_AND_JUSTICE, True, "p", False),
        (Scope.of([P.ANY_DELEGATING_PORTAL]), CIVIL, True, "p", True),
        (Scope.of([P.ANY_DELEGATING_PORTAL]), frozenset(), True, "p", True),
        (Scope.of([P.ANY_DELEGATING_PORTAL]), CIVIL, False, "p", False),
        (Scope.of(client_ids=["hotich"]), frozenset(), True, "hotich", True),
        (Scope.of(client_ids=["hotich"]), CIVIL, True, "other", False),
        (Scope.of(client_ids=["hotich"]), CIVIL, False, "hotich", False),
        (Scope.of(client_ids=["hotich"]), CIVIL, True, None, False),
        (Scope.of([P.LAND_HOUSING], ["hotich"]), CIVIL, True, "hotich", True),
        (Scope.of([P.LAND_HOUSING], ["hotich"]), LAND_AND_JUSTICE, True, "other", True),
        (Scope.of([P.LAND_HOUSING], ["hotich"]), CIVIL, True, "other", False),
        (Scope.of(), CIVIL, True, "p", False),
        (Scope.of([P.CIVIL_STATUS]), frozenset(), True, "p", False),
    ],
)
def test_mandate_covers(scope: Scope, kinds: frozenset[P], accepts: bool, client_id: str | None,
                        covered: bool) -> None:
    assert mandate_covers(scope, kinds, accepts, portal_client_id=client_id) is covered


# --- status ------------------------------------------------------------------------------

MADE = utc(2026, 12, 7, 2, 0)
CONFIRMED = MADE + timedelta(minutes=3)
ENDS = utc(2026, 12, 7, 17, 0)
SECOND = timedelta(seconds=1)


@pytest.mark.parametrize(
    ("now", "confirmed", "revoked", "status"),
    [
        (MADE, None, None, Status.PENDING),
        (CONFIRMED - SECOND, CONFIRMED, None, Status.PENDING),
        (CONFIRMED, CONFIRMED, None, Status.ACTIVE),
        (ENDS - SECOND, CONFIRMED, None, Status.ACTIVE),
        (ENDS, CONFIRMED, None, Status.EXPIRED),  # the instant of expiry no longer grants
        (ENDS + timedelta(days=400), CONFIRMED, None, Status.EXPIRED),
        (ENDS, None, None, Status.EXPIRED),  # never confirmed in time
        (CONFIRMED + SECOND, CONFIRMED, CONFIRMED + SECOND, Status.REVOKED),
        (CONFIRMED + SECOND, CONFIRMED, CONFIRMED + 2 * SECOND, Status.ACTIVE),  # revoked later
        (ENDS + timedelta(days=1), CONFIRMED, CONFIRMED + SECOND, Status.REVOKED),  # never again
        (ENDS + SECOND, CONFIRMED, ENDS, Status.EXPIRED),  # revoked once already expired
        (MADE + SECOND, None, MADE + SECOND, Status.REVOKED),  # the citizen declined
    ],
)
def test_status_at(now: datetime, confirmed: datetime | None, revoked: datetime | None,
                   status: Status) -> None:
    assert status_at(now, expires=ENDS, confirmed_at=confirmed, revoked_at=revoked) is status


# --- refusals ----------------------------------------------------------------------------

CITIZEN = "001099012345"
AGENT = "079188000123"
MANDATE = Mandate(scope=Scope.of([P.CIVIL_STATUS]), office_code="HN-100000",
                  subject_national_id=CITIZEN, expires_at=ENDS, confirmed_at=CONFIRMED)
PORTAL = Portal(client_id="hotich", kinds=CIVIL, accepts_delegation=True)
NOW = CONFIRMED + timedelta(hours=1)


@pytest.mark.parametrize(
    ("mandate", "office", "agent_id", "portal", "now", "reason"),
    [
        (MANDATE, "HN-100000", AGENT, PORTAL, NOW, None),
        (MANDATE, "HN-100000", None, PORTAL, NOW, None),  # an agent without a citizen identity
        (MANDATE, "HN-100000", CITIZEN, PORTAL, NOW, Reason.AGENT_IS_SUBJECT),
        (MANDATE, "HN-100000", "001 099 012 345", PORTAL, NOW, Reason.AGENT_IS_SUBJECT),
        (MANDATE, "HCM-700000", AGENT, PORTAL, NOW, Reason.AGENT_OTHER_OFFICE),
        (replace(MANDATE, confirmed_at=None), "HN-100000", AGENT, PORTAL, NOW, Reason.NOT_CONFIRMED),
        (MANDATE, "HN-100000", AGENT, PORTAL, ENDS, Reason.EXPIRED),
        (replace(MANDATE, revoked_at=NOW), "HN-100000", AGENT, PORTAL, NOW, Reason.REVOKED),
        (MANDATE, "HN-100000", AGENT, replace(PORTAL, accepts_delegation=False), NOW,
         Reason.PORTAL_NOT_DELEGATING),
        (MANDATE, "HN-100000", AGENT, replace(PORTAL, kinds=LAND_AND_JUSTICE), NOW,
         Reason.PORTAL_NOT_COVERED),
        (replace(MANDATE, scope=Scope.of(client_ids=["hotich"])), "HN-100000", AGENT,
         replace(PORTAL, kinds=frozenset()), NOW, None),
        (replace(MANDATE, scope=Scope.of([P.ANY_DELEGATING_PORTAL])), "HN-100000", AGENT,
         replace(PORTAL, accepts_delegation=False), NOW, Reason.PORTAL_NOT_DELEGATING),
        # The order: who acts, then the mandate's state, then the portal.
        (replace(MANDATE, revoked_at=NOW), "HN-100000", CITIZEN, PORTAL, NOW, Reason.AGENT_IS_SUBJECT),
        (replace(MANDATE, revoked_at=NOW), "HCM-700000", AGENT, PORTAL, NOW, Reason.AGENT_OTHER_OFFICE),
        (MANDATE, "HN-100000", AGENT, replace(PORTAL, accepts_delegation=False), ENDS, Reason.EXPIRED),
        (MANDATE, "HN-100000", "not-a-number", PORTAL, NOW, None),
    ],
)
def test_why_refused(mandate: Mandate, office: str, agent_id: str | None, portal: Portal,
                     now: datetime, reason: Reason | None) -> None:
    assert why_refused(mandate, agent_office=office, agent_national_id=agent_id, portal=portal,
                       now=now) is reason


def test_every_reason_is_reachable_and_stable() -> None:
    assert [r.value for r in Reason] == [
        "expired", "revoked", "not_confirmed", "portal_not_covered", "portal_not_delegating",
        "agent_other_office", "agent_is_subject",
        # Decided by idp.services.standing.delegation from stored state (tests/services/standing):
        "agent_is_colleague", "subject_not_verified", "agent_inactive",
    ]


# --- level of assurance -------------------------------------------------------------------

@pytest.mark.parametrize(
    ("mandate_level", "agent_level", "expected"),
    [(2, 3, 2), (3, 2, 2), (2, 2, 2), (1, 3, 1), (3, 3, 3), (3, 1, 1)],
)
def test_delegated_acr_is_capped(mandate_level: int, agent_level: int, expected: int) -> None:
    assert delegated_acr(mandate_level, agent_level) == expected


@pytest.mark.parametrize(("mandate_level", "agent_level"), [(0, 2), (4, 2), (2, 0), (2, 4)])
def test_delegated_acr_out_of_range(mandate_level: int, agent_level: int) -> None:
    with pytest.raises(ValueError):
        delegated_acr(mandate_level, agent_level)
