"""Real-time stats: the latest windows of one channel or of every channel.

Values travel as query parameters, never inside the SQL text, so a channel id
such as ``x' OR '1'='1`` is just a channel that does not exist.
"""

from __future__ import annotations

from typing import Any

from psycopg.rows import dict_row

from ytempire.clients import pg_connect
from ytempire.settings import Settings

COLUMNS = (
    "window_start, window_end, channel_id, event_count, video_count, metrics_update_count, "
    "avg_views, revenue_usd, revenue_gain_usd, last_event_at, batch_id, processed_at"
)

# The newest windows of one channel.
_CHANNEL = f"""
    select {COLUMNS}
    from streaming.channel_window_stats
    where channel_id = %(channel_id)s
    order by window_end desc
    limit %(limit)s
"""

# Each channel's newest window, busiest first.
_ALL_CHANNELS = f"""
    select {COLUMNS}
    from (
        select distinct on (channel_id) *
        from streaming.channel_window_stats
        order by channel_id, window_end desc
    ) as latest
    order by window_end desc, event_count desc, channel_id
    limit %(limit)s
"""


def latest_windows(
    channel_id: str | None = None, limit: int = 10, settings: Settings | None = None
) -> list[dict[str, Any]]:
    """The newest windows of ``channel_id``, or each channel's newest window if None."""
    if limit < 1:
        raise ValueError(f"limit must be >= 1, got {limit}")
    query = _ALL_CHANNELS if channel_id is None else _CHANNEL
    with (
        pg_connect("transformer", settings=settings) as conn,
        conn.cursor(row_factory=dict_row) as cur,
    ):
        cur.execute(query, {"channel_id": channel_id, "limit": limit})
        return cur.fetchall()
