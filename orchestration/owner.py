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

Only the channels whose owner granted access (the token store) are landed;
the others are counted as ``no_credentials`` without a call. Neither stage
fails the run because a day's reports are not out yet, nor because a channel
failed: each channel's trouble (``no_credentials``, ``auth_revoked``,
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
from ytempire.settings import get_settings
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


def granted_channels(options: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(channels to land, channels without a grant): ``options["channels"]`` (None or
    absent: the configured channels, ``ingestion.youtube.landing.configured_channels``),
    in their order, split by whether the token store
    (``settings.youtube_token_store_path``) holds their owner's grant.

    A channel without one is the ``no_credentials`` outcome without a call or a dlt load:
    a network of 250 channels whose owners granted 3 lands in one load, not ten, and one
    whose owners granted none starts no load at all. Raises ``TokenStoreError`` when the
    store cannot be read (a task failure: the grants are unknown, not absent).
    """
    from ingestion.youtube.landing import configured_channels
    from ingestion.youtube_owner.tokens import TokenStore

    s = options.get("settings") or get_settings()
    listed = options.get("channels")
    wanted = list(dict.fromkeys(configured_channels(s) if listed is None else listed))
    granted = TokenStore(s.youtube_token_store_path).channels()
    return [c for c in wanted if c in granted], [c for c in wanted if c not in granted]


def _details(result: Any, ungranted: list[str], seen_at: datetime) -> dict[str, Any]:
    """What both landings record: status, channels, outcomes (counted and per channel)."""
    outcomes = outcome_counts(result.outcomes) if result else {}
    per_channel = outcome_channels(result.outcomes) if result else {}
    if ungranted:
        outcomes["no_credentials"] = outcomes.get("no_credentials", 0) + len(ungranted)
        per_channel.update({channel: ["no_credentials"] for channel in ungranted})
    return {
        "status": result.status if result else "no_grants",
        "channels": (result.channels if result else 0) + len(ungranted),
        "api_calls": result.api_calls if result else 0,
        "outcomes": dict(sorted(outcomes.items())),
        "channels_with_outcomes": dict(sorted(per_channel.items())),
        "as_of": seen_at.isoformat(),
        "error": result.error if result else None,
    }


def _pipelines_dir() -> Any:
    from orchestration.daily import _pipelines_dir as daily_pipelines_dir

    return daily_pipelines_dir()


def land_owner_reports(day: date, *, now: datetime | None = None, **options: Any) -> dict[str, Any]:
    """Land the channels' new YouTube Reporting API reports (stage ``owner_reports``).

    Returns the stage's details: ``status`` (complete, partial when the
    Reporting API's own budget ran out: the next run resumes, or
    ``no_grants`` when no channel's owner granted access), reports
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
        channels, ungranted = granted_channels(options)
        options.pop("channels", None)
        result = land_reports(channels, now=seen_at, **options) if channels else None
        run.details = {
            **_details(result, ungranted, seen_at),
            "landed": result.reports_landed if result else 0,
            "no_data": result.reports_no_data if result else 0,
            "rows": result.rows if result else 0,
            "alerts": result.alerts if result else 0,
        }
    log.info(
        "owner reports as of %s: %s, %d landed, %d without data, outcomes %s",
        seen_at.isoformat(),
        run.details["status"],
        run.details["landed"],
        run.details["no_data"],
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
        channels, ungranted = granted_channels(options)
        options.pop("channels", None)
        result = land_revenue(channels, now=seen_at, **options) if channels else None
        run.details = {
            **_details(result, ungranted, seen_at),
            "channel_days": result.channel_days if result else 0,
            "video_days": result.video_days if result else 0,
        }
    log.info(
        "owner revenue as of %s: %s, %d channel-days, outcomes %s",
        seen_at.isoformat(),
        run.details["status"],
        run.details["channel_days"],
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
