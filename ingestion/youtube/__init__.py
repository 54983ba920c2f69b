"""dlt source for the YouTube Data API v3: channel and video snapshots into ``raw_youtube``.

Resources and write dispositions (all ``merge`` on their primary key, so a
re-run of a day replaces rows with themselves and never duplicates):

- ``channel_snapshots``  (channel_id, collection_date)
- ``video_snapshots``    (video_id, collection_date)
- ``videos``             video_id; ``first_seen_date`` kept from the first sighting
- ``playlist_items``     (playlist_id, video_id); only uploads newer than the
  channel's discovery cursor, which lives in the source state and is committed
  with the load
- ``collection_runs``    run_id; one row per run that had work to do, with each
  channel not collected in full and why (``channel_issues``, see
  :mod:`.collector`) and how many items it set aside (``items_rejected``)
- ``rejected_items``     (collection_date, method, item_key, field): the
  collector's dead letters, each API item that lacked a field its row needs
  or held a value the API never sends there, as the API sent it, with the
  field and the reason (``item_key`` is the item's ``id``, else ``sha1:`` of it)

Every column is declared (:data:`COLUMNS`): a table has exactly those columns.

The collection itself (API calls, quota, retries) runs once, when the first
resource is extracted, inside dlt's extract step so the cursors in
``dlt.current.source_state()`` are saved atomically with the rows.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from typing import Any, cast

import dlt
from dlt.common.schema.typing import TColumnSchema

from ingestion.youtube.collector import Collection, Collector, Known

ROWS_PER_PAGE = 1000


def _columns(**types: str) -> dict[str, dict[str, Any]]:
    """Column hints, each a dict of its own: dlt writes each column's ``name`` into its
    hint, so one dict shared by several columns (a shared ``_TIMESTAMP`` did) renamed
    them all to the last one's name, ``finished_at``, in every table."""
    hints: dict[str, dict[str, Any]] = {}
    for name, data_type in types.items():
        hint: dict[str, Any] = {"name": name, "data_type": data_type, "nullable": True}
        if data_type == "timestamp":
            hint["timezone"] = True
        elif data_type == "integer":  # PostgreSQL integer
            hint.update(data_type="bigint", precision=32)
        hints[name] = hint
    return hints


# Every column of every table, declared: absent statistics stay NULL, never 0
# (hidden likes/subscribers, disabled comments), and a column that is NULL in a
# whole load still gets its type.
COLUMNS: dict[str, dict[str, dict[str, Any]]] = {
    "channel_snapshots": _columns(
        channel_id="text",
        collection_date="date",
        collected_at="timestamp",
        title="text",
        published_at="timestamp",
        country="text",
        uploads_playlist_id="text",
        subscriber_count="bigint",
        view_count="bigint",
        video_count="bigint",
        hidden_subscriber_count="bool",
    ),
    "video_snapshots": _columns(
        video_id="text",
        collection_date="date",
        channel_id="text",
        collected_at="timestamp",
        view_count="bigint",
        like_count="bigint",
        comment_count="bigint",
        live_broadcast_content="text",
    ),
    "videos": _columns(
        video_id="text",
        channel_id="text",
        title="text",
        description="text",
        published_at="timestamp",
        duration_seconds="integer",
        duration_iso="text",
        live_broadcast_content="text",
        category_id="text",
        tags="json",
        definition="text",
        first_seen_date="date",
    ),
    "playlist_items": _columns(
        playlist_id="text",
        video_id="text",
        channel_id="text",
        position="bigint",
        video_published_at="timestamp",
        collected_at="timestamp",
    ),
    "collection_runs": _columns(
        run_id="text",
        collection_date="date",
        started_at="timestamp",
        finished_at="timestamp",
        status="text",
        quota_units_used="bigint",
        channels_collected="bigint",
        videos_collected="bigint",
        channels_failed="bigint",
        channel_issues="json",
        error="text",
        items_rejected="bigint",
    ),
    "rejected_items": _columns(
        collection_date="date",
        method="text",
        item_key="text",
        channel_id="text",
        field="text",
        reason="text",
        item="json",
        run_id="text",
        rejected_at="timestamp",
    ),
}
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "channel_snapshots": ("channel_id", "collection_date"),
    "video_snapshots": ("video_id", "collection_date"),
    "videos": ("video_id",),
    "playlist_items": ("playlist_id", "video_id"),
    "collection_runs": ("run_id",),
    "rejected_items": ("collection_date", "method", "item_key", "field"),
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
    """The day's collection as six resources (see the module docstring)."""
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
            # dlt writes into the hints it is given: a copy each time
            columns=cast(dict[str, TColumnSchema], copy.deepcopy(COLUMNS[name])),
        )

    return [table(name) for name in PRIMARY_KEYS]


__all__ = ["Collection", "Collector", "Known", "youtube_source"]
