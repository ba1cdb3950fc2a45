"""A date with a 20-digit year, month or day is a clear form error, never a 500."""

from __future__ import annotations

import pytest

from idp.web.register.fields import parse_date

HUGE = "99999999999999999999"


@pytest.mark.parametrize("raw", [f"{HUGE}/1/2026", f"1/{HUGE}/2026", f"1/1/{HUGE}",
                                 f"{HUGE}-01-01", "１７/０５/１９９９", "17/05/1999/1"])
def test_parse_date_refuses_what_is_not_a_day(raw: str) -> None:
    assert parse_date(raw) is None


def test_parse_date_reads_the_card_format() -> None:
    assert parse_date(" 17/05/1999 ").isoformat() == "1999-05-17"
    assert parse_date("1999-05-17").isoformat() == "1999-05-17"
