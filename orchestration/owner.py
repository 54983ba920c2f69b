"""The owner's sources in the daily run: the ``owner_sources`` task group of ``ytempire_daily``.

The YouTube Reporting API (daily bulk reports: watch time, engaged views,
audience, traffic, devices, reach) and the Analytics API (actual revenue)
answer a channel's owner only, and late: a day's reports arrive 20-44 h after
it ends, its revenue 24 h after it ends and settles 72 h after. So a run of
quota day ``D`` lands *what is available*, whatever day it is for, rather
than day ``D`` itself:

* :func:`land_owner_reports` lands every report new since the last run (the
  landers' ``createdAfter`` cursors): days not delivered before, and days
  YouTube regenerated (a newer report for the same day replaces it);
* :func:`land_owner_revenue` lands the revenue of every day not settled yet
  (fetched again until it is).

Neither fails the run because a day's reports are not out yet, nor because a
channel failed: each channel's trouble (``no_credentials``, ``auth_revoked``,
``not_monetized``, ``report_type_deprecated``, ``no_reports_yet``,
``failed``) is counted in the stage's details (``outcomes``: status ->
channels) and listed per channel (``channels``: channel -> statuses), and
the daily report shows them. A task fails only when the landing itself
cannot go on (the warehouse or Redis down, an unexpected error): it is
retried like any task.

Each lander sees the world as of the end of the run's data interval (the
quota day's end plus the two hours the DAG waits), never later
(:func:`as_of`): a backfill of an old day decides which reports' types are
deprecated and which revenue is settled as of that day, and a re-run of the
day converges to the same rows (reports land once by id, days are replaced).

Whether what landed is fresh enough per report type, and whether each day
has its rows, is checked by the ``owner`` checkpoint
(``expectations.checkpoints``, :func:`validate_owner`) after the landings.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from orchestration.schedule import RUN_HOUR
from ytempire.quota import PACIFIC
from ytempire.stage_runs import record_stage

log = logging.getLogger(__name__)

STAGE_REPORTS = "owner_reports"
STAGE_REVENUE = "owner_revenue"


def as_of(day: date, now: datetime | None = None) -> datetime:
    """The instant a run of quota ``day`` sees the owner's APIs at (pure).

    The end of the day's data interval (``day + 1`` at 02:00 Pacific), or
    ``now`` (default: the clock) when that is earlier (a run of today).
    """
    end = datetime.combine(day + timedelta(days=1), clock(RUN_HOUR), tzinfo=PACIFIC)
    return min(end, now or datetime.now(UTC)).astimezone(UTC)


def outcome_counts(outcomes: Mapping[str, Sequence[Any]]) -> dict[str, int]:
    """Channels per outcome status (a channel with two statuses counts in both) (pure).

    ``outcomes`` maps a channel to its ``ChannelOutcome``s, as the landers return them.
    """
    counts: Counter[str] = Counter()
    for items in outcomes.values():
        counts.update({o.status for o in items})
    return dict(sorted(counts.items()))


def outcome_channels(outcomes: Mapping[str, Sequence[Any]]) -> dict[str, list[str]]:
    """Each channel's outcome statuses, sorted (pure): what the daily report lists."""
    return {
        channel: sorted({o.status for o in items}) for channel, items in sorted(outcomes.items())
    }


def _pipelines_dir() -> Any:
    from orchestration.daily import _pipelines_dir as daily_pipelines_dir

    return daily_pipelines_dir()


def land_owner_reports(day: date, *, now: datetime | None = None, **options: Any) -> dict[str, Any]:
    """Land the channels' new YouTube Reporting API reports (stage ``owner_reports``).

    Returns the stage's details: ``status`` (complete, or partial when the
    Reporting API's own budget ran out: the next run resumes), reports
    ``landed`` and ``no_data`` (header-only days), ``rows``, ``api_calls``,
    ``channels``, ``outcomes`` (status -> channels), ``channels_with_outcomes``
    (channel -> statuses), ``as_of``. ``options`` go to the lander
    (``ingestion.youtube_reporting.landing.land_reports``: ``settings``,
    ``channels``, ``families``, ...). Raises ``ServiceUnavailable`` when a
    service of the project is down (after landing what was fetched).
    """
    from ingestion.youtube_reporting.landing import land_reports

    seen_at = as_of(day, now)
    options.setdefault("pipelines_dir", _pipelines_dir())
    with record_stage(STAGE_REPORTS, day, settings=options.get("settings")) as run:
        result = land_reports(options.pop("channels", None), now=seen_at, **options)
        run.details = {
            "status": result.status,
            "landed": result.reports_landed,
            "no_data": result.reports_no_data,
            "rows": result.rows,
            "api_calls": result.api_calls,
            "channels": result.channels,
            "outcomes": outcome_counts(result.outcomes),
            "channels_with_outcomes": outcome_channels(result.outcomes),
            "alerts": result.alerts,
            "as_of": seen_at.isoformat(),
            "error": result.error,
        }
    log.info(
        "owner reports as of %s: %s, %d landed, %d without data, outcomes %s",
        seen_at.isoformat(),
        result.status,
        result.reports_landed,
        result.reports_no_data,
        run.details["outcomes"] or "none",
    )
    return run.details


def land_owner_revenue(day: date, *, now: datetime | None = None, **options: Any) -> dict[str, Any]:
    """Land the channels' revenue of every day not settled yet (stage ``owner_revenue``).

    Returns ``status``, ``channel_days``, ``video_days``, ``api_calls``,
    ``channels``, ``outcomes``, ``channels_with_outcomes``, ``as_of`` (as
    :func:`land_owner_reports`; ``options`` go to
    ``ingestion.youtube_analytics.landing.land_revenue``). Raises
    ``ServiceUnavailable`` when a service of the project is down.
    """
    from ingestion.youtube_analytics.landing import land_revenue

    seen_at = as_of(day, now)
    options.setdefault("pipelines_dir", _pipelines_dir())
    with record_stage(STAGE_REVENUE, day, settings=options.get("settings")) as run:
        result = land_revenue(options.pop("channels", None), now=seen_at, **options)
        run.details = {
            "status": result.status,
            "channel_days": result.channel_days,
            "video_days": result.video_days,
            "api_calls": result.api_calls,
            "channels": result.channels,
            "outcomes": outcome_counts(result.outcomes),
            "channels_with_outcomes": outcome_channels(result.outcomes),
            "as_of": seen_at.isoformat(),
            "error": result.error,
        }
    log.info(
        "owner revenue as of %s: %s, %d channel-days, outcomes %s",
        seen_at.isoformat(),
        result.status,
        result.channel_days,
        run.details["outcomes"] or "none",
    )
    return run.details


def validate_owner(day: date) -> dict[str, Any]:
    """Great Expectations checkpoint ``owner``: freshness per report type, rows per day.

    Stage ``validation_owner``; stores, summarises and alerts like the other
    checkpoints and raises ``ValidationFailed`` (a data problem: no retry)
    naming the report types that are late or short of rows.
    """
    from orchestration.daily import _validate

    return _validate("owner", day)


STAGE_FUNCTIONS = {f.__name__: f for f in (land_owner_reports, land_owner_revenue, validate_owner)}


def run_for_interval(
    function: str, data_interval_start: datetime | None, params: Any = None
) -> dict[str, Any]:
    """Run the owner stage ``function`` for the run's quota day (what the DAG's tasks call).

    Raises ``KeyError`` naming the known stages for an unknown name.
    """
    from orchestration.daily import mask_secrets_in_airflow, quota_day_note, quota_day_of_run

    mask_secrets_in_airflow()
    if function not in STAGE_FUNCTIONS:
        raise KeyError(f"no owner stage {function!r}; known: {', '.join(STAGE_FUNCTIONS)}")
    day = quota_day_of_run(data_interval_start, params)
    log.info("%s for %s", function, quota_day_note(day))
    return STAGE_FUNCTIONS[function](day)
