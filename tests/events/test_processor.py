"""The real-time processor against real Kafka, PostgreSQL and Redis: effects and replay."""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from simulation.ids import channel_id, youtube_video_id
from simulation.traffic import simulated_events
from streaming.processor import (
    SKIPPED,
    WAREHOUSE_ONLY,
    EventProcessor,
    SideMessageError,
    SideMessages,
    Topics,
)
from tests.read_topic import drain, read_topic
from tests.waiting import wait_for
from ytempire.clients import pg_connect, redis_client
from ytempire.events import encode, new_event

SEED, CHANNELS = 515, 12


def _tables(loader, channels: list[str]) -> dict[str, list]:
    return {
        "channels": loader(
            "select channel_id, video_count, total_views, total_likes, total_comments "
            "from ytempire.channels where channel_id = any(%s) order by 1",
            (channels,),
        ),
        "videos": loader(
            "select video_id, status, youtube_video_id, quality_score, published_at, views, "
            "likes, comments, metrics_observed_at from ytempire.videos "
            "where channel_id = any(%s) order by 1",
            (channels,),
        ),
        "video_metrics": loader(
            "select m.video_id, m.observed_at, m.views, m.likes, m.comments, m.watch_time_minutes "
            "from ytempire.video_metrics m join ytempire.videos v using (video_id) "
            "where v.channel_id = any(%s) order by 1, 2",
            (channels,),
        ),
    }


def _redis(prefix: str) -> dict[str, dict[str, str]]:
    client = redis_client()
    return {key: client.hgetall(key) for key in sorted(client.scan_iter(f"{prefix}*"))}


def _count(settings, topic: str) -> list:
    return read_topic(topic, settings)


@pytest.fixture
def topics(new_topic) -> Topics:
    return Topics(
        sources=(new_topic("video-events", partitions=3),),
        notifications=new_topic("notifications"),
        alerts=new_topic("alerts"),
        dead_letter=new_topic("dlq"),
    )


def _process(settings, topics: Topics, prefix: str, group: str):
    processor = EventProcessor(
        group_id=group, topics=topics, redis_prefix=prefix, settings=settings
    )
    try:
        return drain(processor)
    finally:
        processor.close()


def test_handlers_apply_and_a_replay_changes_nothing(
    settings, topics, produce, loader, redis_prefix
):
    events = list(simulated_events(3_000, seed=SEED, channels=CHANNELS))
    channels = [channel_id(i, SEED) for i in range(CHANNELS)]
    unknown_video = new_event(
        "quality_check", channels[0], {"quality_score": 50}, video_id=__import__("uuid").uuid4()
    )
    bad = [("k", b"{oops"), ("k", b'{"event_type": "video_teleported"}')]
    produce(
        topics.sources[0],
        [(k, v) for _, k, v, _ in events]
        + [(channels[0], unknown_video.model_dump_json().encode()), *bad],
    )

    first = _process(settings, topics, redis_prefix, "g-first")
    tables, dashboards = _tables(loader, channels), _redis(redis_prefix)
    notifications, alerts = _count(settings, topics.notifications), _count(settings, topics.alerts)

    video_events = [e for kind, *_, e in events if kind == "video"]
    handler_types = ("video_generated", "video_uploaded", "video_published", "metrics_update")
    assert sum(first[t] for t in (*handler_types, "quality_check")) == len(video_events)
    assert first["dead_lettered"] == 3
    assert len(_count(settings, topics.dead_letter)) == 3
    assert {status for _, status, *_ in tables["videos"]} == {"published"}
    assert all(row[4] is not None for row in tables["videos"])  # published_at
    assert len(tables["video_metrics"]) == first["metrics_update"]
    assert sum(row[1] for row in tables["channels"]) == first["video_generated"]
    latest = {row[0]: row[5] for row in tables["videos"]}
    assert sum(row[2] for row in tables["channels"]) == sum(latest.values())
    assert len(dashboards) == CHANNELS
    assert all(h["status"] == "uploaded" for h in dashboards.values())
    ttl = redis_client().ttl(next(iter(dashboards)))
    assert 0 < ttl <= 3600
    viral = sum(1 for views in latest.values() if views > 10_000)
    assert viral > 0
    assert len(alerts) == viral
    assert (
        sum(1 for m in notifications if json.loads(m.value)["type"] == "video_uploaded")
        == (first["video_uploaded"])
    )

    sent_types = Counter(json.loads(v)["event_type"] for _, _, v, _ in events)
    skipped = {t.removeprefix(SKIPPED): n for t, n in first.items() if t.startswith(SKIPPED)}
    assert skipped == {t: sent_types[t] for t in WAREHOUSE_ONLY if sent_types[t]}
    assert set(skipped) == WAREHOUSE_ONLY  # the simulated traffic has both kinds

    replay = _process(settings, topics, redis_prefix, "g-replay")
    handled = sum(first[t] for t in first if t != "dead_lettered" and not t.startswith("skipped:"))
    assert replay["replayed"] == handled
    assert replay["dead_lettered"] == 3
    assert _tables(loader, channels) == tables
    assert _redis(redis_prefix) == dashboards
    assert len(_count(settings, topics.notifications)) == len(notifications)
    assert len(_count(settings, topics.alerts)) == len(alerts)


def test_a_poisonous_event_in_a_poll_is_dead_lettered_and_the_rest_applied_once(
    settings, topics, produce, loader, redis_prefix
):
    """A poll is applied set-based; an event the database refuses (a YouTube id another
    video of the poll takes) fails that, and the poll falls back to one event at a time:
    the poison is dead-lettered with the database's reason and sends no side message, the
    others apply, and a second pass over the same records changes nothing."""
    channel = channel_id(0, SEED + 1)
    first, second = uuid.uuid4(), uuid.uuid4()
    at = datetime(2026, 1, 1, tzinfo=UTC)
    generated = {"duration_seconds": 600, "generation_cost_usd": 0.5, "niche": "tech"}
    taken = youtube_video_id(0, 0, SEED + 1)
    metrics = {"youtube_video_id": taken, "views": 12_000, "likes": 30, "comments": 4}
    metrics |= {"shares": 0, "watch_time_minutes": 9.5, "revenue_usd": 0}
    events = [
        new_event("video_generated", channel, {"title": "a", **generated}, video_id=first),
        new_event("video_generated", channel, {"title": "b", **generated}, video_id=second),
        new_event("video_uploaded", channel, {"youtube_video_id": taken}, video_id=first),
        new_event("video_uploaded", channel, {"youtube_video_id": taken}, video_id=second),
        new_event("metrics_update", channel, metrics, video_id=first, occurred_at=at),
    ]
    source = topics.sources[0]
    produce(source, [(channel, encode(e)) for e in events])
    records = read_topic(source, settings)
    assert len(records) == len(events)

    processor = EventProcessor(
        group_id="g-poison", topics=topics, redis_prefix=redis_prefix, settings=settings
    )
    polls = [records[:4], records[4:]]  # the poison's poll, then one with a metrics update
    try:
        for poll in polls:  # these polls, whatever Kafka's fetch sizes
            processor.process_poll(poll)
        once = Counter(processor.counts)
        for poll in polls:  # redelivered
            processor.process_poll(poll)
        twice = processor.counts - once
    finally:
        processor.close()

    assert once == {
        "video_generated": 2,
        "video_uploaded": 1,
        "metrics_update": 1,
        "dead_lettered": 1,
    }
    assert twice == {"replayed": 4, "dead_lettered": 1}
    videos = loader(
        "select video_id, status, youtube_video_id, views from ytempire.videos "
        "where channel_id = %s order by title",
        (channel,),
    )
    assert videos == [(first, "uploaded", taken, 12_000), (second, "generated", None, 0)]
    assert loader(
        "select video_count, total_views, total_likes, total_comments from ytempire.channels "
        "where channel_id = %s",
        (channel,),
    ) == [(2, 12_000, 30, 4)]
    dead = read_topic(topics.dead_letter, settings)
    reasons = [dict(d.headers)["reason"].decode() for d in dead]
    assert len(reasons) == 2  # once a pass
    assert all(r.startswith("handler failed 3 times: ") for r in reasons)
    assert all("youtube_video_id" in r for r in reasons)
    assert len(read_topic(topics.alerts, settings)) == 1  # the viral alert, once
    notified = [json.loads(m.value) for m in read_topic(topics.notifications, settings)]
    assert sorted(n["type"] for n in notified) == ["quality_check_requested", "video_uploaded"]
    assert {n["video_id"] for n in notified} == {str(first)}  # none for the refused upload


def test_a_side_message_the_broker_does_not_take_rolls_the_poll_back(
    settings, topics, produce, loader, redis_prefix
):
    """An upload's notifications go to a topic the broker does not have: their deliveries
    time out, the poll raises and its database effects roll back, so it replays and no
    notification is lost (kafka-python's flush returned on a failed send)."""
    channel, video = channel_id(0, SEED + 2), uuid.uuid4()
    generated = {"title": "a", "duration_seconds": 600, "generation_cost_usd": 0.5}
    events = [
        new_event("video_generated", channel, {**generated, "niche": "tech"}, video_id=video),
        new_event(
            "video_uploaded",
            channel,
            {"youtube_video_id": youtube_video_id(0, 0, SEED + 2)},
            video_id=video,
        ),
    ]
    source = topics.sources[0]
    produce(source, [(channel, encode(e)) for e in events])
    records = read_topic(source, settings)
    missing = Topics(
        sources=topics.sources,
        notifications=f"{topics.notifications}-missing",
        alerts=topics.alerts,
        dead_letter=topics.dead_letter,
    )
    processor = EventProcessor(
        group_id="g-undelivered", topics=missing, redis_prefix=redis_prefix, settings=settings
    )
    processor.side_messages = SideMessages(settings, **{"message.timeout.ms": 2_000})
    try:
        with pytest.raises(SideMessageError, match="2 side message"):
            processor.process_poll(records)
    finally:
        processor.close()
    assert loader(
        "select count(*) from ytempire.processed_events where event_id = any(%s)",
        ([e.event_id for e in events],),
    ) == [(0,)]
    assert loader("select count(*) from ytempire.videos where video_id = %s", (video,)) == [(0,)]


def _waiting_on_a_lock(admin, pid: int) -> bool:
    """Whether backend ``pid`` waits for a lock (observed in pg_locks)."""
    return admin.execute(
        "select exists (select from pg_locks where pid = %s and not granted)", (pid,)
    ).fetchone()[0]


def test_a_poll_a_concurrent_transaction_deadlocks_is_applied_again_and_once(
    settings, topics, produce, loader, redis_prefix, caplog
):
    """Two processors' transactions can cross (a rebalance's overlap): PostgreSQL aborts one
    with a deadlock (40P01). The aborted poll is not lost and does not stop the processor:
    its transaction is tried again and its events applied exactly once.

    The deadlock is built, not waited for: ``other`` holds video B and waits for the poll's
    own ``processed_events`` row, then the poll, which locks its videos in ``video_id``
    order, takes A and waits for B. ``other`` checks for deadlocks after an hour, so the
    poll's check (after the server's ``deadlock_timeout``) finds the cycle and is the one
    aborted."""
    channel = channel_id(0, SEED + 3)
    first, second = sorted((uuid.uuid4(), uuid.uuid4()))  # locked in this order
    generated = {"title": "t", "duration_seconds": 60, "generation_cost_usd": 0.1}
    at = datetime(2026, 1, 2, tzinfo=UTC)
    counters = {"likes": 1, "comments": 1, "shares": 0, "watch_time_minutes": 1.0}
    metrics = [
        new_event(
            "metrics_update",
            channel,
            {
                "youtube_video_id": youtube_video_id(0, n, SEED + 3),
                "views": 100 * n,
                **counters,
                "revenue_usd": 0,
            },
            video_id=video,
            occurred_at=at,
        )
        for n, video in ((1, first), (2, second))
    ]
    source = topics.sources[0]
    produce(
        source,
        [
            (
                channel,
                encode(
                    new_event(
                        "video_generated", channel, {**generated, "niche": "x"}, video_id=video
                    )
                ),
            )
            for video in (first, second)
        ]
        + [(channel, encode(e)) for e in metrics],
    )
    records = read_topic(source, settings)
    processor = EventProcessor(
        group_id="g-deadlock", topics=topics, redis_prefix=redis_prefix, settings=settings
    )
    holder = pg_connect("admin", settings=settings)  # holds video A until the poll waits
    other = pg_connect("admin", settings=settings)  # the crossing transaction
    caplog.set_level(logging.WARNING, logger="streaming.processor")
    try:
        processor.process_poll(records[:2])  # the two videos
        poll_pid = processor.conn.info.backend_pid
        other.execute("set deadlock_timeout = '1h'")
        other.execute("select from ytempire.videos where video_id = %s for update", (second,))
        holder.execute("select from ytempire.videos where video_id = %s for update", (first,))
        with ThreadPoolExecutor(max_workers=2) as pool:
            poll = pool.submit(processor.process_poll, records[2:])
            wait_for(lambda: _waiting_on_a_lock(holder, poll_pid), "the poll waits for A")
            crossing = pool.submit(
                other.execute,
                "insert into ytempire.processed_events (event_id, event_type, kafka_topic, "
                "kafka_partition, kafka_offset) values (%s, 'metrics_update', 'x', 0, 0)",
                (metrics[0].event_id,),
            )
            other_pid = other.info.backend_pid
            wait_for(lambda: _waiting_on_a_lock(holder, other_pid), "other waits for the poll")
            holder.commit()  # the poll takes A, then waits for B: the cycle
            crossing.result()  # the poll was aborted, so the crossing insert went through
            other.rollback()  # the crossing transaction gives up its row and B
            poll.result()
        counts = Counter(processor.counts)
    finally:
        processor.close()
        holder.close()
        other.close()

    assert any("DeadlockDetected" in r.getMessage() for r in caplog.records)
    assert counts == {"video_generated": 2, "metrics_update": 2}
    assert loader(
        "select video_id, views from ytempire.videos where channel_id = %s order by 1",
        (channel,),
    ) == [(first, 100), (second, 200)]
    assert loader(
        "select total_views from ytempire.channels where channel_id = %s", (channel,)
    ) == [(300,)]
    assert loader(
        "select count(*) from ytempire.processed_events where event_id = any(%s)",
        ([e.event_id for e in metrics],),
    ) == [(2,)]
