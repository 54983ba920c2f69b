"""dlt source for the YouTube Reporting API: the channels' daily bulk reports, raw.

They land in ``raw_youtube_reporting``.

One table per report *family* (the report type without its version:
``channel_basic`` holds ``channel_basic_a2`` and ``_a3`` rows alike, and a
future ``_a4`` adds its new columns to it), each row the report's row with
the report's provenance:

====================================  =====================================================
table                                 grain (primary key) / replaced as a whole by
====================================  =====================================================
``channel_basic``                     (report_id, report_row) / (channel_id, date)
``channel_traffic_source``            idem
``channel_device_os``                 idem
``channel_playback_location``         idem
``channel_demographics``              idem
``channel_reach_basic``               idem
``reports``                           report_id: every report landed, with its status
                                      (``landed`` or ``no_data`` for a header-only day)
``jobs``                              job_id: the channels' reporting jobs
``report_types``                      report_type_id: what ``reportTypes.list`` answered
``runs``                              run_id: one row per run, with each channel's outcomes
====================================  =====================================================

A family table's columns are the report's own (YouTube's names; ``date`` a
date, dimension codes and counts ``bigint``, rates and minutes ``double``;
``video_id`` NULL on the rows of deleted videos), and on every row
``report_id``, ``report_row`` (its line in the CSV, from 1),
``report_type_id``, ``job_id``, ``start_time`` and ``create_time``. The
family tables load with dlt's ``merge`` ``delete-insert`` on
``(channel_id, date)``: landing a report replaces every row of its channel
and day in one transaction, so a regenerated report (same ``startTime``,
newer ``createTime``) replaces the day exactly once. A header-only report
that replaces a day with data deletes it: it is landed as one row flagged
``_report_is_empty`` (dlt's ``hard_delete`` hint), which deletes the day's
rows and is never stored (the column is always NULL in the table).

The collection (API calls, downloads) runs inside dlt's extract step
(:mod:`.collector`), so the ``createdAfter`` cursor of each job, kept in
``dlt.current.source_state()``, is saved atomically with the rows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any

import dlt

from ingestion.youtube_owner.loads import columns, day_replaced_table
from ingestion.youtube_owner.runs import runs_table

FAMILIES = (
    "channel_basic",
    "channel_traffic_source",
    "channel_device_os",
    "channel_playback_location",
    "channel_demographics",
    "channel_reach_basic",
)
TOMBSTONE = "_report_is_empty"
# YouTube's report columns, typed (others a new version brings are typed by dlt)
DIMENSIONS: dict[str, str] = {
    "date": "date",
    "channel_id": "text",
    "video_id": "text",
    "live_or_on_demand": "text",
    "subscribed_status": "text",
    "country_code": "text",
    "traffic_source_type": "bigint",
    "traffic_source_detail": "text",
    "device_type": "bigint",
    "operating_system": "bigint",
    "playback_location_type": "bigint",
    "playback_location_detail": "text",
    "age_group": "text",
    "gender": "text",
}
_VIEWING = {
    "engaged_views": "bigint",
    "views": "bigint",
    "watch_time_minutes": "double",
    "average_view_duration_seconds": "bigint",
    "average_view_duration_percentage": "double",
    "red_views": "bigint",
    "red_watch_time_minutes": "double",
}
_ENGAGEMENT = {
    "comments": "bigint",
    "likes": "bigint",
    "dislikes": "bigint",
    "videos_added_to_playlists": "bigint",
    "videos_removed_from_playlists": "bigint",
    "shares": "bigint",
    "subscribers_gained": "bigint",
    "subscribers_lost": "bigint",
}
_ANNOTATIONS_AND_CARDS = {
    **dict.fromkeys(
        (
            "annotation_click_through_rate",
            "annotation_close_rate",
            "card_click_rate",
            "card_teaser_click_rate",
        ),
        "double",
    ),
    **dict.fromkeys(
        (
            "annotation_impressions",
            "annotation_clickable_impressions",
            "annotation_closable_impressions",
            "annotation_clicks",
            "annotation_closes",
            "card_impressions",
            "card_teaser_impressions",
            "card_clicks",
            "card_teaser_clicks",
        ),
        "bigint",
    ),
}
_REACH = {"video_thumbnail_impressions": "bigint", "video_thumbnail_impressions_ctr": "double"}
METRICS: dict[str, str] = {
    **_VIEWING,
    **_ENGAGEMENT,
    **_ANNOTATIONS_AND_CARDS,
    **_REACH,
    "views_percentage": "double",
}
_BASE = ("date", "channel_id", "video_id", "live_or_on_demand", "subscribed_status", "country_code")
# The columns each family documents (Channel Reports of YouTube's Reporting API docs)
FAMILY_COLUMNS: dict[str, tuple[str, ...]] = {
    "channel_basic": (*_BASE, *_VIEWING, *_ENGAGEMENT, *_ANNOTATIONS_AND_CARDS),
    "channel_traffic_source": (*_BASE, "traffic_source_type", "traffic_source_detail", *_VIEWING),
    "channel_device_os": (*_BASE, "device_type", "operating_system", *_VIEWING),
    "channel_playback_location": (
        *_BASE,
        "playback_location_type",
        "playback_location_detail",
        *_VIEWING,
    ),
    "channel_demographics": (*_BASE, "age_group", "gender", "views_percentage"),
    "channel_reach_basic": ("date", "channel_id", "video_id", *_REACH),
}
PROVENANCE = {
    "report_id": "text",
    "report_row": "bigint",
    "report_type_id": "text",
    "job_id": "text",
    "start_time": "timestamp",
    "create_time": "timestamp",
}
COLUMN_TYPES = {**DIMENSIONS, **METRICS, **PROVENANCE}


def _family_hints(family: str) -> dict[str, Any]:
    cols = columns(
        ("channel_id", "date", "report_id", "report_row"),
        **{c: COLUMN_TYPES[c] for c in FAMILY_COLUMNS[family]},
        **PROVENANCE,
    )
    cols.append({"name": TOMBSTONE, "data_type": "bool", "nullable": True, "hard_delete": True})
    return day_replaced_table(("channel_id", "date"), ["report_id", "report_row"], cols)


TABLES: dict[str, dict[str, Any]] = {
    **{family: _family_hints(family) for family in FAMILIES},
    "reports": {
        "write_disposition": "merge",
        "primary_key": ["report_id"],
        "columns": columns(
            ("report_id",),
            report_id="text",
            job_id="text",
            channel_id="text",
            report_type_id="text",
            report_family="text",
            report_date="date",
            start_time="timestamp",
            end_time="timestamp",
            create_time="timestamp",
            status="text",
            row_count="bigint",
            csv_bytes="bigint",
            landed_at="timestamp",
        ),
    },
    "jobs": {
        "write_disposition": "merge",
        "primary_key": ["job_id"],
        "columns": columns(
            ("job_id",),
            job_id="text",
            channel_id="text",
            report_type_id="text",
            name="text",
            create_time="timestamp",
            expire_time="timestamp",
            system_managed="bool",
            seen_at="timestamp",
        ),
    },
    "report_types": {
        "write_disposition": "merge",
        "primary_key": ["report_type_id"],
        "columns": columns(
            ("report_type_id",),
            report_type_id="text",
            name="text",
            report_family="text",
            version="bigint",
            deprecate_time="timestamp",
            system_managed="bool",
            seen_at="timestamp",
        ),
    },
    "runs": runs_table(reports_landed="bigint", reports_no_data="bigint", rows_landed="bigint"),
}


# the days a load replaces, and what the lander reads back, are found by these
INDEXES: dict[str, tuple[str, ...]] = {
    **{family: ("channel_id", "date") for family in FAMILIES},
    "reports": ("channel_id", "report_family", "report_date", "create_time"),
}


def table_hints(name: str) -> dict[str, Any]:
    """The hints of table ``name`` (a copy: dlt writes into the hints it is given)."""
    return copy.deepcopy(TABLES[name])


@dlt.source(name="youtube_reporting", max_table_nesting=0)
def youtube_reporting_source(items: Callable[[dict[str, Any]], Iterator[Any]]) -> Any:
    """One resource, ``reports``, whose items go to the tables above.

    ``items(state)`` runs the collection with the source state (the cursors)
    and yields items marked with their table (``dlt.mark.with_table_name``).
    """

    @dlt.resource(name="reports", max_table_nesting=0)
    def reports() -> Iterator[Any]:
        yield from items(dlt.current.source_state())

    for name in TABLES:
        reports.apply_hints(table_name=name, create_table_variant=True, **table_hints(name))
    return reports


__all__ = ["FAMILIES", "INDEXES", "TABLES", "youtube_reporting_source"]
