"""The daily DAG's timetable: Airflow's cron data intervals, minus the surprise run on unpause.

Airflow's ``CronDataIntervalTimetable`` with ``catchup=False`` starts the
latest *complete* interval the moment a DAG is unpaused: unpausing
``ytempire_daily`` at 15:00 would collect and model yesterday's quota day at
once, ahead of whatever run the operator had asked for (with one active run
allowed), and unpausing after a week off would quietly redo one day of the
seven. :class:`QuotaDayTimetable` is the same timetable (same cron, same
intervals, same logical dates) except for that: without catchup, the first
run after an unpause is the interval *in progress*, which runs when it ends
(the next 02:00 Pacific). Missed days are caught up on purpose, by a backfill
(``airflow backfill create``), which walks the intervals as usual.

Registered by the plugin in ``airflow/plugins/`` (Airflow serializes a custom
timetable only when a plugin names it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.timetables.interval import CronDataIntervalTimetable

from orchestration.schedule import DAILY_CRON, SCHEDULE_TIMEZONE

if TYPE_CHECKING:
    from pendulum import DateTime


class QuotaDayTimetable(CronDataIntervalTimetable):
    """Daily cron intervals whose first run after an unpause is the interval in progress."""

    description = "At 02:00 Pacific, for the quota day that just ended; none on unpause"

    def __init__(self, cron: str = DAILY_CRON, timezone: str = SCHEDULE_TIMEZONE) -> None:
        super().__init__(cron, timezone)

    def _skip_to_latest(self, earliest: DateTime | None) -> DateTime:
        """Without catchup: the interval that contains now (it runs when it ends).

        Airflow's own returns the last complete interval, which would run at once.
        """
        from airflow._shared.timezones.timezone import coerce_datetime, utcnow

        return self.first_run_start(coerce_datetime(utcnow()), earliest)

    def first_run_start(self, now: DateTime, earliest: DateTime | None = None) -> DateTime:
        """Start of the first interval scheduled at ``now`` without catchup (pure).

        The interval containing ``now`` (or starting at it), or the first one
        from ``earliest`` (the DAG's start date) if that is later.
        """
        current = self._align_to_prev(now)
        if earliest is None:
            return current
        return max(current, self._align_to_next(earliest))
