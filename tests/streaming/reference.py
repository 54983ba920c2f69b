"""An independent computation of the channel windows in plain Python (test oracle).

It follows the job's documented semantics, not its code: a message counts if the
event contract accepts it (``parse_event``, as the landing and the processor
judge it); an event at ``t``
belongs to every window [k*slide, k*slide + window) containing ``t``; in each
micro-batch, a window whose end is at or before the watermark (the latest
event time of earlier batches minus the delay) no longer takes events.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from ytempire.events import Rejected, parse_event

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TYPES = (
    "video_generated",
    "video_uploaded",
    "video_published",
    "metrics_update",
    "quality_check",
    "channel_created",
    "channel_updated",
)


def _micros(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def _moment(micros: int) -> datetime:
    return EPOCH + timedelta(microseconds=micros)


def _parse(raw: bytes) -> dict[str, Any] | None:
    if isinstance(parse_event(raw), Rejected):
        return None
    try:
        event = json.loads(raw, parse_float=Decimal)
        at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not event.get("event_type") or not event.get("channel_id"):
        return None
    return {**event, "at": _micros(at)}


def windows(
    batches: Iterable[Iterable[bytes]], window_s: int, slide_s: int, watermark_s: int
) -> tuple[dict[tuple, tuple], int]:
    """Raw message values per micro-batch -> ({(start, end, channel): row}, late events)."""
    window_us, slide_us, delay_us = window_s * 10**6, slide_s * 10**6, watermark_s * 10**6
    videos: dict[tuple, dict[str, Any]] = defaultdict(
        lambda: {"events": 0, "types": defaultdict(int), "views": [], "revenue": [], "last": 0}
    )
    max_seen: int | None = None
    late = 0
    for batch in batches:
        events = [e for e in map(_parse, batch) if e is not None]
        watermark = None if max_seen is None else max_seen - delay_us
        for event in events:
            start = event["at"] // slide_us * slide_us
            taken = False
            while start + window_us > event["at"]:
                end = start + window_us
                if watermark is None or end > watermark:
                    _add(videos[(start, end, event["channel_id"], event["video_id"] or "")], event)
                    taken = True
                start -= slide_us
            late += not taken
        if events:
            newest = max(e["at"] for e in events)
            max_seen = newest if max_seen is None else max(max_seen, newest)
    return _rollup(videos), late


def _add(stats: dict[str, Any], event: dict[str, Any]) -> None:
    stats["events"] += 1
    stats["types"][event["event_type"]] += 1
    stats["last"] = max(stats["last"], event["at"])
    if event["event_type"] == "metrics_update":
        payload = event.get("payload") or {}
        if payload.get("views") is not None:
            stats["views"].append(int(payload["views"]))
        if payload.get("revenue_usd") is not None:
            stats["revenue"].append(Decimal(payload["revenue_usd"]))


def _rollup(videos: dict[tuple, dict[str, Any]]) -> dict[tuple, tuple]:
    channels: dict[tuple, list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for (start, end, channel, video), stats in videos.items():
        channels[(start, end, channel)].append((video, stats))
    rows = {}
    for (start, end, channel), members in channels.items():
        stats = [s for _, s in members]
        views = [v for s in stats for v in s["views"]]
        revenues = [s["revenue"] for s in stats if s["revenue"]]
        other = sum(n for s in stats for t, n in s["types"].items() if t not in TYPES)
        rows[(_moment(start), _moment(end), channel)] = (
            sum(s["events"] for s in stats),
            sum(1 for video, _ in members if video),
            *(sum(s["types"][t] for s in stats) for t in TYPES),
            other,
            (Decimal(sum(views)) / Decimal(len(views))).quantize(
                Decimal("0.0001"), rounding=ROUND_HALF_UP
            )
            if views
            else None,
            sum((max(r) for r in revenues), Decimal(0)),
            sum((max(r) - min(r) for r in revenues), Decimal(0)),
            _moment(max(s["last"] for s in stats)),
        )
    return rows
