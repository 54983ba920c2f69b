"""Pure mappings from API response items to ``raw_youtube`` rows, and the refresh-set rule.

No I/O here: each function takes what the API returned (or what the warehouse
already knows) and returns rows or decisions, so they are tested without
services. Counts arrive as strings and leave as integers; ISO-8601 durations
are parsed with ``isodate``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import isodate


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 timestamp from the API (``2025-01-01T12:00:00Z``), timezone-aware."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def duration_seconds(iso: str) -> int:
    """Seconds of an ISO-8601 duration (``PT1H2M3S``)."""
    return int(isodate.parse_duration(iso).total_seconds())


def _count(stats: dict[str, Any], key: str) -> int | None:
    value = stats.get(key)
    return None if value is None else int(value)


def channel_row(item: dict[str, Any], collection_date: date, collected_at: datetime) -> dict:
    snippet, stats = item.get("snippet", {}), item.get("statistics", {})
    uploads = item.get("contentDetails", {}).get("relatedPlaylists", {}).get("uploads")
    return {
        "channel_id": item["id"],
        "collection_date": collection_date,
        "collected_at": collected_at,
        "title": snippet.get("title"),
        "published_at": parse_timestamp(snippet["publishedAt"])
        if "publishedAt" in snippet
        else None,
        "country": snippet.get("country"),
        "uploads_playlist_id": uploads,
        "subscriber_count": _count(stats, "subscriberCount"),
        "view_count": _count(stats, "viewCount"),
        "video_count": _count(stats, "videoCount"),
        "hidden_subscriber_count": bool(stats.get("hiddenSubscriberCount", False)),
    }


@dataclass(frozen=True)
class Upload:
    """One entry of a channel's uploads playlist."""

    playlist_id: str
    video_id: str
    channel_id: str
    position: int
    video_published_at: datetime


def playlist_uploads(items: Iterable[dict[str, Any]], channel_id: str, playlist_id: str) -> list:
    """The uploads of one ``playlistItems.list`` page, in page order (newest first)."""
    uploads = []
    for item in items:
        details, snippet = item.get("contentDetails", {}), item.get("snippet", {})
        published = details.get("videoPublishedAt") or snippet.get("publishedAt")
        uploads.append(
            Upload(
                playlist_id=playlist_id,
                video_id=details.get("videoId") or snippet["resourceId"]["videoId"],
                channel_id=channel_id,
                position=int(snippet.get("position", -1)),
                video_published_at=parse_timestamp(published),
            )
        )
    return uploads


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
    stats = item.get("statistics", {})
    return {
        "video_id": item["id"],
        "collection_date": collection_date,
        "channel_id": item.get("snippet", {}).get("channelId"),
        "collected_at": collected_at,
        "view_count": _count(stats, "viewCount"),
        "like_count": _count(stats, "likeCount"),
        "comment_count": _count(stats, "commentCount"),
    }


def video_row(item: dict[str, Any], first_seen_date: date) -> dict:
    snippet, details = item.get("snippet", {}), item.get("contentDetails", {})
    iso = details.get("duration")
    return {
        "video_id": item["id"],
        "channel_id": snippet.get("channelId"),
        "title": snippet.get("title"),
        "description": snippet.get("description"),
        "published_at": parse_timestamp(snippet["publishedAt"])
        if "publishedAt" in snippet
        else None,
        "duration_seconds": duration_seconds(iso) if iso else None,
        "duration_iso": iso,
        # "live"/"upcoming" broadcasts report duration P0D: dbt keeps them apart.
        "live_broadcast_content": snippet.get("liveBroadcastContent"),
        "category_id": snippet.get("categoryId"),
        "tags": list(snippet.get("tags", [])),
        "definition": details.get("definition"),
        "first_seen_date": first_seen_date,
    }


def is_new(upload: Upload, cursor: datetime | None) -> bool:
    """Whether an upload is newer than the channel's discovery cursor."""
    return cursor is None or upload.video_published_at > cursor


def needs_next_page(
    page: Sequence[Upload], seen: int, cursor: datetime | None, refresh: RefreshRule, day: date
) -> bool:
    """Whether discovery must read another page of the uploads playlist.

    With a cursor, until a page reaches uploads already known; on a channel's
    first run, until the refresh set is covered.
    """
    if not page:
        return False
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
