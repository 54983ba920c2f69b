"""dlt source for the YouTube Data API v3: channel and video snapshots into ``raw_youtube``.

Resources and write dispositions (all ``merge`` on their primary key, so a
re-run of a day replaces rows with themselves and never duplicates):

- ``channel_snapshots``  (channel_id, collection_date)
- ``video_snapshots``    (video_id, collection_date)
- ``videos``             video_id; ``first_seen_date`` kept from the first sighting
- ``playlist_items``     (playlist_id, video_id); only uploads newer than the
  channel's discovery cursor, which lives in the source state and is committed
  with the load
- ``collection_runs``    run_id; one row per run that had work to do

The collection itself (API calls, quota, retries) runs once, when the first
resource is extracted, inside dlt's extract step so the cursors in
``dlt.current.source_state()`` are saved atomically with the rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dlt

from ingestion.youtube.collector import Collection, Collector, Known

ROWS_PER_PAGE = 1000

_TIMESTAMP = {"data_type": "timestamp", "timezone": True}
COLUMNS: dict[str, dict[str, Any]] = {
    "channel_snapshots": {
        "collection_date": {"data_type": "date"},
        "collected_at": _TIMESTAMP,
        "published_at": _TIMESTAMP,
        "subscriber_count": {"data_type": "bigint"},
        "view_count": {"data_type": "bigint"},
        "video_count": {"data_type": "bigint"},
        "hidden_subscriber_count": {"data_type": "bool"},
        "title": {"data_type": "text"},
        "country": {"data_type": "text"},
        "uploads_playlist_id": {"data_type": "text"},
    },
    "video_snapshots": {
        "collection_date": {"data_type": "date"},
        "collected_at": _TIMESTAMP,
        "channel_id": {"data_type": "text"},
        "view_count": {"data_type": "bigint"},
        "like_count": {"data_type": "bigint"},
        "comment_count": {"data_type": "bigint"},
    },
    "videos": {
        "channel_id": {"data_type": "text"},
        "title": {"data_type": "text"},
        "description": {"data_type": "text"},
        "published_at": _TIMESTAMP,
        "duration_seconds": {"data_type": "bigint", "precision": 32},
        "duration_iso": {"data_type": "text"},
        "live_broadcast_content": {"data_type": "text"},
        "category_id": {"data_type": "text"},
        "tags": {"data_type": "json"},
        "definition": {"data_type": "text"},
        "first_seen_date": {"data_type": "date"},
    },
    "playlist_items": {
        "channel_id": {"data_type": "text"},
        "position": {"data_type": "bigint"},
        "video_published_at": _TIMESTAMP,
        "collected_at": _TIMESTAMP,
    },
    "collection_runs": {
        "collection_date": {"data_type": "date"},
        "started_at": _TIMESTAMP,
        "finished_at": _TIMESTAMP,
        "status": {"data_type": "text"},
        "quota_units_used": {"data_type": "bigint"},
        "channels_collected": {"data_type": "bigint"},
        "videos_collected": {"data_type": "bigint"},
        "error": {"data_type": "text", "nullable": True},
    },
}
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "channel_snapshots": ("channel_id", "collection_date"),
    "video_snapshots": ("video_id", "collection_date"),
    "videos": ("video_id",),
    "playlist_items": ("playlist_id", "video_id"),
    "collection_runs": ("run_id",),
}


class _OnceCollection:
    """Runs the collector the first time any resource asks for rows."""

    def __init__(self, make_collector: Callable[[dict[str, Any]], Collector], channels: list[str]):
        self._make, self._channels = make_collector, channels
        self.result: Collection | None = None

    def get(self) -> Collection:
        if self.result is None:
            state = dlt.current.source_state()
            self.result = self._make(state).run(self._channels)
        return self.result


def _pages(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), ROWS_PER_PAGE):
        yield rows[start : start + ROWS_PER_PAGE]


@dlt.source(name="youtube", max_table_nesting=0)
def youtube_source(
    channel_ids: list[str],
    make_collector: Callable[[dict[str, Any]], Collector],
) -> Any:
    """The day's collection as five resources (see the module docstring)."""
    once = _OnceCollection(make_collector, channel_ids)

    def table(name: str) -> Any:
        def rows() -> Iterator[list[dict[str, Any]]]:
            collection = once.get()
            if name == "collection_runs":
                if collection.did_work:
                    yield [collection.run_row()]
                return
            yield from _pages(collection.tables[name])

        return dlt.resource(
            rows,
            name=name,
            primary_key=PRIMARY_KEYS[name],
            write_disposition="merge",
            columns=COLUMNS[name],
        )

    return [table(name) for name in PRIMARY_KEYS]


__all__ = ["Collection", "Collector", "Known", "youtube_source"]
