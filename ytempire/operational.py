"""Writes to the operational tables (``ytempire.*``) that more than one service makes.

The outbox producer (``platform_services.producer``) and the real-time
processor (``streaming.processor``) both record a generated video; the
statement lives here once so the two cannot drift.
"""

from __future__ import annotations

from typing import Any

import psycopg

from ytempire.events import VideoGeneratedEvent

INSERT_GENERATED_VIDEO = (
    "insert into ytempire.videos (video_id, channel_id, title, status, duration_seconds, "
    "generation_cost_usd, created_at) values (%s, %s, %s, 'generated', %s, %s, %s)"
)
COUNT_CHANNEL_VIDEO = (
    "update ytempire.channels set video_count = video_count + 1, updated_at = now() "
    "where channel_id = %s"
)


def add_generated_video(
    db: psycopg.Connection[Any] | psycopg.Cursor[Any],
    event: VideoGeneratedEvent,
    *,
    skip_existing: bool,
) -> int:
    """Insert the video of a ``video_generated`` event and count it on its channel.

    In the caller's transaction. With ``skip_existing`` a video already in
    ``ytempire.videos`` is left alone (a redelivered event); without, it raises
    psycopg's ``UniqueViolation``. Returns how many channels had their
    ``video_count`` raised: 1, or 0 when the video was skipped or its channel
    is not in ``ytempire.channels``.
    """
    p = event.payload
    statement = INSERT_GENERATED_VIDEO + (
        " on conflict (video_id) do nothing" if skip_existing else ""
    )
    inserted = db.execute(
        statement,
        (
            event.video_id,
            event.channel_id,
            p.title,
            p.duration_seconds,
            p.generation_cost_usd,
            event.occurred_at,
        ),
    ).rowcount
    if not inserted:
        return 0
    return db.execute(COUNT_CHANNEL_VIDEO, (event.channel_id,)).rowcount


INSERT_GENERATED_VIDEOS = (
    "with v as (insert into ytempire.videos (video_id, channel_id, title, status, "
    "duration_seconds, generation_cost_usd, created_at) select video_id, channel_id, title, "
    "'generated', duration_seconds, generation_cost_usd, created_at from unnest(%b::uuid[], "
    "%b::text[], %b::text[], %b::integer[], %b::float8[], %b::timestamptz[]) with ordinality "
    "as g (video_id, channel_id, title, duration_seconds, generation_cost_usd, created_at, n) "
    "order by n{conflict} returning channel_id) "
    "update ytempire.channels c set video_count = c.video_count + v.n, updated_at = now() "
    "from (select channel_id, count(*) as n from v group by channel_id) v "
    "where c.channel_id = v.channel_id"
)


def add_generated_videos(
    db: psycopg.Connection[Any] | psycopg.Cursor[Any],
    events: list[VideoGeneratedEvent],
    *,
    skip_existing: bool,
) -> int:
    """:func:`add_generated_video` for many events in one statement, in the caller's transaction.

    In event order: of two events for one video the first is inserted and
    counted, the second skipped, as one by one with ``skip_existing``;
    without it a video already stored (or twice in ``events``) raises
    psycopg's ``UniqueViolation``. Returns how many channels had their
    ``video_count`` raised (each by its number of inserted videos); a
    channel not in ``ytempire.channels`` fails the videos' foreign key.
    """
    if not events:
        return 0
    conflict = " on conflict (video_id) do nothing" if skip_existing else ""
    return db.execute(
        INSERT_GENERATED_VIDEOS.format(conflict=conflict),
        (
            [e.video_id for e in events],
            [e.channel_id for e in events],
            [e.payload.title for e in events],
            [e.payload.duration_seconds for e in events],
            [e.payload.generation_cost_usd for e in events],
            [e.occurred_at for e in events],
        ),
    ).rowcount
