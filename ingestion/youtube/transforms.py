"""Pure mappings from API response items to ``raw_youtube`` rows, and the refresh-set rule.

No I/O here: each function takes what the API returned (or what the warehouse
already knows) and returns rows or decisions, so they are tested without
services. Counts arrive as strings and leave as integers; ISO-8601 durations
are parsed with ``isodate``.

Every field a row needs is read through :func:`required` or :func:`optional`,
which name the field (a dotted path into the item) when it is missing or not
what the API documents: an item that breaks one raises :class:`MalformedItem`
and is set aside by the collector with that reason, never the page it came in.
What each list call's items must hold is :data:`REQUIRED_FIELDS`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

import isodate

T = TypeVar("T")

# The fields an item of each list call must hold (``a|b``: either path), as the
# mappings below read them; anything else they read is optional and NULL when absent.
REQUIRED_FIELDS: dict[str, tuple[str, ...]] = {
    "channels.list": ("id",),
    "playlistItems.list": (
        "contentDetails.videoId|snippet.resourceId.videoId",
        "contentDetails.videoPublishedAt",
    ),
    "videos.list": ("id", "snippet.channelId"),
}


class MalformedItem(ValueError):
    """An API item without a field a row needs, or with a value the API never sends there."""

    def __init__(self, field: str, problem: str):
        self.field, self.problem = field, problem
        super().__init__(f"{field}: {problem}")


_MISSING = object()


def _lookup(item: Any, path: str) -> Any:
    value = item
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def optional(item: dict[str, Any], path: str, parse: Callable[[Any], T] | None = None) -> Any:
    """The value at ``path`` (``None`` when absent or null), parsed by ``parse``.

    Raises :class:`MalformedItem` naming ``path`` when ``parse`` refuses the value.
    """
    value = _lookup(item, path)
    if value is _MISSING or value is None:
        return None
    if parse is None:
        return value
    try:
        return parse(value)
    except (TypeError, ValueError, AttributeError, isodate.ISO8601Error) as exc:
        raise MalformedItem(path, f"{value!r} is not valid here ({exc})") from exc


def required(item: dict[str, Any], paths: str, parse: Callable[[Any], T] | None = None) -> Any:
    """As :func:`optional`, for a field the row cannot do without (``a|b``: the first present)."""
    for path in paths.split("|"):
        value = optional(item, path, parse)
        if value is not None and value != "":
            return value
    raise MalformedItem(paths, "missing")


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp from the API (``2025-01-01T12:00:00Z``), timezone-aware."""
    if not isinstance(value, str):
        raise TypeError(f"a timestamp is a string, not {type(value).__name__}")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("no time zone")
    return moment


def duration_seconds(iso: str) -> int:
    """Seconds of an ISO-8601 duration (``PT1H2M3S``)."""
    return int(isodate.parse_duration(iso).total_seconds())


def _integer(value: Any) -> int:
    """A count as the API sends it: a string of digits (or a JSON integer)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise TypeError(f"a count is a string of digits, not {type(value).__name__}")
    number = int(value)
    if number < 0:
        raise ValueError("a count is never negative")
    return number


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, not {type(value).__name__}")
    return value


def _count(item: dict[str, Any], path: str) -> int | None:
    count: int | None = optional(item, path, _integer)
    return count


def channel_row(item: dict[str, Any], collection_date: date, collected_at: datetime) -> dict:
    return {
        "channel_id": required(item, "id", _text),
        "collection_date": collection_date,
        "collected_at": collected_at,
        "title": optional(item, "snippet.title", _text),
        "published_at": optional(item, "snippet.publishedAt", parse_timestamp),
        "country": optional(item, "snippet.country", _text),
        "uploads_playlist_id": optional(item, "contentDetails.relatedPlaylists.uploads", _text),
        "subscriber_count": _count(item, "statistics.subscriberCount"),
        "view_count": _count(item, "statistics.viewCount"),
        "video_count": _count(item, "statistics.videoCount"),
        "hidden_subscriber_count": bool(
            optional(item, "statistics.hiddenSubscriberCount") or False
        ),
    }


@dataclass(frozen=True)
class Upload:
    """One entry of a channel's uploads playlist."""

    playlist_id: str
    video_id: str
    channel_id: str
    position: int | None
    video_published_at: datetime


def playlist_upload(item: dict[str, Any], channel_id: str, playlist_id: str) -> Upload:
    """One ``playlistItems.list`` item as an :class:`Upload` (:class:`MalformedItem` if it
    lacks the video's id or publish time).

    ``contentDetails.videoPublishedAt`` is the video's publish time; a playlist
    item's ``snippet.publishedAt`` is when it was added to the playlist, so it is
    never taken in its place (YouTube leaves ``videoPublishedAt`` out for a video
    that is private or deleted).
    """
    return Upload(
        playlist_id=playlist_id,
        video_id=required(item, REQUIRED_FIELDS["playlistItems.list"][0], _text),
        channel_id=channel_id,
        position=optional(item, "snippet.position", _integer),
        video_published_at=required(item, "contentDetails.videoPublishedAt", parse_timestamp),
    )


def playlist_uploads(items: Iterable[dict[str, Any]], channel_id: str, playlist_id: str) -> list:
    """The uploads of one ``playlistItems.list`` page, in page order (newest first);
    raises :class:`MalformedItem` at the first item that is not one."""
    return [playlist_upload(item, channel_id, playlist_id) for item in items]


def playlist_row(upload: Upload, collected_at: datetime) -> dict:
    return {
        "playlist_id": upload.playlist_id,
        "video_id": upload.video_id,
        "channel_id": upload.channel_id,
        "position": upload.position,
        "video_published_at": upload.video_published_at,
        "collected_at": collected_at,
    }


def video_snapshot_row(item: dict[str, Any], collection_date: date, collected_at: datetime) -> dict:
    """A day's counters of a video; a counter absent from ``statistics`` (hidden likes,
    disabled comments) is ``None``, never 0."""
    return {
        "video_id": required(item, "id", _text),
        "collection_date": collection_date,
        "channel_id": required(item, "snippet.channelId", _text),
        "collected_at": collected_at,
        "view_count": _count(item, "statistics.viewCount"),
        "like_count": _count(item, "statistics.likeCount"),
        "comment_count": _count(item, "statistics.commentCount"),
        "live_broadcast_content": optional(item, "snippet.liveBroadcastContent", _text),
    }


BROADCASTING = frozenset({"live", "upcoming"})


def _tags(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise TypeError("tags are a list of strings")
    return list(value)


def video_row(item: dict[str, Any], first_seen_date: date) -> dict:
    """A video's latest traits. An upcoming or live broadcast has no duration yet (the
    API says ``P0D``): ``duration_iso`` keeps what the API said, ``duration_seconds``
    is ``None`` until the broadcast has ended."""
    iso = optional(item, "contentDetails.duration", _text)
    broadcast = optional(item, "snippet.liveBroadcastContent", _text)
    seconds = optional(item, "contentDetails.duration", duration_seconds)
    return {
        "video_id": required(item, "id", _text),
        "channel_id": required(item, "snippet.channelId", _text),
        "title": optional(item, "snippet.title", _text),
        "description": optional(item, "snippet.description", _text),
        "published_at": optional(item, "snippet.publishedAt", parse_timestamp),
        "duration_seconds": None if broadcast in BROADCASTING else seconds,
        "duration_iso": iso,
        "live_broadcast_content": broadcast,
        "category_id": optional(item, "snippet.categoryId", _text),
        "tags": optional(item, "snippet.tags", _tags) or [],
        "definition": optional(item, "contentDetails.definition", _text),
        "first_seen_date": first_seen_date,
    }


def is_new(upload: Upload, cursor: datetime | None) -> bool:
    """Whether an upload is newer than the channel's discovery cursor."""
    return cursor is None or upload.video_published_at > cursor


def needs_next_page(
    page: Sequence[Upload],
    seen: int,
    cursor: datetime | None,
    refresh: RefreshRule,
    day: date,
    set_aside: int = 0,
) -> bool:
    """Whether discovery must read another page of the uploads playlist.

    With a cursor, until a page reaches uploads already known; on a channel's
    first run, until the refresh set is covered. ``page`` holds the page's good
    uploads; a page whose items were all set aside (``set_aside`` > 0) says
    nothing of how old the rest is, so the next one is read.
    """
    if not page:
        return set_aside > 0
    oldest = page[-1].video_published_at
    if cursor is not None:
        return oldest > cursor
    if seen < refresh.last_n:
        return True
    return refresh.days > 0 and oldest.date() >= refresh.since(day)


@dataclass(frozen=True)
class RefreshRule:
    """Which videos get their statistics refreshed: the last N uploads, and those of D days."""

    last_n: int = 10
    days: int = 0

    def since(self, day: date) -> date:
        return day - timedelta(days=self.days - 1)

    def select(self, uploads: Iterable[tuple[str, datetime]], day: date) -> list[str]:
        """Video ids to refresh among a channel's ``(video_id, published_at)`` uploads."""
        ordered = sorted(set(uploads), key=lambda u: (u[1], u[0]), reverse=True)
        chosen = [vid for vid, _ in ordered[: self.last_n]]
        if self.days > 0:
            since = self.since(day)
            chosen += [vid for vid, at in ordered[self.last_n :] if at.date() >= since]
        return chosen
