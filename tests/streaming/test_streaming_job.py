"""The channel-windows job end to end: real Kafka, Spark and PostgreSQL.

A fixed event log goes through the job in available-now runs; the rows in
PostgreSQL must equal the plain-Python computation in ``streaming_reference``,
exactly, and a run SIGKILLed three times must end where an uninterrupted one
does -- its windows and its late events, row for row. Each kill lands at a
chosen micro-batch whatever the machine's speed: a trigger the test installs
on ``streaming.stream_batches`` holds the sink's transaction of that batch on
an advisory lock the test owns, and the kill comes once PostgreSQL shows the
sink waiting there.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from simulation import ids
from simulation.bursts import generate
from simulation.traffic import envelope
from streaming.channel_windows import run
from streaming.config import StreamConfig
from streaming.queries import latest_windows
from tests.holds import hold
from tests.streaming import reference as streaming_reference
from ytempire.clients import kafka_admin, kafka_producer, pg_connect
from ytempire.errors import YTEmpireError
from ytempire.events import topic_for
from ytempire.settings import PROJECT_ROOT

BASE = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
HANG_S = 900  # only a hung job fails on it; every verdict waits on observed state
STAT_COLUMNS = (
    "event_count, video_count, video_generated_count, video_uploaded_count, "
    "video_published_count, metrics_update_count, quality_check_count, channel_created_count, "
    "channel_updated_count, other_event_count, avg_views, revenue_usd, revenue_gain_usd, "
    "last_event_at"
)


@pytest.fixture
def clean_sink(pg_admin):
    pg_admin.execute(
        "truncate streaming.channel_window_stats, streaming.channel_video_window_stats, "
        "streaming.stream_batches, streaming.late_events, streaming.stream_progress"
    )


@pytest.fixture
def event_topics(new_topic):
    return new_topic("video-events", partitions=3), new_topic("channel-events", partitions=1)


def send(values: list[tuple[str, bytes]], settings) -> None:
    producer = kafka_producer(settings=settings)
    for topic, value in values:
        producer.send(topic, value=value)
    producer.flush()
    producer.close()


def encoded(events, topics) -> list[tuple[str, bytes]]:
    """Each event on its contract topic; user events ride the video topic, so the job sees one."""
    video, channel = topics
    return [
        (
            topic_for(e["event_type"], video=video, channel=channel, user=video),
            json.dumps(e).encode(),
        )
        for e in events
    ]


def config(tmp_path, topics, **overrides) -> StreamConfig:
    return StreamConfig.from_env(
        topics=",".join(topics), checkpoint_root=str(tmp_path / "checkpoints"), **overrides
    )


def sink_rows(settings) -> dict[tuple, tuple]:
    with pg_connect("loader", settings=settings) as conn:
        rows = conn.execute(
            f"select window_start, window_end, channel_id, {STAT_COLUMNS} "
            "from streaming.channel_window_stats"
        ).fetchall()
    return {tuple(r[:3]): tuple(r[3:]) for r in rows}


def late_total(settings, query_name: str | None = "channel_windows") -> int:
    """Late events counted (by ``query_name``'s batches; None: by any query)."""
    with pg_connect("loader", settings=settings) as conn:
        row = conn.execute(
            "select coalesce(sum(late_count), 0) from streaming.late_events "
            "where %(name)s::text is null or query_name = %(name)s",
            {"name": query_name},
        ).fetchone()
    return int(row[0])


# valid payloads of the contract (the windows count only what the contract accepts)
GENERATED = {"title": "t", "duration_seconds": 60, "generation_cost_usd": 0.5, "niche": "tech"}
PUBLISHED = {"youtube_video_id": "abcdefghijk", "published_at": "2025-01-01T00:04:00Z"}
CHANNEL = {"title": "Channel 1", "niche": "tech", "status": "active"}
USER_ACTION = {"user_id": "u1", "action": "x"}
QUALITY = {"quality_score": 80.0}
VID1 = str(ids.platform_video_id(1, 0))


def phase_a() -> list[dict]:
    """Twelve minutes of traffic on four channels, plus lifecycle and channel events."""
    events = list(generate(400, start=BASE, span=timedelta(minutes=12), channels=4, seed=11))
    ch0, ch1 = ids.channel_id(0), ids.channel_id(1)
    vid = str(ids.platform_video_id(0, 0))
    events += [
        envelope("video_generated", BASE + timedelta(minutes=5), ch0, vid, GENERATED),
        envelope(
            "video_published", BASE + timedelta(minutes=4, seconds=59.999999), ch0, vid, PUBLISHED
        ),
        envelope("channel_created", BASE + timedelta(minutes=1), ch1, None, CHANNEL),
        envelope("user_action", BASE + timedelta(minutes=2), ch1, None, USER_ACTION),
    ]
    return events


def phase_b() -> list[dict]:
    """Later traffic, one event too late for every window and one late for only some."""
    ch2, ch3 = ids.channel_id(2), ids.channel_id(3)
    late_vid = str(ids.platform_video_id(2, 1))
    start = BASE + timedelta(minutes=12)
    return [
        *generate(100, start=start, span=timedelta(minutes=3), channels=4, seed=12),
        # Watermark after phase A is ~12:10:58; the last window holding 12:05:30 ends 12:10.
        envelope("quality_check", BASE + timedelta(minutes=5, seconds=30), ch2, late_vid, QUALITY),
        # 12:08:30 lost [12:04, 12:09) .. but [12:08, 12:13) is still open.
        envelope("quality_check", BASE + timedelta(minutes=8, seconds=30), ch3, late_vid, QUALITY),
    ]


def test_final_rows_equal_an_independent_computation(
    spark, settings, event_topics, clean_sink, tmp_path
):
    first, second = encoded(phase_a(), event_topics), encoded(phase_b(), event_topics)
    first += [(event_topics[0], b"{broken json"), (event_topics[0], b'{"event_type": "x"}')]
    cfg = config(tmp_path, event_topics)

    send(first, settings)
    run(cfg, available_now=True, settings=settings, spark=spark)
    after_first = sink_rows(settings)
    send(second, settings)
    run(cfg, available_now=True, settings=settings, spark=spark)  # resumes from the checkpoint

    expected, late = streaming_reference.windows(
        [[v for _, v in first], [v for _, v in second]], 300, 60, 60
    )
    rows = sink_rows(settings)
    assert late == 1
    assert len(rows) == len(expected)
    assert rows == expected
    assert late_total(settings) == 1
    assert after_first != rows  # the second run changed windows in place ...
    assert len(rows) > len(after_first)  # ... and added new ones, without duplicates
    with pg_connect("loader", settings=settings) as conn:
        invalid = conn.execute(
            "select sum(invalid_rows) from streaming.stream_batches "
            "where query_name = 'channel_windows'"
        ).fetchone()[0]
    assert invalid == 2


def test_latest_windows_are_parameterized(spark, settings, event_topics, clean_sink, tmp_path):
    events = list(generate(60, start=BASE, span=timedelta(minutes=3), channels=2, seed=3))
    send(encoded(events, event_topics), settings)
    run(config(tmp_path, event_topics), available_now=True, settings=settings, spark=spark)

    channel = ids.channel_id(0)
    mine = latest_windows(channel, limit=3, settings=settings)
    assert len(mine) == 3
    assert {r["channel_id"] for r in mine} == {channel}
    assert [r["window_end"] for r in mine] == sorted((r["window_end"] for r in mine), reverse=True)
    newest = latest_windows(None, limit=10, settings=settings)
    assert {r["channel_id"] for r in newest} == {ids.channel_id(0), ids.channel_id(1)}
    assert latest_windows("x' OR '1'='1", settings=settings) == []
    assert (
        latest_windows("x'; drop table streaming.channel_window_stats; --", settings=settings) == []
    )
    assert sink_rows(settings)  # the table is still there


def _job(tmp_path, topics, settings) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ytempire_cli.main",
        "stream",
        "windows",
        "--available-now",
        "--topics",
        ",".join(topics),
        "--checkpoint-root",
        str(tmp_path / "killed"),
        "--max-offsets-per-trigger",
        "300",
    ]


def _batches_done(settings) -> int:
    with pg_connect("loader", settings=settings) as conn:
        return conn.execute(
            "select count(*) from streaming.stream_batches where query_name = 'channel_windows'"
        ).fetchone()[0]


def late_rows(settings) -> set[tuple]:
    with pg_connect("loader", settings=settings) as conn:
        return set(
            conn.execute(
                "select batch_id, channel_id, late_count, oldest_event_at, newest_event_at, "
                "watermark from streaming.late_events where query_name = 'channel_windows'"
            ).fetchall()
        )


@pytest.fixture
def batch_hold(settings):
    """Holds the window sink's transaction of batch ``hold_from(n)`` and later."""
    when = "new.query_name = 'channel_windows' and new.batch_id >= hold_value()"
    with hold(settings, "streaming.stream_batches", when) as installed:
        yield installed


def _run_until_killed(command: list[str], env, batch_id: int, batch_hold) -> int:
    """Start the job and SIGKILL it while it holds batch ``batch_id`` uncommitted."""
    batch_hold.hold_from(batch_id)
    with batch_hold.closed():
        process = subprocess.Popen(
            command,
            env=env,
            cwd=PROJECT_ROOT,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        batch_hold.wait_until_held(process, f"batch {batch_id} was reached")
        os.killpg(process.pid, signal.SIGKILL)
        code = process.wait()
    batch_hold.hold_from(None)
    return code


@pytest.mark.slow
def test_sigkilled_three_times_ends_like_an_uninterrupted_run(
    spark, settings, event_topics, clean_sink, tmp_path, batch_hold
):
    events = list(generate(1500, start=BASE, span=timedelta(minutes=20), channels=6, seed=5))
    # Some disorder, so watermarks and late events depend on the batch boundaries.
    events[750:750] = [
        envelope("quality_check", BASE + timedelta(minutes=m), ids.channel_id(1), VID1, QUALITY)
        for m in (1, 2, 8, 9)
    ]
    send(encoded(events, event_topics), settings)

    uninterrupted = config(tmp_path, event_topics, max_offsets_per_trigger=300)
    run(uninterrupted, available_now=True, settings=settings, spark=spark)
    expected_rows, expected_late = sink_rows(settings), late_rows(settings)
    assert expected_late

    with pg_connect("admin", autocommit=True, settings=settings) as conn:
        conn.execute(
            "truncate streaming.channel_window_stats, streaming.channel_video_window_stats, "
            "streaming.stream_batches, streaming.late_events, streaming.stream_progress"
        )
    env = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}
    command = _job(tmp_path, event_topics, settings)
    for held in (1, 2, 4):  # killed holding batch 1, then 2, then 4 (3 commits between)
        assert _run_until_killed(command, env, held, batch_hold) == -signal.SIGKILL
        assert _batches_done(settings) == held  # batches 0 .. held-1 committed, no more
    assert sink_rows(settings) != expected_rows  # the kills did interrupt the work
    finished = subprocess.run(
        command, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=HANG_S
    )
    assert finished.returncode == 0, finished.stderr[-3000:]

    assert sink_rows(settings) == expected_rows
    assert late_rows(settings) == expected_late


def test_late_events_are_the_window_batches_own_whatever_else_restarted(
    spark, settings, event_topics, clean_sink, tmp_path
):
    # Late events were counted by a second query with its own checkpoint, micro-batches
    # and watermark. When the two cut the stream differently (one restarted, or its
    # checkpoint lost, while the other kept its place) they disagreed: the windows
    # dropped the late event, the count said none. Now the count is the window batch's.
    first, second = encoded(phase_a(), event_topics), encoded(phase_b(), event_topics)
    cfg = config(tmp_path, event_topics)
    send(first, settings)
    run(cfg, available_now=True, settings=settings, spark=spark)
    for folder in Path(cfg.checkpoint_root).iterdir():  # every checkpoint but the windows'
        if folder.name != "channel_windows":
            shutil.rmtree(folder)
    send(second, settings)
    run(cfg, available_now=True, settings=settings, spark=spark)

    expected, late = streaming_reference.windows(
        [[v for _, v in first], [v for _, v in second]], 300, 60, 60
    )
    assert sink_rows(settings) == expected
    assert late == 1
    assert late_total(settings, query_name=None) == late


def _recreate(topic: str, partitions: int, settings) -> None:
    """Delete ``topic`` and create it again under the same name (a new Kafka topic id)."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = kafka_admin(settings=settings)
    try:
        admin.delete_topics([topic])
        deadline = time.monotonic() + HANG_S  # only a hung broker fails on it
        while True:  # the broker finishes a deletion in the background: poll until it has
            try:
                admin.create_topics([NewTopic(topic, partitions, 1)])
                break
            except TopicAlreadyExistsError:
                assert time.monotonic() < deadline, f"topic {topic} still being deleted"
                time.sleep(0.1)
        admin.wait_for_topics([topic])
    finally:
        admin.close()


def test_a_recreated_topic_is_refused_not_read_as_merged(
    spark, settings, event_topics, clean_sink, tmp_path
):
    events = list(generate(40, start=BASE, span=timedelta(minutes=2), channels=2, seed=3))
    cfg = config(tmp_path, event_topics)
    send(encoded(events, event_topics), settings)
    run(cfg, available_now=True, settings=settings, spark=spark)
    merged = sink_rows(settings)
    # The video topic recreated and refilled, the job's checkpoint lost (with it, Spark's
    # own offsets would fail the query on the data loss): offsets 0.. again, new records.
    _recreate(event_topics[0], 3, settings)
    shutil.rmtree(cfg.checkpoint_root)
    later = list(generate(40, start=BASE + timedelta(minutes=30), span=timedelta(minutes=2)))
    send(encoded(later, event_topics), settings)

    with pytest.raises(YTEmpireError, match=f"{event_topics[0]} were deleted and recreated"):
        run(cfg, available_now=True, settings=settings, spark=spark)
    assert sink_rows(settings) == merged  # nothing of the new topic merged, nothing skipped
