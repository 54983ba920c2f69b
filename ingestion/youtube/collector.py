"""One day's collection: which calls to make, in which order, and what they yield.

The quota-optimal plan, per block of 50 channels:

1. one ``channels.list`` (snippet, statistics, contentDetails) for the block;
2. one ``playlistItems.list`` page (50 items) per channel's uploads playlist,
   more pages only while they hold uploads newer than the channel's cursor;
3. ``videos.list`` with 50 ids per call for the block's refresh set (each
   channel's last N uploads / last D days).

For 250 channels with 10 tracked videos each that is 5 + 250 + 50 = 305
units; ``search.list`` (100 units a call) is never used.

One channel never costs more than its own share, nor stops the others. Each
channel that is not collected in full gets a :class:`ChannelIssue` in the run
record (``collection_runs.channel_issues``):

- ``no_uploads``: ``videoCount`` 0 (no playlist call), or its uploads playlist
  answers 404 ``playlistNotFound`` (YouTube has none until the first upload);
  the channel snapshot lands, the channel counts as done for the day;
- ``not_found``: left out of ``channels.list`` (terminated, deleted, made
  private); its stored uploads playlist and videos are not asked for, and the
  channel is not asked for again until :data:`GONE_RECHECK_DAYS` later, when
  one ``channels.list`` slot checks whether it is back;
- ``gone``: skipped this run, as such a channel is;
- ``failed``: any other error on its calls (403 ``playlistItemsNotAccessible``
  or ``forbidden``, a 5xx that outlasted the retries, a malformed item); what
  it fetched lands, and the next run asks again for what is missing.

Only the day's quota (``quotaExceeded`` or a spent budget), a service of the
project being down, or :data:`MAX_CONSECUTIVE_OUTAGES` calls in a row whose
retries ran out (the API itself is down: stop spending) stop a run; it keeps
what it fetched and reports ``partial``. One failed channel makes the run
``partial`` too, so a re-run is worth it.

The collector resumes: a channel is skipped when the warehouse already holds
its snapshot, its discovery for the day (dlt state) and every refresh-set
video's snapshot for the day (or when it was found gone that day), so
re-running a day spends nothing and lands nothing new.
"""

from __future__ import annotations

import itertools
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

import isodate

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
GONE_RECHECK_DAYS = 7  # a channel left out of channels.list is asked for again after this
MAX_CONSECUTIVE_OUTAGES = 3  # calls in a row whose retries ran out: the API is down
# what a malformed item raises in the transforms (a missing field, an unparseable value)
MALFORMED = (KeyError, TypeError, ValueError, AttributeError, isodate.ISO8601Error)

IssueStatus = Literal["no_uploads", "not_found", "gone", "failed"]


@dataclass(frozen=True)
class ChannelIssue:
    """Why one channel was not collected in full by a run (``reason`` is for people)."""

    status: IssueStatus
    reason: str


class ApiDown(ApiCallFailed):
    """Several calls in a row outlasted their retries: the run stops spending quota."""


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
    issues: dict[str, ChannelIssue] = field(default_factory=dict)
    units_used: int = 0
    pending_channels: int = 0
    fatal: ServiceUnavailable | None = None  # raised after what was fetched has landed

    @property
    def did_work(self) -> bool:
        return self.pending_channels > 0

    @property
    def failed_channels(self) -> list[str]:
        return sorted(c for c, issue in self.issues.items() if issue.status == "failed")

    def note(self, channel_id: str, status: IssueStatus, reason: str) -> None:
        """Record a channel's issue (a failure is never replaced by a milder one)."""
        if self.issues.get(channel_id, ChannelIssue("no_uploads", "")).status != "failed":
            self.issues[channel_id] = ChannelIssue(status, reason)
        (log.warning if status == "failed" else log.info)(
            "youtube %s: channel %s %s: %s", self.collection_date, channel_id, status, reason
        )

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
            "channels_failed": len(self.failed_channels),
            "channel_issues": {c: asdict(i) for c, i in sorted(self.issues.items())} or None,
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
        self._outages = 0

    # --- the plan ------------------------------------------------------------------------

    def run(self, channel_ids: list[str]) -> Collection:
        pending = [c for c in dict.fromkeys(channel_ids) if not self._complete(c)]
        for channel_id in list(pending):
            if since := self._gone_since(channel_id):
                pending.remove(channel_id)
                recheck = since + timedelta(days=GONE_RECHECK_DAYS)
                reason = f"not in channels.list since {since}; asked again from {recheck}"
                self.out.note(channel_id, "gone", reason)
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
        except (QuotaExhausted, ApiDown, ServiceUnavailable) as exc:
            self.out.status, self.out.error = "partial", str(exc)
            if isinstance(exc, ServiceUnavailable):
                self.out.fatal = exc
            log.warning("youtube %s: stopped early, landing what was fetched: %s", self.day, exc)
        if failed := self.out.failed_channels:
            self.out.status = "partial"
            self.out.error = self.out.error or (
                f"{len(failed)} channel(s) failed: "
                + "; ".join(f"{c}: {self.out.issues[c].reason}" for c in failed[:5])
                + ("; ..." if len(failed) > 5 else "")
                + ". Next: see collection_runs.channel_issues; a re-run asks only for them."
            )
        self.out.units_used = self.api.units_used
        return self.out

    def _gone_since(self, channel_id: str) -> date | None:
        """The day a channel was first missing from channels.list, while not due a re-check."""
        gone = self.channel_state.get(channel_id, {}).get("gone_on")
        if gone is None:
            return None
        since = date.fromisoformat(gone)
        return since if since < self.day < since + timedelta(days=GONE_RECHECK_DAYS) else None

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        """One API call; :class:`ApiDown` once several calls in a row ran out of retries."""
        try:
            body = self.api.list(method, **params)
        except ApiCallFailed as exc:
            if exc.retryable:
                self._outages += 1
                if self._outages >= MAX_CONSECUTIVE_OUTAGES:
                    raise ApiDown(
                        f"{self._outages} calls in a row failed after every retry, the last: {exc}",
                        status=exc.status,
                        reason=exc.reason,
                        retryable=True,
                    ) from exc
            raise
        self._outages = 0
        return body

    def _complete(self, channel_id: str) -> bool:
        if self.channel_state.get(channel_id, {}).get("gone_on") == self.day.isoformat():
            return True
        if channel_id not in self.known.snapshotted_channels:
            return False
        if self.channel_state.get(channel_id, {}).get("discovered_on") != self.day.isoformat():
            return False
        return not self._videos_due(channel_id)

    def _videos_due(self, channel_id: str) -> list[str]:
        chosen = self.refresh.select(self.known.recent_uploads.get(channel_id, []), self.day)
        return [v for v in chosen if v not in self.known.snapshotted_videos]

    def _collect_block(self, block: list[str]) -> None:
        present = self._snapshot_channels(
            [c for c in block if c not in self.known.snapshotted_channels]
        )
        present |= {c for c in block if c in self.known.snapshotted_channels}
        for channel_id in [c for c in block if c in present]:
            if self.channel_state.get(channel_id, {}).get("discovered_on") != self.day.isoformat():
                try:
                    self._discover(channel_id)
                except ApiDown:
                    raise
                except ApiCallFailed as exc:
                    self._discovery_failed(channel_id, exc)
        due = [v for c in block if c in present for v in self._videos_due(c)]
        for start in range(0, len(due), BATCH):
            self._refresh_videos(due[start : start + BATCH])

    def _discovery_failed(self, channel_id: str, exc: ApiCallFailed) -> None:
        if exc.status == 404 and exc.reason == "playlistNotFound":
            # YouTube makes the uploads playlist with the first upload: nothing to read
            self.channel_state[channel_id]["discovered_on"] = self.day.isoformat()
            self.out.note(channel_id, "no_uploads", f"uploads playlist not found ({exc})")
        else:
            self.out.note(channel_id, "failed", f"uploads playlist: {exc}")

    # --- 1. channels -----------------------------------------------------------------------

    def _snapshot_channels(self, channel_ids: list[str]) -> set[str]:
        """Snapshot ``channel_ids``; return those YouTube (or the day's cache) has."""
        if not channel_ids:
            return set()
        cached = self.cache.get_many(channel_ids) if self.cache else {}
        reusable = {c: e for c, e in cached.items() if e.collection_date == self.day}
        present = {c for c, e in reusable.items() if self._land_channel(e.item, e.fetched_at)}
        to_fetch = [c for c in channel_ids if c not in reusable]
        if not to_fetch:
            return present
        try:
            body = self._call(
                "channels.list",
                part="snippet,statistics,contentDetails",
                id=",".join(to_fetch),
                maxResults=BATCH,
            )
        except ApiDown:
            raise
        except ApiCallFailed as exc:
            for channel_id in to_fetch:
                self.out.note(channel_id, "failed", f"channels.list: {exc}")
            return present
        fetched_at, items = datetime.now(UTC), body.get("items", [])
        landed = [i for i in items if self._land_channel(i, fetched_at)]
        if self.cache:
            self.cache.put(landed, self.day, fetched_at)
        returned = {i.get("id") for i in items}
        for channel_id in to_fetch:
            if channel_id not in returned:
                self._gone(channel_id)
        return present | {i["id"] for i in landed}

    def _gone(self, channel_id: str) -> None:
        """A channel ``channels.list`` left out: terminated, deleted or private."""
        # first seen gone today, or still gone at a re-check: the wait starts again
        self.channel_state.setdefault(channel_id, {})["gone_on"] = self.day.isoformat()
        self.out.note(
            channel_id,
            "not_found",
            "not in the channels.list answer (terminated, deleted or private); "
            f"not asked for again until {self.day + timedelta(days=GONE_RECHECK_DAYS)}",
        )

    def _land_channel(self, item: dict[str, Any], fetched_at: datetime) -> bool:
        try:
            row = channel_row(item, self.day, fetched_at)
        except MALFORMED as exc:
            self.out.note(str(item.get("id")), "failed", f"malformed channels.list item: {exc!r}")
            return False
        self.out.tables["channel_snapshots"].append(row)
        self.known.snapshotted_channels.add(row["channel_id"])
        entry = self.channel_state.setdefault(row["channel_id"], {})
        entry.pop("gone_on", None)  # back (or never gone)
        if row["uploads_playlist_id"]:
            entry["uploads"] = row["uploads_playlist_id"]
        if row["video_count"] == 0:  # no uploads: no playlist to read
            entry["discovered_on"] = self.day.isoformat()
            self.out.note(row["channel_id"], "no_uploads", "videoCount is 0")
        return True

    # --- 2. discovery ----------------------------------------------------------------------

    def _discover(self, channel_id: str) -> None:
        entry = self.channel_state.setdefault(channel_id, {})
        playlist_id = entry.get("uploads")
        if not playlist_id:
            log.warning("youtube %s: no uploads playlist known for %s", self.day, channel_id)
            return
        cursor = parse_timestamp(entry["cursor"]) if entry.get("cursor") else None
        found: list[Upload] = []
        try:
            for page in self._playlist_pages(playlist_id, channel_id, cursor):
                found += [u for u in page if is_new(u, cursor)]
        except MALFORMED as exc:
            # the uploads read so far land; the cursor stays, so the next run reads them again
            self._land_uploads(channel_id, found)
            self.out.note(channel_id, "failed", f"malformed playlistItems.list item: {exc!r}")
            return
        self._land_uploads(channel_id, found)
        if found:
            newest = max(u.video_published_at for u in found)
            entry["cursor"] = newest.isoformat()
        entry["discovered_on"] = self.day.isoformat()  # only once every page was read

    def _land_uploads(self, channel_id: str, found: list[Upload]) -> None:
        collected_at = datetime.now(UTC)
        self.out.tables["playlist_items"] += [playlist_row(u, collected_at) for u in found]
        recent = self.known.recent_uploads.setdefault(channel_id, [])
        recent += [(u.video_id, u.video_published_at) for u in found]

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
            body = self._call("playlistItems.list", **params)
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
        try:
            body = self._call(
                "videos.list",
                part="snippet,statistics,contentDetails",
                id=",".join(video_ids),
                maxResults=BATCH,
            )
        except ApiDown:
            raise
        except ApiCallFailed as exc:
            for channel_id in sorted({self._channel_of(v) for v in video_ids}):
                self.out.note(channel_id, "failed", f"videos.list: {exc}")
            return
        collected_at, items = datetime.now(UTC), body.get("items", [])
        first_seen = self.known.first_seen([i["id"] for i in items if "id" in i])
        broken: set[str] = set()
        for item in items:
            try:
                snapshot = video_snapshot_row(item, self.day, collected_at)
                video = video_row(item, first_seen.get(item["id"], self.day))
            except MALFORMED as exc:
                broken.add(str(item.get("id")))
                channel_id = self._channel_of(str(item.get("id")))
                self.out.note(channel_id, "failed", f"malformed videos.list item: {exc!r}")
                continue
            self.out.tables["video_snapshots"].append(snapshot)
            self.out.tables["videos"].append(video)
        # gone (deleted/private) videos count as done, so a re-run does not ask again;
        # malformed ones do not
        self.known.snapshotted_videos.update(v for v in video_ids if v not in broken)

    def _channel_of(self, video_id: str) -> str:
        for channel_id, uploads in self.known.recent_uploads.items():
            if any(v == video_id for v, _ in uploads):
                return channel_id
        return f"(channel of video {video_id})"
