"""A burst of events covering the last minutes, for the real-time paths' demos and tests.

Where :mod:`simulation.traffic` plays the network's days (uploads, daily
metrics), a burst packs ``count`` events into a short span ending about now,
so the sliding windows of ``ytempire stream windows`` have something to
count: per channel, a few videos with growing cumulative metrics, some
quality checks, and a ``channel_updated`` now and then. Channel and video ids
are the simulated network's (:mod:`simulation.ids`). Deterministic for a seed.
Used by ``ytempire stream sample-events``, the Airflow scenario, the streaming
tests and ``bench/streaming_windows.py``.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from simulation import ids
from simulation.traffic import envelope
from ytempire import topics
from ytempire.clients import kafka_producer
from ytempire.events import topic_for
from ytempire.settings import Settings


def generate(
    count: int,
    *,
    start: datetime,
    span: timedelta,
    channels: int = 20,
    videos_per_channel: int = 5,
    seed: int = 7,
    network_seed: int = ids.DEFAULT_SEED,
) -> Iterator[dict[str, Any]]:
    """``count`` events with times spread evenly over ``span`` from ``start`` (pure).

    ``network_seed`` picks the simulated network (its channel and video ids).
    """
    rng = random.Random(seed)  # noqa: S311  (reproducible traffic, not secrets)
    views: dict[tuple[int, int], int] = {}
    step = span / max(count, 1)
    for n in range(count):
        occurred_at = start + step * n
        channel = rng.randrange(channels)
        cid = ids.channel_id(channel, network_seed)
        roll = rng.random()
        if roll < 0.03:
            yield envelope(
                "channel_updated",
                occurred_at,
                cid,
                None,
                {"title": f"Channel {channel}", "niche": "tech", "status": "active"},
                str(uuid.UUID(int=rng.getrandbits(128))),
            )
            continue
        upload = rng.randrange(videos_per_channel)
        vid = str(ids.platform_video_id(channel, upload, network_seed))
        yt = ids.youtube_video_id(channel, upload, network_seed)
        if roll < 0.08:
            event_type = "quality_check"
            payload: dict[str, Any] = {"quality_score": round(rng.uniform(60, 100), 2)}
        else:
            event_type = "metrics_update"
            total = views.get((channel, upload), 0) + rng.randrange(0, 500)
            views[(channel, upload)] = total
            payload = {
                "youtube_video_id": yt,
                "views": total,
                "likes": total // 20,
                "comments": total // 100,
                "shares": total // 200,
                "watch_time_minutes": round(total * 3.5, 2),
                "revenue_usd": float(Decimal(total) * Decimal("0.0025")),
            }
        yield envelope(
            event_type, occurred_at, cid, vid, payload, str(uuid.UUID(int=rng.getrandbits(128)))
        )


def produce(
    events: Iterator[dict[str, Any]],
    *,
    video_topic: str = topics.VIDEO_EVENTS.name,
    channel_topic: str = topics.CHANNEL_EVENTS.name,
    settings: Settings | None = None,
) -> int:
    """Send events keyed by channel_id (the contract's partitioning); return the count.

    Each goes to the topic of its type (:func:`ytempire.events.topic_for`).
    """
    producer = kafka_producer(settings=settings, linger_ms=20, batch_size=256 * 1024)
    sent = 0
    try:
        for event in events:
            producer.send(
                topic_for(event["event_type"], video=video_topic, channel=channel_topic),
                key=event["channel_id"].encode(),
                value=json.dumps(event, separators=(",", ":")).encode(),
            )
            sent += 1
        producer.flush()
    finally:
        producer.close()
    return sent
