"""A burst of well-formed envelope events for demos and benchmarks.

Until the network simulator's event stream is in place (`ytempire simulate
events`), this produces plausible traffic on the event topics: per channel, a
few videos with growing cumulative metrics, some lifecycle and quality events,
and a channel_updated now and then. Deterministic for a given seed.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from simulation import ids
from ytempire import topics
from ytempire.clients import kafka_producer
from ytempire.settings import Settings


def iso_z(moment: datetime) -> str:
    """ISO-8601 UTC with a 'Z', microseconds kept, as the contract requires."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def envelope(
    event_type: str,
    occurred_at: datetime,
    channel_id: str,
    video_id: str | None,
    payload: dict[str, Any],
    event_id: str | None = None,
) -> dict[str, Any]:
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": iso_z(occurred_at),
        "channel_id": channel_id,
        "video_id": video_id,
        "payload": payload,
    }


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
    """``count`` events with times spread evenly over ``span`` from ``start``.

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


def topic_for(event: dict[str, Any], video_topic: str, channel_topic: str) -> str:
    return channel_topic if event["event_type"].startswith("channel_") else video_topic


def produce(
    events: Iterator[dict[str, Any]],
    *,
    video_topic: str = topics.VIDEO_EVENTS.name,
    channel_topic: str = topics.CHANNEL_EVENTS.name,
    settings: Settings | None = None,
) -> int:
    """Send events keyed by channel_id (the contract's partitioning); return the count."""
    producer = kafka_producer(settings=settings, linger_ms=20, batch_size=256 * 1024)
    sent = 0
    try:
        for event in events:
            producer.send(
                topic_for(event, video_topic, channel_topic),
                key=event["channel_id"].encode(),
                value=json.dumps(event, separators=(",", ":")).encode(),
            )
            sent += 1
        producer.flush()
    finally:
        producer.close()
    return sent
