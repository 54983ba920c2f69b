"""dlt source for the YouTube Analytics API: the channels' actual revenue, per day and video-day.

It lands in ``raw_youtube_analytics``:

================  ==========================================  ===========================
table             grain (primary key)                         replaced as a whole by
================  ==========================================  ===========================
``channel_days``  (channel_id, day)                           (channel_id, day)
``video_days``    (channel_id, day, video_id)                 (channel_id, day)
``runs``          run_id: one row per run, channels' outcomes  -
================  ==========================================  ===========================

``day`` is YouTube's reporting day (Pacific). Money is in USD
(``currency``), as the API reports it: ``estimated_revenue`` (what the
channel earns: ads, YouTube Premium and transactions),
``estimated_ad_revenue``, ``gross_revenue`` (what advertisers paid),
``estimated_red_partner_revenue`` (YouTube Premium), ``cpm`` (gross revenue
per 1,000 ad impressions), ``playback_based_cpm`` (per 1,000 monetized
playbacks), ``monetized_playbacks``, ``ad_impressions`` (channel-days only:
the API's top-videos report refuses it), ``views``, ``engaged_views``,
``estimated_minutes_watched``. ``is_settled`` says the figures were fetched
at least 72 h after the day ended, when YouTube's revenue no longer changes;
an unsettled day is fetched again by every run until it is settled, and each
fetch replaces the day (the video set too) in one transaction (dlt ``merge``,
``delete-insert`` on ``(channel_id, day)``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import dlt

from ingestion.youtube_owner.loads import columns, day_replaced_table
from ingestion.youtube_owner.runs import runs_table

_MONEY = {
    "estimated_revenue": "double",
    "estimated_ad_revenue": "double",
    "gross_revenue": "double",
    "estimated_red_partner_revenue": "double",
    "cpm": "double",
    "playback_based_cpm": "double",
    "monetized_playbacks": "bigint",
}
_VIEWING = {"views": "bigint", "engaged_views": "bigint", "estimated_minutes_watched": "bigint"}
_FETCH = {"currency": "text", "is_settled": "bool", "fetched_at": "timestamp"}
# Analytics API metric -> column
METRIC_COLUMNS = {
    "views": "views",
    "engagedViews": "engaged_views",
    "estimatedMinutesWatched": "estimated_minutes_watched",
    "estimatedRevenue": "estimated_revenue",
    "estimatedAdRevenue": "estimated_ad_revenue",
    "grossRevenue": "gross_revenue",
    "estimatedRedPartnerRevenue": "estimated_red_partner_revenue",
    "cpm": "cpm",
    "playbackBasedCpm": "playback_based_cpm",
    "monetizedPlaybacks": "monetized_playbacks",
    "adImpressions": "ad_impressions",
}
CHANNEL_DAY_METRICS = tuple(METRIC_COLUMNS)
# the top-videos report (dimensions=video) refuses adImpressions
VIDEO_DAY_METRICS = tuple(m for m in METRIC_COLUMNS if m != "adImpressions")


def _merge_by_day(primary_key: list[str], **types: str) -> dict[str, Any]:
    return day_replaced_table(
        ("channel_id", "day"), primary_key, columns(tuple(primary_key), **types)
    )


TABLES: dict[str, dict[str, Any]] = {
    "channel_days": _merge_by_day(
        ["channel_id", "day"],
        channel_id="text",
        day="date",
        **_VIEWING,
        **_MONEY,
        ad_impressions="bigint",
        **_FETCH,
    ),
    "video_days": _merge_by_day(
        ["channel_id", "day", "video_id"],
        channel_id="text",
        day="date",
        video_id="text",
        **_VIEWING,
        **_MONEY,
        **_FETCH,
    ),
    "runs": runs_table(channel_days="bigint", video_days="bigint"),
}


# the days a load replaces are found by these
INDEXES: dict[str, tuple[str, ...]] = {
    "channel_days": ("channel_id", "day"),
    "video_days": ("channel_id", "day"),
}


def table_hints(name: str) -> dict[str, Any]:
    """The hints of table ``name`` (a copy: dlt writes into the hints it is given)."""
    return copy.deepcopy(TABLES[name])


@dlt.source(name="youtube_analytics", max_table_nesting=0)
def youtube_analytics_source(items: Callable[[dict[str, Any]], Iterator[Any]]) -> Any:
    """One resource, ``revenue``, whose items go to the tables above (see
    :func:`ingestion.youtube_reporting.youtube_reporting_source`)."""

    @dlt.resource(name="revenue", max_table_nesting=0)
    def revenue() -> Iterator[Any]:
        yield from items(dlt.current.source_state())

    for name in TABLES:
        revenue.apply_hints(table_name=name, create_table_variant=True, **table_hints(name))
    return revenue


__all__ = ["INDEXES", "TABLES", "youtube_analytics_source"]
