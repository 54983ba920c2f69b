"""One day's collection: which calls to make, in which order, and what they yield.

The quota-optimal plan, per block of 50 channels:

1. one ``channels.list`` (snippet, statistics, contentDetails) for the block;
2. one ``playlistItems.list`` page (50 items) per channel's uploads playlist,
   more pages only while they hold uploads newer than the channel's cursor;
3. ``videos.list`` with 50 ids per call for the block's refresh set (each
   channel's last N uploads / last D days).

For 250 channels with 10 tracked videos each that is 5 + 250 + 50 = 305
units; ``search.list`` (100 units a call) is never used.

The collector resumes: a channel is skipped when the warehouse already holds
its snapshot, its discovery for the day (dlt state) and every refresh-set
video's snapshot for the day, so re-running a day spends nothing and lands
nothing new. A run cut by ``quotaExceeded`` (or a spent budget, or a call that
keeps failing) stops calling, keeps what it fetched and reports ``partial``.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ingestion.youtube.api import ApiCallFailed, QuotaExhausted, YouTubeApi
from ingestion.youtube.cache import ChannelCache
from ingestion.youtube.transforms import (
    RefreshRule,
    Upload,
    channel_row,
    is_new,
    needs_next_page,
    parse_timestamp,
    playlist_row,
    playlist_uploads,
    video_row,
    video_snapshot_row,
)
from ytempire.errors import ServiceUnavailable

log = logging.getLogger(__name__)

BATCH = 50  # ids per channels.list / videos.list call, and playlist items per page
TABLES = ("channel_snapshots", "video_snapshots", "videos", "playlist_items")


@dataclass
class Known:
    """What the warehouse already holds for the collection day."""

    snapshotted_channels: set[str] = field(default_factory=set)
    snapshotted_videos: set[str] = field(default_factory=set)
    # channel -> [(video_id, published_at)] of its most recent known uploads
    recent_uploads: dict[str, list[tuple[str, datetime]]] = field(default_factory=dict)
    first_seen: Callable[[list[str]], dict[str, date]] = lambda _ids: {}


@dataclass
class Collection:
    """The rows one run fetched, and how the run went."""

    collection_date: date
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    tables: dict[str, list[dict[str, Any]]] = field(
        default_factory=lambda: {name: [] for name in TABLES}
    )
    status: str = "complete"
    error: str | None = None
    units_used: int = 0
    pending_channels: int = 0
    fatal: ServiceUnavailable | None = None  # raised after what was fetched has landed

    @property
    def did_work(self) -> bool:
        return self.pending_channels > 0

    def run_row(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "collection_date": self.collection_date,
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC),
            "status": self.status,
            "quota_units_used": self.units_used,
            "channels_collected": len(self.tables["channel_snapshots"]),
            "videos_collected": len(self.tables["video_snapshots"]),
            "error": self.error,
        }


@dataclass
class Collector:
    api: YouTubeApi
    day: date
    known: Known
    state: dict[str, Any]  # dlt source state: {"channels": {id: {...}}}
    refresh: RefreshRule = field(default_factory=RefreshRule)
    cache: ChannelCache | None = None
    max_first_run_pages: int = 20

    def __post_init__(self) -> None:
        self.channel_state: dict[str, dict[str, Any]] = self.state.setdefault("channels", {})
        self.out = Collection(self.day)

    # --- the plan ------------------------------------------------------------------------

    def run(self, channel_ids: list[str]) -> Collection:
        pending = [c for c in dict.fromkeys(channel_ids) if not self._complete(c)]
        self.out.pending_channels = len(pending)
        log.info(
            "youtube %s: %d of %d channels to collect", self.day, len(pending), len(channel_ids)
        )
        try:
            for start in range(0, len(pending), BATCH):
                self._collect_block(pending[start : start + BATCH])
                log.info(
                    "youtube %s: %d/%d channels done, %d units",
                    self.day,
                    min(start + BATCH, len(pending)),
                    len(pending),
                    self.api.units_used,
                )
        except (QuotaExhausted, ApiCallFailed, ServiceUnavailable) as exc:
            self.out.status, self.out.error = "partial", str(exc)
            if isinstance(exc, ServiceUnavailable):
                self.out.fatal = exc
            log.warning("youtube %s: stopped early, landing what was fetched: %s", self.day, exc)
        self.out.units_used = self.api.units_used
        return self.out

    def _complete(self, channel_id: str) -> bool:
        if channel_id not in self.known.snapshotted_channels:
            return False
        if self.channel_state.get(channel_id, {}).get("discovered_on") != self.day.isoformat():
            return False
        return not self._videos_due(channel_id)

    def _videos_due(self, channel_id: str) -> list[str]:
        chosen = self.refresh.select(self.known.recent_uploads.get(channel_id, []), self.day)
        return [v for v in chosen if v not in self.known.snapshotted_videos]

    def _collect_block(self, block: list[str]) -> None:
        self._snapshot_channels([c for c in block if c not in self.known.snapshotted_channels])
        for channel_id in block:
            if self.channel_state.get(channel_id, {}).get("discovered_on") != self.day.isoformat():
                self._discover(channel_id)
        due = [v for c in block for v in self._videos_due(c)]
        for start in range(0, len(due), BATCH):
            self._refresh_videos(due[start : start + BATCH])

    # --- 1. channels -----------------------------------------------------------------------

    def _snapshot_channels(self, channel_ids: list[str]) -> None:
        if not channel_ids:
            return
        cached = self.cache.get_many(channel_ids) if self.cache else {}
        reusable = {c: e for c, e in cached.items() if e.collection_date == self.day}
        for entry in reusable.values():
            self._land_channel(entry.item, entry.fetched_at)
        to_fetch = [c for c in channel_ids if c not in reusable]
        if not to_fetch:
            return
        body = self.api.list(
            "channels.list",
            part="snippet,statistics,contentDetails",
            id=",".join(to_fetch),
            maxResults=BATCH,
        )
        fetched_at, items = datetime.now(UTC), body.get("items", [])
        for item in items:
            self._land_channel(item, fetched_at)
        if self.cache:
            self.cache.put(items, self.day, fetched_at)
        missing = set(to_fetch) - {i["id"] for i in items}
        if missing:
            log.warning("youtube %s: channels not found: %s", self.day, ", ".join(sorted(missing)))

    def _land_channel(self, item: dict[str, Any], fetched_at: datetime) -> None:
        row = channel_row(item, self.day, fetched_at)
        self.out.tables["channel_snapshots"].append(row)
        self.known.snapshotted_channels.add(row["channel_id"])
        if row["uploads_playlist_id"]:
            self.channel_state.setdefault(row["channel_id"], {})["uploads"] = row[
                "uploads_playlist_id"
            ]

    # --- 2. discovery ----------------------------------------------------------------------

    def _discover(self, channel_id: str) -> None:
        entry = self.channel_state.setdefault(channel_id, {})
        playlist_id = entry.get("uploads")
        if not playlist_id:
            log.warning("youtube %s: no uploads playlist known for %s", self.day, channel_id)
            return
        cursor = parse_timestamp(entry["cursor"]) if entry.get("cursor") else None
        found: list[Upload] = []
        for page in self._playlist_pages(playlist_id, channel_id, cursor):
            found += [u for u in page if is_new(u, cursor)]
        collected_at = datetime.now(UTC)
        self.out.tables["playlist_items"] += [playlist_row(u, collected_at) for u in found]
        recent = self.known.recent_uploads.setdefault(channel_id, [])
        recent += [(u.video_id, u.video_published_at) for u in found]
        if found:
            newest = max(u.video_published_at for u in found)
            entry["cursor"] = newest.isoformat()
        entry["discovered_on"] = self.day.isoformat()  # only once every page was read

    def _playlist_pages(
        self, playlist_id: str, channel_id: str, cursor: datetime | None
    ) -> Iterator[list[Upload]]:
        """Pages of the uploads playlist, newest first.

        With a cursor every page down to it is read (stopping early would leave
        a gap below the advanced cursor); a channel's first run reads at most
        ``max_first_run_pages`` pages.
        """
        token, seen = None, 0
        for page_number in itertools.count(1):
            params: dict[str, Any] = {
                "part": "snippet,contentDetails",
                "playlistId": playlist_id,
                "maxResults": BATCH,
            }
            if token:
                params["pageToken"] = token
            body = self.api.list("playlistItems.list", **params)
            page = playlist_uploads(body.get("items", []), channel_id, playlist_id)
            seen += len(page)
            yield page
            token = body.get("nextPageToken")
            if not token or not needs_next_page(page, seen, cursor, self.refresh, self.day):
                return
            if cursor is None and page_number >= self.max_first_run_pages:
                log.warning(
                    "youtube %s: first run of %s stops after %d pages of uploads",
                    self.day,
                    channel_id,
                    page_number,
                )
                return

    # --- 3. videos -------------------------------------------------------------------------

    def _refresh_videos(self, video_ids: list[str]) -> None:
        body = self.api.list(
            "videos.list",
            part="snippet,statistics,contentDetails",
            id=",".join(video_ids),
            maxResults=BATCH,
        )
        collected_at, items = datetime.now(UTC), body.get("items", [])
        first_seen = self.known.first_seen([i["id"] for i in items])
        for item in items:
            self.out.tables["video_snapshots"].append(
                video_snapshot_row(item, self.day, collected_at)
            )
            self.out.tables["videos"].append(video_row(item, first_seen.get(item["id"], self.day)))
        # gone (deleted/private) videos count as done, so a re-run does not ask again
        self.known.snapshotted_videos.update(video_ids)
