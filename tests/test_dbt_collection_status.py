"""One word on a day's completeness, and baseline rows as the docs describe them.

A crafted two-channel network over three days from Monday 2025-03-03, landed
by hand in a database of its own and built with ``dbt build``:

    day  channel A (old video a1)        channel B (new video b1)        run
    0    snapshots                        snapshots                       complete
    1    snapshots                        channel snapshot only: failed   partial, B failed
    2    snapshots                        not in channels.list            complete, B not_found

On main the two collection marts disagreed: day 1 was "complete" in
``fct_collection_status`` (B's snapshot landed) while its run failed B, and day
2 was incomplete there (B expected for a week) while the run said complete with
nothing failed. Now ``fct_collection_status`` is the one definition (the
collector's failures and gone channels included) and ``fct_ingestion_daily``
reads it.

Day 0 is both channels' baseline. Video a1 was published long before its first
snapshot, so it is a baseline too: channel A's day has no measured video, hence
no engagement rate and no revenue, as the docs say (docs block is_baseline).
Video b1 is new and counts from zero: channel B's baseline day keeps its
engagement and revenue.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from simulation import ids
from simulation.raw_history import create_raw_indexes, create_raw_tables
from tests.conftest import own_database
from ytempire.clients import pg_connect
from ytempire.dbt_runner import run_dbt
from ytempire.settings import Settings

pytestmark = pytest.mark.services

START = date(2025, 3, 3)
A, B = ids.channel_id(0), ids.channel_id(1)
A1, B1 = ids.youtube_video_id(0, 0), ids.youtube_video_id(1, 0)
# day -> (status, channel_issues) of the day's run
RUNS = {
    0: ("complete", None),
    1: ("partial", {B: {"status": "failed", "reason": "playlistItems: 403 forbidden"}}),
    2: ("complete", {B: {"status": "not_found", "reason": "not in channels.list"}}),
}


def _day(day: int) -> date:
    return START + timedelta(days=day)


def _land(conn: psycopg.Connection[Any]) -> None:
    create_raw_tables(conn)
    create_raw_indexes(conn)
    videos = ((A, A1, "2024-01-01 12:00+00"), (B, B1, f"{START} 18:00+00"))
    for index, (channel, video, published) in enumerate(videos):
        conn.execute(
            "insert into ytempire.channels (channel_id, title, niche, created_at) "
            "values (%s, %s, 'tech', '2020-01-01')",
            (channel, f"Channel {index}"),
        )
        conn.execute(
            "insert into raw_youtube.videos (video_id, channel_id, title, published_at, "
            "duration_seconds, duration_iso, category_id, definition, first_seen_date, "
            "_dlt_load_id, _dlt_id) values (%s, %s, %s, %s, 300, 'PT5M', '22', 'hd', %s, "
            "'1700000000.0', %s)",
            (video, channel, f"Video {index}", published, START, f"v{index}"),
        )
    for day, (status, issues) in RUNS.items():
        load = f"{1_700_000_000 + day}.0"
        collected = f"{_day(day)} 20:00+00"
        snapshots = [(A, A1)] + ([(B, B1)] if day == 0 else [(B, None)] if day == 1 else [])
        for channel, video in snapshots:
            conn.execute(
                "insert into raw_youtube.channel_snapshots (channel_id, collection_date, "
                "collected_at, title, published_at, country, subscriber_count, view_count, "
                "video_count, hidden_subscriber_count, _dlt_load_id, _dlt_id) values "
                "(%s, %s, %s, 'Channel', '2020-01-01', 'US', 1000, %s, 1, false, %s, %s)",
                (channel, _day(day), collected, 100_000 + 1_000 * day, load, f"c{channel}{day}"),
            )
            if video is None:
                continue
            views = 1_000 + 100 * day if video == A1 else 500 * (day + 1)
            conn.execute(
                "insert into raw_youtube.video_snapshots (video_id, collection_date, "
                "channel_id, collected_at, view_count, like_count, comment_count, "
                "_dlt_load_id, _dlt_id) values (%s, %s, %s, %s, %s, %s, 0, %s, %s)",
                (video, _day(day), channel, collected, views, views // 20, load, f"s{video}{day}"),
            )
        failed = sum(1 for issue in (issues or {}).values() if issue["status"] == "failed")
        conn.execute(
            "insert into raw_youtube.collection_runs (run_id, collection_date, started_at, "
            "finished_at, status, quota_units_used, channels_collected, videos_collected, "
            "channels_failed, channel_issues, error, _dlt_load_id, _dlt_id) values "
            "(%s, %s, %s, %s, %s, 6, %s, %s, %s, %s, null, %s, %s)",
            (
                f"run-{day}",
                _day(day),
                f"{_day(day)} 19:00+00",
                collected,
                status,
                len(snapshots),
                sum(1 for _, video in snapshots if video),
                failed,
                json.dumps(issues) if issues else None,
                load,
                f"r{day}",
            ),
        )


@pytest.fixture(scope="module")
def scenario(test_database: str) -> Iterator[Settings]:
    with own_database("collection") as settings:
        with pg_connect("loader", settings=settings) as conn:
            _land(conn)
        run_dbt("build")
        yield settings


def _rows(settings: Settings, sql: str) -> dict[date, dict[str, Any]]:
    with pg_connect("analyst", settings=settings) as conn, conn.cursor() as cur:
        cur.execute(sql)  # type: ignore[arg-type]
        names = [column.name for column in cur.description or []]
        rows = [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
    return {row.pop("metric_date"): row for row in rows}


def test_the_collection_status_takes_the_collectors_word(scenario: Settings) -> None:
    status = _rows(
        scenario,
        "select metric_date, channels_expected, channels_collected, channels_failed,"
        " is_complete from fct_collection_status",
    )
    assert status == {
        _day(0): {"channels_expected": 2, "channels_collected": 2, "channels_failed": 0,
                  "is_complete": True},
        # B's snapshot landed but the run failed it: not collected in full
        _day(1): {"channels_expected": 2, "channels_collected": 2, "channels_failed": 1,
                  "is_complete": False},
        # B is gone from YouTube: nothing to collect, not missing
        _day(2): {"channels_expected": 1, "channels_collected": 1, "channels_failed": 0,
                  "is_complete": True},
    }  # fmt: skip


def test_the_ingestion_mart_reads_the_same_completeness(scenario: Settings) -> None:
    ingestion = _rows(
        scenario,
        "select metric_date, last_run_status, channels_failed, channels_missing,"
        " is_collection_complete from fct_ingestion_daily",
    )
    status = _rows(scenario, "select metric_date, is_complete from fct_collection_status")
    assert {day: row["is_collection_complete"] for day, row in ingestion.items()} == {
        day: row["is_complete"] for day, row in status.items()
    }
    runs = [
        (row["last_run_status"], row["channels_failed"]) for _, row in sorted(ingestion.items())
    ]
    assert runs == [("complete", 0), ("partial", 1), ("complete", 0)]


def test_a_baseline_has_no_rate_and_earns_nothing(scenario: Settings) -> None:
    with pg_connect("analyst", settings=scenario) as conn:
        by_channel = {
            row[0]: row[1:]
            for row in conn.execute(
                "select channel_id, is_baseline, engagement_rate_pct, revenue_estimate_usd"
                " from fct_channel_daily_metrics where metric_date = %s",
                (START,),
            )
        }
        video = conn.execute(
            "select is_baseline, views_daily, engagement_rate_pct, revenue_estimate_usd"
            " from fct_video_daily_metrics where video_id = %s and metric_date = %s",
            (A1, START),
        ).fetchone()
    # A's only video is a baseline too: nothing was measured that day
    assert by_channel[A] == (True, None, Decimal("0.00"))
    assert video == (True, 0, None, Decimal("0.00"))
    # B's new video counts from zero: the channel's baseline day keeps it
    b_baseline, b_rate, b_revenue = by_channel[B]
    assert b_baseline is True
    assert b_rate is not None
    assert b_revenue > 0
