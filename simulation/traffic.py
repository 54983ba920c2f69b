"""Event traffic of the simulated network: the platform's side of the YouTube network model.

The platform generates the videos that the simulated YouTube network
(:mod:`simulation.network`) publishes, so both simulators tell one
story: a video's ``video_published`` event carries the YouTube id, publish time,
title and duration that the YouTube simulator serves for it, its channel is
the same channel with the same title and niche, and its ``metrics_update``
counters are the ones ``videos.list`` reports at that instant. The warehouse's
join of platform data (generation cost, quality score) to YouTube data then
happens in the demo as it does in production.

Pure and deterministic for a seed: :func:`network_events` yields, day by day
and in ``occurred_at`` order, ``(topic_kind, key, value_bytes, event_id)``
tuples in the wire format of :mod:`ytempire.events` (serialised directly with
``json`` for speed; the tests check every kind validates against the
contract). Per video, in order: generated -> uploaded -> published -> quality
check -> a metrics update an hour after publishing and one at the end of each
of the following days (at most :data:`METRICS_DAYS`). Each channel announces
itself with ``channel_updated`` on the first day, and viewers' actions arrive as
``user_action`` events: those two kinds are for the warehouse only (the
real-time processor has no handler for them, see ``streaming/processor.py``).

Videos the platform cannot have made (durations outside 30-3600 s, the
platform's generation limits) are left out: they are uploads made by hand on
the channel, and appear only on the YouTube side.
"""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import count as days_from
from itertools import islice
from typing import Any

from simulation import ids
from simulation.network import Channel, Network, Video
from ytempire.events import SCHEMA_VERSION, topic_kind
from ytempire.timestamps import iso_z

METRICS_DAYS = 3  # daily metrics updates after the publish day
PLATFORM_DURATION_S = (30, 3600)  # what the platform generates (ytempire.videos' rule)
USER_ACTION_SHARE = 0.3  # user_action events per published video

SimEvent = tuple[str, str, bytes, str]  # (video|channel|user, key, value, event_id)


def _day_start(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def envelope(
    event_type: str,
    occurred_at: datetime,
    channel_id: str,
    video_id: uuid.UUID | str | None,
    payload: dict[str, Any],
    event_id: str | None = None,
) -> dict[str, Any]:
    """One event in the wire shape of :mod:`ytempire.events` (a JSON-ready dict; pure).

    ``event_id`` defaults to a random UUID; the simulators pass seeded ones.
    """
    return {
        "event_id": event_id or str(uuid.uuid4()),
        "event_type": event_type,
        "schema_version": SCHEMA_VERSION,
        "occurred_at": iso_z(occurred_at),
        "channel_id": channel_id,
        "video_id": None if video_id is None else str(video_id),
        "payload": payload,
    }


def _event(
    rng: random.Random,
    event_type: str,
    channel: str,
    video: uuid.UUID | None,
    at: datetime,
    payload: dict[str, object],
) -> dict[str, object]:
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return envelope(event_type, at, channel, video, payload, event_id)


def is_platform_video(video: Video) -> bool:
    """Could the platform have generated ``video``? (Is its duration within the limits?)"""
    low, high = PLATFORM_DURATION_S
    return low <= video.duration_seconds <= high


def _publishing(network: Network, channel: Channel, video: Video) -> list[dict[str, object]]:
    """Generated, uploaded, published, quality check and the first metrics update of a video."""
    rng = random.Random(f"{network.seed}:lifecycle:{channel.index}:{video.upload_index}")  # noqa: S311
    platform_id = ids.platform_video_id(channel.index, video.upload_index, network.seed)
    published = video.published_at
    generated = published - timedelta(seconds=rng.randint(1_800, 4 * 3_600))
    uploaded = published - timedelta(seconds=rng.randint(60, 1_500))
    checked = published + timedelta(seconds=rng.randint(60, 1_800))

    def event(event_type: str, at: datetime, payload: dict[str, object]) -> dict[str, object]:
        return _event(rng, event_type, channel.channel_id, platform_id, at, payload)

    return [
        event(
            "video_generated",
            generated,
            {
                "title": video.title,
                "duration_seconds": video.duration_seconds,
                "generation_cost_usd": round(rng.uniform(0.2, 2.5), 4),
                "niche": channel.niche,
            },
        ),
        event("video_uploaded", uploaded, {"youtube_video_id": video.video_id}),
        event(
            "video_published",
            published,
            {"youtube_video_id": video.video_id, "published_at": iso_z(published)},
        ),
        event("quality_check", checked, {"quality_score": round(rng.uniform(60, 100), 2)}),
        _metrics(network, channel, video, published + timedelta(hours=1)),
    ]


def _metrics(network: Network, channel: Channel, video: Video, at: datetime) -> dict[str, object]:
    """A ``metrics_update`` with the counters YouTube reports for ``video`` at ``at``."""
    rng = random.Random(f"{network.seed}:metrics:{video.video_id}:{at.isoformat()}")  # noqa: S311
    counters = network.counters(video, at)
    watched_minutes = video.duration_seconds / 60 * rng.uniform(0.3, 0.6)  # average view
    return _event(
        rng,
        "metrics_update",
        channel.channel_id,
        ids.platform_video_id(channel.index, video.upload_index, network.seed),
        at,
        {
            "youtube_video_id": video.video_id,
            "views": counters.views,
            "likes": counters.likes,
            "comments": counters.comments,
            "shares": counters.likes // 20,
            "watch_time_minutes": round(counters.views * watched_minutes, 2),
            "revenue_usd": round(counters.views * rng.uniform(0.5, 4.0) / 1000, 4),
        },
    )


def _uploads_on(network: Network, channel: Channel, day: date) -> range:
    """Upload indexes of ``channel``'s videos published on ``day``."""
    start = _day_start(day)
    return range(
        network.uploads(channel, start), network.uploads(channel, start + timedelta(days=1))
    )


def day_events(network: Network, day: date, first_day: date) -> list[dict[str, object]]:
    """Every platform event that happens because of ``day``'s uploads, sorted by time.

    ``first_day`` is the first day of the stream: its channels announce
    themselves, and no update is made for videos published before it (the
    platform's stream does not know them).
    """
    events: list[dict[str, object]] = []
    for channel in network.channels:
        rng = random.Random(f"{network.seed}:day:{channel.index}:{day.isoformat()}")  # noqa: S311
        if day == first_day:
            events.append(
                _event(
                    rng,
                    "channel_updated",
                    channel.channel_id,
                    None,
                    _day_start(day),
                    {"title": channel.title, "niche": channel.niche, "status": "active"},
                )
            )
        for upload in _uploads_on(network, channel, day):
            video = network.video(channel.index, upload)
            if not is_platform_video(video):
                continue
            events.extend(_publishing(network, channel, video))
            if rng.random() < USER_ACTION_SHARE:
                at = video.published_at + timedelta(seconds=rng.randint(60, 7_200))
                payload: dict[str, object] = {
                    "user_id": f"user-{rng.randrange(100_000)}",
                    "action": "view",
                }
                events.append(_event(rng, "user_action", channel.channel_id, None, at, payload))
        for back in range(1, METRICS_DAYS + 1):
            earlier = day - timedelta(days=back)
            if earlier < first_day:
                break
            for upload in _uploads_on(network, channel, earlier):
                video = network.video(channel.index, upload)
                if is_platform_video(video):
                    end = _day_start(day) + timedelta(seconds=86_399 - rng.randrange(3_600))
                    events.append(_metrics(network, channel, video, end))
    events.sort(key=lambda e: (str(e["occurred_at"]), str(e["event_id"])))
    return events


def network_events(
    network: Network, first_day: date, last_day: date | None = None
) -> Iterator[SimEvent]:
    """The platform's events for the uploads of ``first_day`` .. ``last_day`` (unbounded: None)."""
    for offset in days_from():
        day = first_day + timedelta(days=offset)
        if last_day is not None and day > last_day:
            return
        for event in day_events(network, day, first_day):
            kind = topic_kind(str(event["event_type"]))
            yield kind, str(event["channel_id"]), json.dumps(event).encode(), str(event["event_id"])


def stream_day_events(network: Network, day: date, first_day: date) -> Iterator[SimEvent]:
    """One ``day`` of the platform stream that began on ``first_day`` (``network_events``' shape).

    The same events :func:`network_events` yields for ``day`` when run from
    ``first_day``: sending the days of a stream one at a time equals sending
    them at once (the next simulated day, ``ytempire simulate next-day``).
    """
    for event in day_events(network, day, first_day):
        kind = topic_kind(str(event["event_type"]))
        yield kind, str(event["channel_id"]), json.dumps(event).encode(), str(event["event_id"])


def tracked_since(network: Network, day: date, last_n: int = 10) -> date:
    """The earliest publish day among every channel's last ``last_n`` uploads as of ``day``.

    The YouTube collector tracks each channel's last N uploads; a platform
    stream starting on this day has generated every video it will track.
    """
    end = _day_start(day) + timedelta(days=1)
    earliest = day
    for channel in network.channels:
        uploads = network.uploads(channel, end)
        if uploads:
            oldest = network.video(channel.index, max(0, uploads - last_n))
            earliest = min(earliest, oldest.published_at.date())
    return earliest


def simulated_events(
    count: int,
    *,
    seed: int = ids.DEFAULT_SEED,
    channels: int = ids.DEFAULT_CHANNELS,
    first_day: date | None = None,
) -> Iterator[SimEvent]:
    """The first ``count`` events of the network's platform stream, from ``first_day``.

    The default first day is the first day of the network's history (60 days
    before its epoch). Streams over days that do not overlap share no event.
    """
    network = Network(seed=seed, channels=channels)
    start = first_day or network.epoch - timedelta(days=network.history_days)
    return islice(network_events(network, start), count)
