"""The real-time processor against real Kafka, PostgreSQL and Redis: effects and replay."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from simulation.ids import channel_id
from simulation.traffic import simulated_events
from streaming.processor import SKIPPED, WAREHOUSE_ONLY, EventProcessor, Topics
from tests.read_topic import drain, read_topic
from ytempire.clients import redis_client
from ytempire.events import new_event

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
