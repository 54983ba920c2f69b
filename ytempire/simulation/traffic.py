"""Event traffic of the simulated network: video lifecycles, metrics, channels, users.

Pure and deterministic for a seed: :func:`simulated_events` yields
``(topic_kind, key, value_bytes, event_id)`` tuples in the wire format of
:mod:`ytempire.events` (serialised directly with ``json`` for speed; the
tests check every kind validates against the contract). Videos follow their
lifecycle in order: generated -> uploaded -> published -> quality check ->
metrics updates with growing counters.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from ytempire.simulation.ids import (
    DEFAULT_CHANNELS,
    DEFAULT_SEED,
    channel_id,
    platform_video_id,
    youtube_video_id,
)

NICHES = ("tech", "gaming", "finance", "cooking", "fitness", "travel", "music", "education")
METRICS_PER_VIDEO = 6


def _iso(ts: datetime) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _envelope(
    rng: random.Random, event_type: str, channel: str, video: uuid.UUID | None, at: datetime
) -> dict[str, object]:
    return {
        "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "event_type": event_type,
        "schema_version": 1,
        "occurred_at": _iso(at),
        "channel_id": channel,
        "video_id": None if video is None else str(video),
    }


def niche_of(channel_index: int) -> str:
    return NICHES[channel_index % len(NICHES)]


def video_lifecycle(
    rng: random.Random, channel_index: int, upload_index: int, seed: int, start: datetime
) -> Iterator[dict[str, object]]:
    """The events of one video, in the order they happen."""
    channel = channel_id(channel_index, seed)
    video = platform_video_id(channel_index, upload_index, seed)
    yt = youtube_video_id(channel_index, upload_index, seed)
    at = start

    def event(event_type: str, payload: dict[str, object]) -> dict[str, object]:
        nonlocal at
        at += timedelta(seconds=rng.randint(1, 600))
        return {**_envelope(rng, event_type, channel, video, at), "payload": payload}

    yield event(
        "video_generated",
        {
            "title": f"{niche_of(channel_index).title()} video #{upload_index}",
            "duration_seconds": rng.randint(60, 1200),
            "generation_cost_usd": round(rng.uniform(0.2, 2.5), 4),
            "niche": niche_of(channel_index),
        },
    )
    yield event("video_uploaded", {"youtube_video_id": yt})
    yield event("video_published", {"youtube_video_id": yt, "published_at": _iso(at)})
    yield event("quality_check", {"quality_score": round(rng.uniform(60, 100), 2)})
    views = likes = comments = shares = 0
    for _ in range(METRICS_PER_VIDEO):
        views += rng.randint(0, 5000)
        likes += rng.randint(0, views // 20 + 1)
        comments += rng.randint(0, 20)
        shares += rng.randint(0, 10)
        yield event(
            "metrics_update",
            {
                "youtube_video_id": yt,
                "views": views,
                "likes": min(likes, views),
                "comments": comments,
                "shares": shares,
                "watch_time_minutes": round(views * rng.uniform(1.0, 6.0), 2),
                "revenue_usd": round(views * rng.uniform(0.5, 4.0) / 1000, 4),
            },
        )


def simulated_events(
    count: int,
    *,
    seed: int = DEFAULT_SEED,
    channels: int = DEFAULT_CHANNELS,
    first_upload: int = 0,
    start: datetime | None = None,
) -> Iterator[tuple[str, str, bytes, str]]:
    """``count`` events as (kind: video|channel|user, key, value, event_id)."""
    rng = random.Random(f"{seed}:{first_upload}")  # noqa: S311  (simulation, not secrets)
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    produced = 0
    upload = first_upload
    while produced < count:
        for channel_index in range(channels):
            if produced >= count:
                return
            kind, events = _next_batch(rng, channel_index, upload, seed, start)
            for event in events:
                if produced >= count:
                    return
                yield (
                    kind,
                    str(event["channel_id"]),
                    json.dumps(event).encode(),
                    str(event["event_id"]),
                )
                produced += 1
        upload += 1


def _next_batch(
    rng: random.Random, channel_index: int, upload: int, seed: int, start: datetime
) -> tuple[str, list[dict[str, object]]]:
    roll = rng.random()
    channel = channel_id(channel_index, seed)
    at = start + timedelta(hours=upload)
    if roll < 0.05:
        payload = {"title": f"Channel {channel_index}", "niche": niche_of(channel_index)}
        event = _envelope(rng, "channel_updated", channel, None, at)
        return "channel", [{**event, "payload": {**payload, "status": "active"}}]
    if roll < 0.10:
        event = _envelope(rng, "user_action", channel, None, at)
        return "user", [{**event, "payload": {"user_id": f"user-{upload}", "action": "view"}}]
    return "video", list(video_lifecycle(rng, channel_index, upload, seed, at))
