"""A processor restarted after SIGKILL: the idle timeout waits for the group's partitions.

After a crash the consumer group keeps the dead member's partitions until its
session times out; a restart with ``--idle-timeout`` must count from the
assignment, process the whole backlog and print the lag it left (0), or exit
non-zero naming what is left. Real Kafka, PostgreSQL and Redis; the CLI runs
in child processes as a user runs it.

The first run is killed at a chosen point whatever the machine's speed: its
write of one message (offset 500 of the fullest partition, beyond any first
poll: the runs take polls of at most 500 records, ``--max-poll-records``)
waits on a lock the test owns (:mod:`tests.holds`), so it has committed some
polls and not the backlog.
Polling for "some progress" and killing then raced: a fast machine drained the
whole 3,630-message backlog between two looks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta

from simulation.ids import channel_id, youtube_video_id
from tests.cli import run_ytempire
from tests.holds import hold
from tests.waiting import wait_for
from ytempire.events import encode, new_event

SEED, CHANNELS, VIDEOS_PER_CHANNEL, UPDATES_PER_VIDEO = 616, 6, 5, 120
# The first run is held here: its polls return at most POLL_RECORDS records, so the first
# poll commits and a later one reaches this offset.
POLL_RECORDS = 500
HELD_OFFSET = POLL_RECORDS


def _backlog() -> list[tuple[str, bytes]]:
    """Generated videos and their metrics updates; below the viral threshold, so the
    processor publishes no side message (the CLI's side topics are the standard ones)."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    messages = []
    for c in range(CHANNELS):
        channel = channel_id(c, SEED)
        for v in range(VIDEOS_PER_CHANNEL):
            video = uuid.uuid4()
            generated = {
                "title": f"video {v}",
                "duration_seconds": 600,
                "generation_cost_usd": 0.5,
                "niche": "tech",
            }
            event = new_event("video_generated", channel, generated, video_id=video)
            messages.append((channel, encode(event)))
            for n in range(UPDATES_PER_VIDEO):
                metrics = {
                    "youtube_video_id": youtube_video_id(c, v, SEED),
                    "views": 10 * n,
                    "likes": n,
                    "comments": 0,
                    "shares": 0,
                    "watch_time_minutes": 1.5 * n,
                    "revenue_usd": 0,
                }
                at = start + timedelta(minutes=n)
                update = new_event(
                    "metrics_update", channel, metrics, video_id=video, occurred_at=at
                )
                messages.append((channel, encode(update)))
    return messages


def _processed(loader, topic: str) -> int:
    return loader(
        "select count(*) from ytempire.processed_events where kafka_topic = %s", (topic,)
    )[0][0]


def _partition_ends(settings, topic: str) -> dict[int, int]:
    from kafka import TopicPartition

    from ytempire.clients import kafka_consumer

    consumer = kafka_consumer(settings=settings)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        return {tp.partition: end for tp, end in consumer.end_offsets(partitions).items()}
    finally:
        consumer.close()


def test_a_restart_after_sigkill_processes_the_whole_backlog(
    settings, new_topic, produce, loader, redis_prefix
):
    topic = new_topic("video-events", partitions=3)
    backlog = _backlog()
    assert produce(topic, backlog) == len(backlog)
    group = f"test-restart-{uuid.uuid4().hex[:8]}"
    args = ["process", "events", "--topic", topic, "--group-id", group]
    args += ["--redis-prefix", redis_prefix, "--max-poll-records", str(POLL_RECORDS)]

    partition, end = max(_partition_ends(settings, topic).items(), key=lambda item: item[1])
    assert end > HELD_OFFSET
    when = (
        f"new.kafka_topic = '{topic}' and new.kafka_partition = {partition} "
        "and new.kafka_offset >= hold_value()"
    )
    with hold(settings, "ytempire.processed_events", when) as first_run:
        first_run.hold_from(HELD_OFFSET)
        with first_run.closed():
            crashed = subprocess.Popen(
                [sys.executable, "-m", "ytempire_cli.main", *args],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=dict(os.environ),
                start_new_session=True,
            )
            try:
                first_run.wait_until_held(crashed, f"offset {HELD_OFFSET} was reached")
            finally:
                os.killpg(crashed.pid, signal.SIGKILL)
                crashed.wait()
    before = _processed(loader, topic)
    assert 0 < before < len(backlog)

    # The dead member holds its partitions until its session times out: far
    # longer than this idle timeout, which therefore must count from assignment.
    restart = run_ytempire(*args, "--idle-timeout", "2")

    assert restart.returncode == 0, restart.stdout + restart.stderr
    assert "lag left: 0\n" in restart.stdout
    assert _processed(loader, topic) == len(backlog)
    channels = [channel_id(c, SEED) for c in range(CHANNELS)]
    stored = loader(
        "select count(*) from ytempire.video_metrics m join ytempire.videos v using (video_id) "
        "where v.channel_id = any(%s)",
        (channels,),
    )
    assert stored == [(CHANNELS * VIDEOS_PER_CHANNEL * UPDATES_PER_VIDEO,)]


def test_a_run_that_never_gets_partitions_exits_non_zero_with_the_lag(
    settings, new_topic, produce, redis_prefix
):
    topic = new_topic("video-events")
    channel = channel_id(0, SEED)
    produce(topic, [(channel, b"{not json") for _ in range(7)])
    group = f"test-unassigned-{uuid.uuid4().hex[:8]}"
    # A member that holds the only partition and never lets go within the run below.
    from ytempire.clients import kafka_consumer

    holder = kafka_consumer(topic, settings=settings, group_id=group)
    wait_for(
        lambda: (
            holder.poll(timeout_ms=500, max_records=1) is not None and bool(holder.assignment())
        ),
        "the holder to be assigned",
    )
    try:
        result = run_ytempire(
            "process",
            "events",
            "--topic",
            topic,
            "--group-id",
            group,
            "--redis-prefix",
            redis_prefix,
            "--idle-timeout",
            "1",
            "--assignment-timeout",
            "4",
        )
    finally:
        holder.close()
    assert result.returncode == 3, result.stdout + result.stderr
    assert "lag left: 7" in result.stdout
    assert f"7 messages are left unprocessed in consumer group {group}" in result.stderr
