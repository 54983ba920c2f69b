"""The instant a day's report judges source freshness at: the end of its Pacific day, or now.

Pure: no service (tests/reporting/test_daily_report.py runs dbt's check at it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from reporting.collect import freshness_as_of


def test_a_past_day_is_judged_at_its_end_whatever_today_is() -> None:
    now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
    # the next Pacific midnight: 08:00 UTC in winter (PST), 07:00 UTC in summer (PDT)
    assert freshness_as_of(date(2025, 1, 2), now) == datetime(2025, 1, 3, 8, 0, tzinfo=UTC)
    assert freshness_as_of(date(2025, 7, 2), now) == datetime(2025, 7, 3, 7, 0, tzinfo=UTC)
    # the day clocks change: 2025-03-09 is 23 hours long, its end in PDT
    assert freshness_as_of(date(2025, 3, 9), now) == datetime(2025, 3, 10, 7, 0, tzinfo=UTC)


def test_a_day_not_over_is_judged_now() -> None:
    now = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)  # 01:00 on 2026-12-05 in Los Angeles
    assert freshness_as_of(date(2026, 12, 5), now) == now
    assert freshness_as_of(date(2026, 12, 4), now) == datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
    assert freshness_as_of(date(2025, 1, 2), now).tzinfo == UTC  # the page shows it in UTC
