"""The channel-windows transforms on static DataFrames: parsing, window boundaries, late events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pyspark.sql import types as T

from simulation.traffic import envelope
from streaming.config import StreamConfig, duration_seconds
from streaming.panes import partition_panes
from streaming.windows import (
    ADDED,
    late_report,
    pane_stats,
    parse_events,
    valid_events,
    video_window_stats,
)

CH_A = "UC" + "a" * 22
CH_B = "UC" + "b" * 22
KAFKA_SCHEMA = T.StructType(
    [
        T.StructField("value", T.BinaryType()),
        T.StructField("topic", T.StringType()),
        T.StructField("partition", T.IntegerType()),
        T.StructField("offset", T.LongType()),
        T.StructField("timestamp", T.TimestampType()),
    ]
)


def at(minute: int, second: int = 0, micro: int = 0) -> datetime:
    return datetime(2025, 1, 1, 0, minute, second, micro, tzinfo=UTC)


def kafka_rows(spark, values: list[bytes]):
    now = datetime(2025, 1, 1, tzinfo=UTC)
    rows = [(v, "video-events", 0, i, now) for i, v in enumerate(values)]
    return spark.createDataFrame(rows, KAFKA_SCHEMA)


VIDEOS = {name: str(uuid.uuid5(uuid.NAMESPACE_OID, name)) for name in ("v1", "v2", "v9")}
# a valid payload of each type (the windows count only what the contract accepts)
PAYLOADS = {
    "quality_check": {"quality_score": 80.0},
    "channel_updated": {"title": "A channel", "niche": "tech", "status": "active"},
    "user_action": {"user_id": "u1", "action": "like"},
}


def metrics(moment: datetime, channel: str, video: str, views: int, revenue: str) -> bytes:
    payload = {
        "youtube_video_id": "abcdefghijk",
        "views": views,
        "likes": 0,
        "comments": 0,
        "shares": 0,
        "watch_time_minutes": 0.0,
        "revenue_usd": float(revenue),
    }
    event = envelope("metrics_update", moment, channel, VIDEOS[video], payload)
    return json.dumps(event).encode()


def event(event_type: str, moment: datetime, channel: str, video: str | None = None) -> bytes:
    video_id = VIDEOS[video] if video else None
    return json.dumps(
        envelope(event_type, moment, channel, video_id, PAYLOADS[event_type])
    ).encode()


def parsed(spark, values: list[bytes]):
    return parse_events(kafka_rows(spark, values))


def stats(spark, values: list[bytes], watermark: datetime | None = None) -> dict[tuple, dict]:
    frame = video_window_stats(
        valid_events(parsed(spark, values)), "5 minutes", "1 minute", watermark
    )
    return {
        (r["window_start"], r["channel_id"], r["video_id"]): r for r in frame.toArrow().to_pylist()
    }


def test_parse_keeps_microseconds_and_marks_bad_rows_invalid(spark):
    good = metrics(at(3, 7, 123456), CH_A, "v1", 10, "1.25")
    bad_time = json.dumps({**json.loads(good), "occurred_at": "yesterday"}).encode()
    rows = parsed(spark, [good, b"{not json", bad_time]).toArrow().to_pylist()
    assert rows[0]["occurred_at"] == at(3, 7, 123456)
    assert rows[0]["views"] == 10
    assert rows[0]["revenue_usd"] == Decimal("1.25")
    assert rows[1]["event_type"] is None
    assert rows[2]["occurred_at"] is None
    report = (
        late_report(parsed(spark, [good, b"{not json", bad_time]), None, 300, 60)
        .toArrow()
        .to_pylist()
    )
    assert sum(r["input_rows"] for r in report) == 3
    assert sum(r["invalid_rows"] for r in report) == 2
    assert max(r["max_event_at"] or at(0) for r in report) == at(3, 7, 123456)


def test_event_on_a_boundary_opens_a_window_and_leaves_the_one_ending_there(spark):
    rows = stats(spark, [event("quality_check", at(5), CH_A, "v1")])
    starts = sorted(start for start, _, _ in rows)
    # [00:01, 00:06) ... [00:05, 00:10): five windows; [00:00, 00:05) excludes its end.
    assert starts == [at(m) for m in (1, 2, 3, 4, 5)]
    assert all(r["window_end"] - r["window_start"] == timedelta(minutes=5) for r in rows.values())


def test_event_just_before_a_boundary_stays_in_the_earlier_windows(spark):
    rows = stats(spark, [event("quality_check", at(4, 59, 999999), CH_A, "v1")])
    assert sorted(start for start, _, _ in rows) == [at(m) for m in (0, 1, 2, 3, 4)]


def test_stats_per_video_count_types_and_keep_cumulative_revenue_bounds(spark):
    rows = stats(
        spark,
        [
            metrics(at(0, 10), CH_A, "v1", 100, "1.000001"),
            metrics(at(0, 40), CH_A, "v1", 300, "3.5"),
            metrics(at(0, 50), CH_A, "v2", 50, "0.5"),
            event("quality_check", at(0, 55), CH_A, "v1"),
            event("channel_updated", at(0, 20), CH_A),
            event("user_action", at(0, 30), CH_B),
        ],
    )
    v1 = rows[(at(0), CH_A, VIDEOS["v1"])]
    assert v1["event_count"] == 3
    assert (v1["metrics_update_count"], v1["quality_check_count"]) == (2, 1)
    assert (v1["views_sum"], v1["views_reports"]) == (400, 2)
    assert (v1["revenue_min_usd"], v1["revenue_max_usd"]) == (Decimal("1.000001"), Decimal("3.5"))
    assert v1["last_event_at"] == at(0, 55)
    channel_level = rows[(at(0), CH_A, "")]
    assert channel_level["channel_updated_count"] == 1
    assert channel_level["revenue_max_usd"] is None
    assert rows[(at(0), CH_B, "")]["other_event_count"] == 1
    # Window [-4 min, 1 min) holds all of them too; [00:01, 00:06) none.
    assert (at(1), CH_A, VIDEOS["v1"]) not in rows


def test_late_events_are_those_whose_every_window_has_closed(spark):
    values = [
        event("quality_check", at(2, 59), CH_A, "v1"),  # last window [2, 7): closed
        event("quality_check", at(3, 0), CH_A, "v1"),  # last window [3, 8): open
        event("quality_check", at(1, 0), CH_B, "v9"),  # last window [1, 6): closed
        event("quality_check", at(9, 0), CH_B, "v9"),
        b"garbage",
    ]
    watermark = at(7)  # a window ending at 00:07 has closed; 00:08 is still open
    events = parsed(spark, values)
    report = {
        r["channel_id"]: r for r in late_report(events, watermark, 300, 60).toArrow().to_pylist()
    }
    assert {c: r["late_count"] for c, r in report.items()} == {CH_A: 1, CH_B: 1, None: 0}
    assert (report[CH_A]["oldest_event_at"], report[CH_A]["newest_event_at"]) == (
        at(2, 59),
        at(2, 59),
    )
    assert report[CH_B]["oldest_event_at"] == at(1)
    assert (report[CH_B]["input_rows"], report[None]["invalid_rows"]) == (2, 1)
    assert report[CH_B]["max_event_at"] == at(9)
    no_watermark = late_report(events, None, 300, 60).toArrow().to_pylist()
    assert sum(r["late_count"] for r in no_watermark) == 0
    # The windows agree: the late events are in none, 00:03 only in the open [3, 8).
    windows = stats(spark, values, watermark)
    assert {(start, channel) for start, channel, _ in windows} == {
        (at(3), CH_A),
        *((at(m), CH_B) for m in range(5, 10)),
    }


def test_panes_read_in_the_python_worker_equal_spark_s_pane_stats(spark):
    values = [
        metrics(at(0, 10), CH_A, "v1", 100, "1.000001"),
        metrics(at(0, 40), CH_A, "v1", 300, "0.0000005"),  # 5e-07: half up to 0.000001
        metrics(at(0, 50), CH_A, "v2", 50, "2.4999994"),
        metrics(at(1, 0), CH_A, "v1", 400, "7"),  # the next pane
        event("quality_check", at(0, 59, 999999), CH_A, "v1"),
        event("channel_updated", at(0, 20), CH_A),
        event("user_action", at(0, 30), CH_B),
        event("quality_check", datetime(1969, 12, 31, 23, 59, 30, tzinfo=UTC), CH_B, "v9"),
        b"{not json",
        b"garbage",
    ]
    # Every key spread over three partitions: the rows combine as the sink's SQL does.
    frame = kafka_rows(spark, values * 3).repartition(3)
    python = {}
    for row in partition_panes(frame, 60).toArrow().to_pylist():
        key = (row.pop("pane_start"), row.pop("channel_id"), row.pop("video_id"))
        if key in python:
            mine = python[key]
            for column in ("event_count", *ADDED[1:]):
                mine[column] += row[column]
            for column, pick in (
                ("revenue_max_usd", max),
                ("revenue_min_usd", min),
                ("first_event_at", min),
                ("last_event_at", max),
            ):
                present = [v for v in (mine[column], row[column]) if v is not None]
                mine[column] = pick(present) if present else None
        else:
            python[key] = row
    spark_rows = {
        (r.pop("pane_start"), r.pop("channel_id"), r.pop("video_id")): r
        for r in pane_stats(parse_events(frame), 60).toArrow().to_pylist()
    }
    assert python == spark_rows
    assert python[(at(0), CH_A, VIDEOS["v1"])]["revenue_min_usd"] == Decimal("0.000001")
    assert python[(None, None, "")]["event_count"] == 6


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("5 minutes", 300), ("1 minute", 60), ("10 seconds", 10), ("2 hours", 7200)],
)
def test_durations(text, seconds):
    assert duration_seconds(text) == seconds


def test_config_rejects_a_slide_longer_than_the_window(settings):
    with pytest.raises(ValueError, match="slide"):
        StreamConfig.from_env(settings, window="1 minute", slide="5 minutes")
    with pytest.raises(ValueError, match="not a duration"):
        StreamConfig.from_env(settings, watermark="soon")
    config = StreamConfig.from_env(settings, topics="a, b", query_prefix="t_")
    assert config.topic_list == ["a", "b"]
    assert config.checkpoint("q").endswith("checkpoints/t_q")
