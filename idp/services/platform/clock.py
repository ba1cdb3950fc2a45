"""The clock as the rules read it: the calendar date in Vietnam (ICT, UTC+7, no daylight saving),
which decides ages, card expiry and membership dates; and moments as exports and APIs write
them (ISO 8601)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from idp.models.base import utcnow

VIETNAM_OFFSET = timedelta(hours=7)


def today_in_vietnam() -> date:
    return (utcnow() + VIETNAM_OFFSET).date()


def iso(value: date | datetime | None) -> str | None:
    """A date or moment as the data export and the counter API write it."""
    return value.isoformat() if value is not None else None
