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
