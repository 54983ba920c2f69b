"""One day's collection: which calls to make, in which order, and what they yield.

The quota-optimal plan, per block of 50 channels:

1. one ``channels.list`` (snippet, statistics, contentDetails) for the block;
2. one ``playlistItems.list`` page (50 items) per channel's uploads playlist,
   more pages only while they hold uploads newer than the channel's cursor;
3. ``videos.list`` with 50 ids per call for the block's refresh set (each
   channel's last N uploads / last D days).

For 250 channels with 10 tracked videos each that is 5 + 250 + 50 = 305
units; ``search.list`` (100 units a call) is never used.

One channel never costs more than its own share, nor stops the others. A
channel's share of the day's budget is the day's quota divided by the
channels the day's first run collects (:func:`channel_share`: 10,000 / 250 =
40 units, 40 pages of 50 uploads, against the ~1.2 units the plan spends on a
channel; a later run of the day keeps that share);
the calls made for that channel alone (its uploads-playlist pages, every
attempt counted) are reserved against it in Redis with the day's budget, so
runs and collectors of one day share it too. The batched ``channels.list`` and
``videos.list`` calls serve 50 channels at once and are bounded by the plan
(``ceil(n / 50)`` each), so they are charged to the run, not to a channel. A
listing never asks for a page token it has asked for already
(:meth:`~ingestion.youtube.api.YouTubeApi.pages`).

An item that lacks a field its row needs
(:data:`~ingestion.youtube.transforms.REQUIRED_FIELDS`), or holds a value the
API never sends there, is set aside with the field and the reason in
``raw_youtube.rejected_items`` (the collector's dead letters, with the item
as the API sent it) and counted in ``collection_runs.items_rejected``; the
other items of its page land. Each channel that is not collected in full gets
a :class:`ChannelIssue` in the run record (``collection_runs.channel_issues``):

- ``no_uploads``: ``videoCount`` 0 (no playlist call), or its uploads playlist
  answers 404 ``playlistNotFound`` (YouTube has none until the first upload);
  the channel snapshot lands, the channel counts as done for the day;
- ``not_found``: left out of ``channels.list`` (terminated, deleted, made
  private); its stored uploads playlist and videos are not asked for, and the
  channel is not asked for again until :data:`GONE_RECHECK_DAYS` later, when
  one ``channels.list`` slot checks whether it is back;
- ``gone``: skipped this run, as such a channel is;
- ``items_rejected``: some items of its uploads playlist were set aside; the
  rest landed and the discovery cursor moved past them, so they are not asked
  for again (they wait in ``rejected_items``);
- ``failed``: any other error on its calls (403 ``playlistItemsNotAccessible``
  or ``forbidden``, a 5xx that outlasted the retries, a malformed
  ``channels.list`` or ``videos.list`` item, a listing that repeated a page
  token or outgrew the channel's share before reaching its cursor); what it
  fetched lands, its cursor stays, and the next run asks again for what is
  missing.

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

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal

from ingestion.youtube.api import ApiCallFailed, QuotaExhausted, RepeatedPageToken, YouTubeApi
from ingestion.youtube.cache import ChannelCache
from ingestion.youtube.transforms import (
    MalformedItem,
    RefreshRule,
    Upload,
    channel_row,
    is_new,
    needs_next_page,
    parse_timestamp,
    playlist_row,
    playlist_upload,
    video_row,
    video_snapshot_row,
)
from ytempire.errors import ServiceUnavailable
from ytempire.quota import ChannelShare, ChannelShareExhausted

log = logging.getLogger(__name__)

BATCH = 50  # ids per channels.list / videos.list call, and playlist items per page
TABLES = ("channel_snapshots", "video_snapshots", "videos", "playlist_items", "rejected_items")
GONE_RECHECK_DAYS = 7  # a channel left out of channels.list is asked for again after this
MAX_CONSECUTIVE_OUTAGES = 3  # calls in a row whose retries ran out: the API is down

IssueStatus = Literal["no_uploads", "not_found", "gone", "items_rejected", "failed"]
# how serious each status is: a note never replaces a more serious one
_SEVERITY = {"no_uploads": 0, "not_found": 0, "gone": 0, "items_rejected": 1, "failed": 2}


def channel_share(daily_quota: int, channels: int) -> int:
    """Units the calls made for one channel may spend in a quota day: an equal part
    of the day's quota, ``daily_quota // channels``, and at least 1. The first run of
    a quota day fixes it for the day (:meth:`~ytempire.quota.QuotaBudget.day_share`)."""
    return max(1, daily_quota // max(1, channels))


def rejected_row(
    run_id: str, day: date, method: str, channel_id: str | None, item: Any, exc: MalformedItem
) -> dict[str, Any]:
    """One ``raw_youtube.rejected_items`` row: the item as the API sent it and why."""
    key = _item_id(item)
    if key is None:
        blob = json.dumps(item, sort_keys=True, default=str).encode()
        key = "sha1:" + hashlib.sha1(blob).hexdigest()  # noqa: S324 (a key, not a secret)
    return {
        "collection_date": day,
        "method": method,
        "item_key": key,
        "channel_id": channel_id,
        "field": exc.field,
        "reason": str(exc),
        "item": item if isinstance(item, dict) else {"value": item},
        "run_id": run_id,
        "rejected_at": datetime.now(UTC),
    }


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
        """Record a channel's issue (never replacing a more serious one)."""
        known = self.issues.get(channel_id)
        if known is None or _SEVERITY[status] >= _SEVERITY[known.status]:
            self.issues[channel_id] = ChannelIssue(status, reason)
        (log.warning if _SEVERITY[status] > 0 else log.info)(
            "youtube %s: channel %s %s: %s", self.collection_date, channel_id, status, reason
        )

    def reject(self, method: str, channel_id: str | None, item: Any, exc: MalformedItem) -> None:
        """Set one malformed item aside (``rejected_items``) with the field it broke."""
        row = rejected_row(self.run_id, self.collection_date, method, channel_id, item, exc)
        self.tables["rejected_items"].append(row)
        log.warning(
            "youtube %s: %s item %s of channel %s set aside: %s",
            self.collection_date,
            method,
            row["item_key"],
            channel_id,
            exc,
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
            "items_rejected": len(self.tables["rejected_items"]),
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
        self.share_units = channel_share(self.api.budget.daily_limit, 1)

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
        try:
            if pending:
                self._fix_share(len(set(channel_ids)))
                log.info(
                    "youtube %s: %d of %d channels to collect, at most %d units of its own each",
                    self.day,
                    len(pending),
                    len(channel_ids),
                    self.share_units,
                )
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

    def _fix_share(self, channels: int) -> None:
        budget = self.api.budget
        proposed = channel_share(budget.daily_limit, channels)
        self.share_units = budget.day_share(self.api.quota_day, proposed)

    def _gone_since(self, channel_id: str) -> date | None:
        """The day a channel was first missing from channels.list, while not due a re-check."""
        gone = self.channel_state.get(channel_id, {}).get("gone_on")
        if gone is None:
            return None
        since = date.fromisoformat(gone)
        return since if since < self.day < since + timedelta(days=GONE_RECHECK_DAYS) else None

    def _call(self, method: str, **params: Any) -> dict[str, Any]:
        """One API call; :class:`ApiDown` once several calls in a row ran out of retries."""
        return self._track(lambda: self.api.list(method, **params))

    def _track(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        try:
            body = call()
        except ApiCallFailed as exc:
            if exc.retryable:
                self._outages += 1
                if self._outages >= MAX_CONSECUTIVE_OUTAGES:
                    raise ApiDown(
                        f"{self._outages} calls in a row failed after every retry, the last: {exc}",
                        status=exc.status,
                        reason=exc.reason,
                        domain=exc.domain,
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
        if exc.status == 404 and exc.says("playlistNotFound"):
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
        fetched_at, items = datetime.now(UTC), _items(body)
        landed = [i for i in items if self._land_channel(i, fetched_at)]
        if self.cache:
            self.cache.put(landed, self.day, fetched_at)
        returned = {_item_id(i) for i in items}
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
        except MalformedItem as exc:
            channel_id = _item_id(item)
            self.out.reject("channels.list", channel_id, item, exc)
            if channel_id is not None:
                self.out.note(channel_id, "failed", f"malformed channels.list item: {exc}")
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
        """Read the channel's uploads playlist down to its cursor; land the new uploads.

        The cursor (the newest publish time known) moves only when the listing
        was read as far as it needed; items set aside do not hold it back.
        """
        entry = self.channel_state.setdefault(channel_id, {})
        playlist_id = entry.get("uploads")
        if not playlist_id:
            self.out.note(
                channel_id,
                "failed",
                "no uploads playlist: channels.list gave no "
                "contentDetails.relatedPlaylists.uploads for it",
            )
            return
        cursor = parse_timestamp(entry["cursor"]) if entry.get("cursor") else None
        found: dict[str, Upload] = {}
        rejected = 0
        try:
            for page, set_aside in self._playlist_pages(playlist_id, channel_id, cursor):
                rejected += set_aside
                for upload in page:
                    if is_new(upload, cursor):
                        found.setdefault(upload.video_id, upload)
        except (RepeatedPageToken, ChannelShareExhausted) as exc:
            # what was read lands; the cursor stays, so the next run reads on from it
            self._land_uploads(channel_id, list(found.values()))
            self.out.note(channel_id, "failed", f"uploads playlist incomplete: {exc}")
            return
        self._land_uploads(channel_id, list(found.values()))
        if found:
            newest = max(u.video_published_at for u in found.values())
            entry["cursor"] = newest.isoformat()
        entry["discovered_on"] = self.day.isoformat()  # only once the listing was read
        if rejected:
            self.out.note(
                channel_id,
                "items_rejected",
                f"{rejected} playlistItems.list item(s) set aside (see "
                "raw_youtube.rejected_items); the rest landed",
            )

    def _land_uploads(self, channel_id: str, found: list[Upload]) -> None:
        collected_at = datetime.now(UTC)
        self.out.tables["playlist_items"] += [playlist_row(u, collected_at) for u in found]
        recent = self.known.recent_uploads.setdefault(channel_id, [])
        recent += [(u.video_id, u.video_published_at) for u in found]

    def _playlist_pages(
        self, playlist_id: str, channel_id: str, cursor: datetime | None
    ) -> Iterator[tuple[list[Upload], int]]:
        """Pages of the uploads playlist, newest first: each page's good uploads and how
        many of its items were set aside.

        With a cursor every page down to it is read (stopping early would leave
        a gap below the advanced cursor); a channel's first run reads at most
        ``max_first_run_pages`` pages. Every page is charged to the channel's
        share; a repeated page token ends the listing
        (:class:`~ingestion.youtube.api.RepeatedPageToken`).
        """
        seen = 0
        listing = self.api.pages(
            "playlistItems.list",
            share=ChannelShare(channel_id, self.share_units),
            part="snippet,contentDetails",
            playlistId=playlist_id,
            maxResults=BATCH,
        )
        for page_number, body in enumerate(self._guarded(listing), start=1):
            page, set_aside = self._uploads_of(body, channel_id, playlist_id)
            seen += len(page)
            yield page, set_aside
            if not body.get("nextPageToken") or not needs_next_page(
                page, seen, cursor, self.refresh, self.day, set_aside
            ):
                return
            if cursor is None and page_number >= self.max_first_run_pages:
                log.warning(
                    "youtube %s: first run of %s stops after %d pages of uploads",
                    self.day,
                    channel_id,
                    page_number,
                )
                return

    def _guarded(self, listing: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """``listing``'s bodies, each call counted towards :data:`MAX_CONSECUTIVE_OUTAGES`."""
        while True:
            try:
                body = self._track(lambda: next(listing))
            except StopIteration:
                return
            yield body

    def _uploads_of(
        self, body: dict[str, Any], channel_id: str, playlist_id: str
    ) -> tuple[list[Upload], int]:
        uploads, set_aside = [], 0
        for item in _items(body):
            try:
                uploads.append(playlist_upload(item, channel_id, playlist_id))
            except MalformedItem as exc:
                self.out.reject("playlistItems.list", channel_id, item, exc)
                set_aside += 1
        return uploads, set_aside

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
        collected_at, items = datetime.now(UTC), _items(body)
        first_seen = self.known.first_seen([i for i in map(_item_id, items) if i is not None])
        asked = set(video_ids)
        answered: set[str] = set()
        for item in items:
            item_id = _item_id(item)
            try:
                snapshot = video_snapshot_row(item, self.day, collected_at)
                video = video_row(item, first_seen.get(snapshot["video_id"], self.day))
            except MalformedItem as exc:
                owner = self._channel_of(item_id) if item_id is not None else None
                self.out.reject("videos.list", owner, item, exc)
                if owner is not None:
                    self.out.note(owner, "failed", f"malformed videos.list item: {exc}")
                continue
            answered.add(snapshot["video_id"])
            self.out.tables["video_snapshots"].append(snapshot)
            self.out.tables["videos"].append(video)
        # gone (deleted/private: left out of the answer) videos count as done, so a
        # re-run does not ask again; a malformed one is asked for again, and so is every
        # video an item without an id might have been
        named = {i for i in map(_item_id, items) if i is not None}
        if len(named) < len(items):
            for video_id in sorted(asked - named):
                self.out.note(
                    self._channel_of(video_id),
                    "failed",
                    f"a videos.list item without an id was set aside; {video_id} is asked "
                    "for again",
                )
            left_out: set[str] = set()
        else:
            left_out = asked - named
        self.known.snapshotted_videos.update(answered | left_out)

    def _channel_of(self, video_id: str) -> str:
        for channel_id, uploads in self.known.recent_uploads.items():
            if any(v == video_id for v, _ in uploads):
                return channel_id
        return f"(channel of video {video_id})"


def _items(body: dict[str, Any]) -> list[Any]:
    """A list answer's ``items`` (an answer without a list has none)."""
    items = body.get("items")
    return items if isinstance(items, list) else []


def _item_id(item: Any) -> str | None:
    """An item's ``id`` when it is a non-empty string (a malformed item may have none)."""
    value = item.get("id") if isinstance(item, dict) else None
    return value if isinstance(value, str) and value else None
