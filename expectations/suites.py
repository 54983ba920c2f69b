"""The Great Expectations suites, defined in code and versioned with it (GX Core 1.x API).

Each function returns a fresh ``great_expectations.ExpectationSuite``; the
suite's ``meta["version"]`` is :data:`SUITES_VERSION`, bumped whenever an
expectation changes, so a stored result names the rules it was judged by.
GX is imported inside the functions: importing this module stays cheap.

Suites and what they check (the asset each runs on is bound in
:mod:`expectations.checkpoints`):

- ``video_data_quality`` (the platform's videos, ``ytempire.videos``): the
  reference design's rules -- ids present and unique, YouTube video id format,
  quality score 0-100, generation cost $0-$3, duration 30-3600 s;
- ``channel_data_quality`` (``ytempire.channels``): id present, unique,
  ``UC`` + 22 characters, status active/paused/archived;
- ``raw_youtube_videos``: the API's video rows (ids, formats, durations >= 0);
- ``raw_youtube_landing`` / ``raw_events_landing``: one row per landed day with
  its row count against the median of the seven days before, the days the
  newest landing lags behind, and the dead-letter share of the events;
- ``marts_channel_daily`` / ``marts_dim_videos``: the public marts' keys,
  formats and ranges after dbt;
- ``owner_freshness`` / ``owner_rows_per_day`` (the owner's Reporting API
  report types and Analytics API revenue): the newest landed day within the
  type's expected delay, and its rows against the 7 days before;
- ``marts_run_day``: one row per day-grain public mart with its rows of the
  run day, each at least one (a whole-table rule cannot see a missing day).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

SUITES_VERSION = "2026.12.2"

YOUTUBE_VIDEO_ID = r"^[A-Za-z0-9_-]{11}$"
YOUTUBE_CHANNEL_ID = r"^UC[A-Za-z0-9_-]{22}$"
CHANNEL_STATUSES = ("active", "paused", "archived")
VIDEO_STATUSES = ("processing", "generated", "uploaded", "published", "failed")

# Bounds of the landing checks (the raw suites).
MIN_ROW_COUNT_RATIO = 0.75  # a day's rows / median of the 7 days before; half a landing fails
MAX_ROW_COUNT_RATIO = 4.0
MAX_DAYS_BEHIND = 1  # newest landed day may trail the run date by one day
MAX_DEAD_LETTER_SHARE = 0.01  # dead letters / (events + dead letters) of a day
# Bounds of the owner's rows per day (the owner checkpoint)
OWNER_MIN_ROW_COUNT_RATIO = 0.5
OWNER_MAX_ROW_COUNT_RATIO = 4.0


def _suite(name: str, expectations: list[object], description: str) -> ExpectationSuite:
    import great_expectations as gx

    return gx.ExpectationSuite(
        name=name,
        expectations=expectations,  # type: ignore[arg-type]
        meta={"version": SUITES_VERSION, "description": description},
    )


def _id_rules(column: str, pattern: str) -> list[object]:
    """An identifier: present, unique, in its YouTube format."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToNotBeNull(column=column),
        gxe.ExpectColumnValuesToBeUnique(column=column),
        gxe.ExpectColumnValuesToMatchRegex(column=column, regex=pattern),
    ]


def _platform_ranges() -> list[object]:
    """The platform's own scores and costs: quality 0-100, generation cost $0-$3."""
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeBetween(column="quality_score", min_value=0, max_value=100),
        gxe.ExpectColumnValuesToBeBetween(column="generation_cost_usd", min_value=0, max_value=3),
    ]


def video_data_quality() -> ExpectationSuite:
    """The platform's generated videos (reference rules)."""
    import great_expectations.expectations as gxe

    return _suite(
        "video_data_quality",
        [
            gxe.ExpectColumnValuesToNotBeNull(column="video_id"),
            gxe.ExpectColumnValuesToBeUnique(column="video_id"),
            gxe.ExpectColumnValuesToNotBeNull(column="channel_id"),
            gxe.ExpectColumnValuesToMatchRegex(column="youtube_video_id", regex=YOUTUBE_VIDEO_ID),
            gxe.ExpectColumnValuesToBeUnique(column="youtube_video_id"),
            gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(VIDEO_STATUSES)),
            *_platform_ranges(),
            gxe.ExpectColumnValuesToBeBetween(
                column="duration_seconds", min_value=30, max_value=3600
            ),
        ],
        "Videos the platform generates: ids, YouTube id format, score, cost, duration.",
    )


def channel_data_quality() -> ExpectationSuite:
    """The platform's channels (reference rules)."""
    import great_expectations.expectations as gxe

    return _suite(
        "channel_data_quality",
        [
            *_id_rules("channel_id", YOUTUBE_CHANNEL_ID),
            gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(CHANNEL_STATUSES)),
        ],
        "Channels of the network: id format and status.",
    )


def raw_youtube_videos() -> ExpectationSuite:
    """Video rows landed from the YouTube Data API."""
    import great_expectations.expectations as gxe

    return _suite(
        "raw_youtube_videos",
        [
            *_id_rules("video_id", YOUTUBE_VIDEO_ID),
            gxe.ExpectColumnValuesToMatchRegex(column="channel_id", regex=YOUTUBE_CHANNEL_ID),
            gxe.ExpectColumnValuesToBeBetween(column="duration_seconds", min_value=0),
        ],
        "The API's videos: ids and formats (real durations vary, only >= 0 is required).",
    )


def _landing_expectations() -> list[object]:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectColumnValuesToBeBetween(column="day_rows", min_value=1),
        gxe.ExpectColumnValuesToBeBetween(
            column="row_count_ratio", min_value=MIN_ROW_COUNT_RATIO, max_value=MAX_ROW_COUNT_RATIO
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="days_behind", min_value=0, max_value=MAX_DAYS_BEHIND
        ),
    ]


def raw_youtube_landing() -> ExpectationSuite:
    """Per landed table of raw_youtube: the run day's rows and freshness."""
    return _suite(
        "raw_youtube_landing",
        _landing_expectations(),
        "Rows landed on the run day (vs the 7 days before) and freshness, per raw table.",
    )


def raw_events_landing() -> ExpectationSuite:
    """raw_events: the run day's rows, freshness and dead-letter share."""
    import great_expectations.expectations as gxe

    return _suite(
        "raw_events_landing",
        [
            *_landing_expectations(),
            gxe.ExpectColumnValuesToBeBetween(
                column="dead_letter_share", min_value=0, max_value=MAX_DEAD_LETTER_SHARE
            ),
        ],
        "Events landed on the run day, freshness and the dead-letter share.",
    )


def marts_channel_daily() -> ExpectationSuite:
    """marts.fct_channel_daily_metrics after dbt."""
    import great_expectations.expectations as gxe

    return _suite(
        "marts_channel_daily",
        [
            gxe.ExpectColumnValuesToNotBeNull(column="channel_id"),
            gxe.ExpectColumnValuesToMatchRegex(column="channel_id", regex=YOUTUBE_CHANNEL_ID),
            gxe.ExpectCompoundColumnsToBeUnique(column_list=["channel_id", "metric_date"]),
            gxe.ExpectColumnValuesToBeBetween(
                column="engagement_rate_pct", min_value=0, max_value=100
            ),
            gxe.ExpectColumnValuesToBeBetween(column="revenue_estimate_usd", min_value=0),
        ],
        "The channel-day fact: grain, id format, rates and revenue in range.",
    )


def marts_dim_videos() -> ExpectationSuite:
    """marts.dim_videos after dbt."""
    import great_expectations.expectations as gxe

    return _suite(
        "marts_dim_videos",
        [
            *_id_rules("video_id", YOUTUBE_VIDEO_ID),
            gxe.ExpectColumnValuesToMatchRegex(column="channel_id", regex=YOUTUBE_CHANNEL_ID),
            *_platform_ranges(),
        ],
        "The video dimension: key, formats, the platform's score and cost in range.",
    )


def marts_run_day() -> ExpectationSuite:
    """The run day's rows of each day-grain public mart (channel-day, video-day, day)."""
    import great_expectations.expectations as gxe

    return _suite(
        "marts_run_day",
        [gxe.ExpectColumnValuesToBeBetween(column="day_rows", min_value=1)],
        "The run day has rows at every grain: a build that wrote no day fails.",
    )


def owner_freshness() -> ExpectationSuite:
    """Per owner source (Reporting API report type, or revenue): the newest landed day is
    within the source's expected delay of the run day (``expectations.checkpoints``)."""
    import great_expectations.expectations as gxe

    return _suite(
        "owner_freshness",
        [
            gxe.ExpectColumnValuesToNotBeNull(column="report_type"),
            # a failing row names its report type (the key column); NULL while not due yet
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="max_days_behind",
                column_B="days_behind",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
        ],
        "Each report type's newest landed day is no more days behind the run day than its "
        "expected delay (about 48 h) plus a day of grace.",
    )


def owner_rows_per_day() -> ExpectationSuite:
    """Per owner source: the newest day's rows against the 7 days before, channel by channel."""
    import great_expectations.expectations as gxe

    return _suite(
        "owner_rows_per_day",
        [
            gxe.ExpectColumnValuesToBeBetween(
                column="row_count_ratio",
                min_value=OWNER_MIN_ROW_COUNT_RATIO,
                max_value=OWNER_MAX_ROW_COUNT_RATIO,
            ),
        ],
        "Each report type's newest day has its usual rows: the rows of the channels that "
        "delivered it over their median of the 7 days before, within 0.5-4.",
    )


SUITES: dict[str, Callable[[], ExpectationSuite]] = {
    "video_data_quality": video_data_quality,
    "channel_data_quality": channel_data_quality,
    "raw_youtube_videos": raw_youtube_videos,
    "raw_youtube_landing": raw_youtube_landing,
    "raw_events_landing": raw_events_landing,
    "marts_channel_daily": marts_channel_daily,
    "marts_dim_videos": marts_dim_videos,
    "marts_run_day": marts_run_day,
    "owner_freshness": owner_freshness,
    "owner_rows_per_day": owner_rows_per_day,
}
