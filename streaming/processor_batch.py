"""One poll of the event processor, applied set-based: one statement per handler kind.

:func:`apply_poll` gives the effects of a poll's events exactly as the
per-event handlers of :mod:`streaming.processor` give them one by one, in
about a dozen statements whatever the poll's size (the per-event path makes
two to seven round trips an event). Within the caller's transaction:

1. which events ``ytempire.processed_events`` already holds (replayed) and
   which videos ``ytempire.videos`` holds: one statement each;
2. in Python, in poll order: an event repeated within the poll is replayed,
   an event about a video neither stored nor generated earlier in the poll is
   unknown (dead-lettered by the caller, left out of ``processed_events`` so
   a replay judges it again), the rest are new;
3. the new events into ``processed_events`` (one ``insert ... select from
   unnest``); each handler kind's effects in one statement: channels and
   videos of ``video_generated``, then ``video_uploaded``, ``video_published``
   and ``quality_check`` (the last event of the poll per video: what the
   events one by one leave), then ``metrics_update``: its observations, the
   latest counters of each video and the channel totals.

Channel totals move by deltas: each video's change of its latest counters is
added to its channel (``ytempire.videos`` views/likes/comments are written by
this processor only, so a channel's totals stay the sum over its videos
without re-summing them, whose cost grew with the channel). The videos'
counters are read ``for update`` (in ``video_id`` order: two processors lock
in the same order) and the events folded over them in poll order, which also
gives each event the views its video held just before it, the viral alert's
test.

Any statement error propagates: the caller rolls the poll back and applies it
again event by event, so one poisonous event still stops nothing but itself.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import psycopg

from ytempire.operational import add_generated_videos

# Per-event outcome of the planning step.
NEW, REPLAYED, UNKNOWN = "new", "replayed", "unknown"


@dataclass
class Counters:
    """A video's latest cumulative counters and the observation time they come from."""

    views: int
    likes: int
    comments: int
    observed_at: datetime | None


@dataclass
class PollResult:
    """What :func:`apply_poll` decided per event (index into its ``events``).

    ``status[i]`` is NEW, REPLAYED or UNKNOWN; ``viral[i]`` holds the indexes
    of the new ``metrics_update`` events that take their video past the viral
    threshold.
    """

    status: list[str]
    viral: set[int] = field(default_factory=set)


def _last_per_video(events: Sequence[Any], indexes: list[int]) -> list[Any]:
    """The last event of each video among ``indexes`` (poll order): what applying them one by
    one leaves in the columns they overwrite."""
    last: dict[uuid.UUID, Any] = {}
    for i in indexes:
        last[events[i].video_id] = events[i]
    return list(last.values())


def apply_poll(
    conn: psycopg.Connection[Any],
    pipeline: psycopg.Pipeline,
    events: Sequence[Any],
    coordinates: Sequence[tuple[str, int, int]],
    *,
    viral_views: int,
) -> PollResult:
    """Apply the database effects of ``events`` (parsed, with a handler) in the caller's
    transaction; return what each event turned out to be.

    ``conn`` is in ``pipeline`` mode (``conn.pipeline()``): the statements go
    out together and the client waits at most three times a poll, not once a
    statement; all of them succeeded when this returns, so the caller may
    send the poll's side effects. ``coordinates[i]`` is
    event i's Kafka (topic, partition, offset). Raises any ``psycopg.Error``
    of the statements, here or at the commit (``UniqueViolation`` if another
    writer recorded one of the events since the check): the caller rolls
    back and falls back to the events one by one.
    """
    if not events:
        return PollResult([])
    seen_rows = conn.execute(_SEEN, ([e.event_id for e in events],))
    stored_rows = conn.execute(_STORED, (list({e.video_id for e in events}),))
    seen = {row[0] for row in seen_rows.fetchall()}  # the first wait
    stored = {row[0] for row in stored_rows.fetchall()}

    status: list[str] = []
    new: list[int] = []
    recorded: set[uuid.UUID] = set()
    for i, event in enumerate(events):
        if event.event_id in seen or event.event_id in recorded:
            status.append(REPLAYED)
        elif event.event_type != "video_generated" and event.video_id not in stored:
            status.append(UNKNOWN)
        else:
            status.append(NEW)
            new.append(i)
            recorded.add(event.event_id)
            stored.add(event.video_id)  # a generated video exists for what follows
    result = PollResult(status)
    if not new:
        return result

    conn.execute(
        _RECORD,
        (
            [events[i].event_id for i in new],
            [events[i].event_type for i in new],
            [coordinates[i][0] for i in new],
            [coordinates[i][1] for i in new],
            [coordinates[i][2] for i in new],
        ),
    )
    by_kind: dict[str, list[int]] = {}
    for i in new:
        by_kind.setdefault(events[i].event_type, []).append(i)

    if generated := [events[i] for i in by_kind.get("video_generated", [])]:
        conn.execute(
            _CHANNELS, ([e.channel_id for e in generated], [e.payload.niche for e in generated])
        )
        add_generated_videos(conn, generated, skip_existing=True)
    if uploaded := _last_per_video(events, by_kind.get("video_uploaded", [])):
        conn.execute(
            _UPLOADED,
            ([e.video_id for e in uploaded], [e.payload.youtube_video_id for e in uploaded]),
        )
    if published := _last_per_video(events, by_kind.get("video_published", [])):
        conn.execute(
            _PUBLISHED,
            (
                [e.video_id for e in published],
                [e.payload.youtube_video_id for e in published],
                [e.payload.published_at for e in published],
            ),
        )
    if checked := _last_per_video(events, by_kind.get("quality_check", [])):
        conn.execute(
            _QUALITY, ([e.video_id for e in checked], [e.payload.quality_score for e in checked])
        )
    if metrics := by_kind.get("metrics_update"):
        result.viral = _apply_metrics(conn, events, metrics, viral_views)
    pipeline.sync()  # every statement confirmed before any side effect goes out
    return result


def _apply_metrics(
    conn: psycopg.Connection[Any], events: Sequence[Any], indexes: list[int], viral_views: int
) -> set[int]:
    """Observations, latest counters and channel deltas of the ``metrics_update`` events at
    ``indexes``; return the indexes of those that cross ``viral_views``."""
    rows = [events[i] for i in indexes]
    conn.execute(
        _OBSERVATIONS,
        (
            [e.video_id for e in rows],
            [e.occurred_at for e in rows],
            [e.payload.views for e in rows],
            [e.payload.likes for e in rows],
            [e.payload.comments for e in rows],
            [e.payload.watch_time_minutes for e in rows],
        ),
    )
    locked = conn.execute(_LOCK_COUNTERS, (sorted({e.video_id for e in rows}),))
    before: dict[uuid.UUID, tuple[str, Counters]] = {
        video: (channel, Counters(views, likes, comments, observed))
        for video, channel, views, likes, comments, observed in locked.fetchall()  # a wait
    }
    latest = {video: counters for video, (_, counters) in before.items()}
    viral: set[int] = set()
    for i, event in zip(indexes, rows, strict=True):
        held = latest[event.video_id]
        if held.observed_at is None or held.observed_at <= event.occurred_at:
            m = event.payload
            latest[event.video_id] = Counters(m.views, m.likes, m.comments, event.occurred_at)
        if event.payload.views > viral_views and held.views <= viral_views:
            viral.add(i)

    changed = [v for v, counters in latest.items() if counters != before[v][1]]
    if not changed:
        return viral
    conn.execute(
        _COUNTERS,
        (
            changed,
            [latest[v].views for v in changed],
            [latest[v].likes for v in changed],
            [latest[v].comments for v in changed],
            [latest[v].observed_at for v in changed],
        ),
    )
    delta: dict[str, Counter[str]] = {}
    for v in changed:
        channel, old = before[v]
        d = delta.setdefault(channel, Counter())
        d["views"] += latest[v].views - old.views
        d["likes"] += latest[v].likes - old.likes
        d["comments"] += latest[v].comments - old.comments
    channels = sorted(delta)
    conn.execute(
        _CHANNEL_TOTALS,
        (
            channels,
            [delta[c]["views"] for c in channels],
            [delta[c]["likes"] for c in channels],
            [delta[c]["comments"] for c in channels],
        ),
    )
    return viral


_SEEN = "select event_id from ytempire.processed_events where event_id = any(%b::uuid[])"
_STORED = "select video_id from ytempire.videos where video_id = any(%b::uuid[])"
_RECORD = (
    "insert into ytempire.processed_events (event_id, event_type, kafka_topic, "
    "kafka_partition, kafka_offset) select * from unnest(%b::uuid[], %b::text[], %b::text[], "
    "%b::integer[], %b::bigint[])"
)
# In poll order: a channel new to the table takes the niche of its first event.
_CHANNELS = (
    "insert into ytempire.channels (channel_id, niche) select channel_id, niche "
    "from unnest(%b::text[], %b::text[]) with ordinality as c (channel_id, niche, n) "
    "order by n on conflict (channel_id) do nothing"
)
_UPLOADED = (
    "update ytempire.videos v set status = 'uploaded', youtube_video_id = u.youtube_video_id, "
    "updated_at = now() from unnest(%b::uuid[], %b::text[]) as u (video_id, youtube_video_id) "
    "where v.video_id = u.video_id and v.status in ('processing', 'generated', 'uploaded')"
)
_PUBLISHED = (
    "update ytempire.videos v set status = 'published', youtube_video_id = p.youtube_video_id, "
    "published_at = p.published_at, updated_at = now() "
    "from unnest(%b::uuid[], %b::text[], %b::timestamptz[]) "
    "as p (video_id, youtube_video_id, published_at) where v.video_id = p.video_id"
)
_QUALITY = (
    "update ytempire.videos v set quality_score = q.score, updated_at = now() "
    "from unnest(%b::uuid[], %b::float8[]) as q (video_id, score) where v.video_id = q.video_id"
)
# In poll order: of two observations of a video at one instant the first stays, as one by one.
_OBSERVATIONS = (
    "insert into ytempire.video_metrics (video_id, observed_at, views, likes, comments, "
    "watch_time_minutes, source) select video_id, observed_at, views, likes, comments, "
    "watch_time_minutes, 'kafka' from unnest(%b::uuid[], %b::timestamptz[], %b::bigint[], "
    "%b::bigint[], %b::bigint[], %b::float8[]) with ordinality "
    "as m (video_id, observed_at, views, likes, comments, watch_time_minutes, n) "
    "order by n on conflict (video_id, observed_at) do nothing"
)
_LOCK_COUNTERS = (
    "select video_id, channel_id, views, likes, comments, metrics_observed_at "
    "from ytempire.videos where video_id = any(%b::uuid[]) order by video_id for update"
)
_COUNTERS = (
    "update ytempire.videos v set views = c.views, likes = c.likes, comments = c.comments, "
    "metrics_observed_at = c.observed_at, updated_at = now() "
    "from unnest(%b::uuid[], %b::bigint[], %b::bigint[], %b::bigint[], %b::timestamptz[]) "
    "as c (video_id, views, likes, comments, observed_at) where v.video_id = c.video_id"
)
_CHANNEL_TOTALS = (
    "update ytempire.channels c set total_views = c.total_views + d.views, "
    "total_likes = c.total_likes + d.likes, total_comments = c.total_comments + d.comments, "
    "updated_at = now() from unnest(%b::text[], %b::bigint[], %b::bigint[], %b::bigint[]) "
    "as d (channel_id, views, likes, comments) where c.channel_id = d.channel_id"
)
