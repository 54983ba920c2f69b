"""Signed "video uploaded" webhook (the reference design's n8n workflow) as a small ASGI app.

``POST /webhooks/video-uploaded`` takes a ``video_uploaded`` event of
:mod:`ytempire.events` as its body, signed with HMAC-SHA256 of the raw body
under ``YTEMPIRE_WEBHOOK_SECRET`` in the ``X-YTEmpire-Signature: sha256=<hex>``
header. It then fetches the video's statistics from the YouTube Data API
(``videos.list``, at ``YTEMPIRE_YOUTUBE_API_URL``), appends them to
``ytempire.video_metrics``, caches them in Redis for an hour and publishes
them to ``video-analytics`` (gzip). Every rejection -- body too large, bad
signature, invalid event, unknown video -- is a 4xx with a message that says
why, and happens before anything is stored.

    ytempire serve webhook --port 8088
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ytempire.clients import kafka_producer, pg_connect, redis_client
from ytempire.events import EVENT_ADAPTER, VideoUploadedEvent, describe_errors
from ytempire.settings import Settings, get_settings
from ytempire.topics import VIDEO_ANALYTICS

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-YTEmpire-Signature"
METRICS_TTL_S = 3600


class Rejection(Exception):
    """A request refused with an HTTP status and a message for the caller."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class VideoStatistics:
    youtube_video_id: str
    views: int
    likes: int
    comments: int
    duration_iso: str | None


def sign(body: bytes, secret: str) -> str:
    """The signature header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_signature(body: bytes, header: str | None, secret: str) -> None:
    if not header:
        raise Rejection(401, f"missing {SIGNATURE_HEADER} header (sha256=<hex HMAC of the body>)")
    if not hmac.compare_digest(header.strip(), sign(body, secret)):
        raise Rejection(401, f"{SIGNATURE_HEADER} does not match the body: check the secret")


def parse_body(body: bytes) -> VideoUploadedEvent:
    try:
        event = EVENT_ADAPTER.validate_json(body)
    except ValidationError as exc:
        raise Rejection(422, f"invalid video_uploaded event: {describe_errors(exc)}") from exc
    if not isinstance(event, VideoUploadedEvent):
        raise Rejection(422, f"event_type: expected 'video_uploaded', got {event.event_type!r}")
    return event


def statistics_from_response(response: dict[str, Any], youtube_video_id: str) -> VideoStatistics:
    """Pure: a ``videos.list`` response -> the statistics of one video."""
    items = [i for i in response.get("items", []) if i.get("id") == youtube_video_id]
    if not items:
        raise Rejection(404, f"YouTube has no video {youtube_video_id}")
    stats = items[0].get("statistics", {})
    return VideoStatistics(
        youtube_video_id=youtube_video_id,
        views=int(stats.get("viewCount", 0)),
        likes=int(stats.get("likeCount", 0)),  # hidden like counts are absent
        comments=int(stats.get("commentCount", 0)),
        duration_iso=items[0].get("contentDetails", {}).get("duration"),
    )


def fetch_statistics(youtube_video_id: str, settings: Settings) -> VideoStatistics:
    from googleapiclient.discovery import build
    from googleapiclient.errors import HttpError

    youtube = build(
        "youtube",
        "v3",
        developerKey=settings.youtube_api_key,
        static_discovery=True,
        cache_discovery=False,
        client_options={"api_endpoint": settings.youtube_api_url},
    )
    try:
        response = (
            youtube.videos().list(part="statistics,contentDetails", id=youtube_video_id).execute()
        )
    except HttpError as exc:
        raise Rejection(502, f"YouTube API at {settings.youtube_api_url} failed: {exc}") from exc
    except OSError as exc:
        raise Rejection(
            503, f"YouTube API at {settings.youtube_api_url} is unreachable: {exc}"
        ) from exc
    return statistics_from_response(response, youtube_video_id)


def create_app(
    settings: Settings | None = None,
    *,
    analytics_topic: str = VIDEO_ANALYTICS.name,
    redis_prefix: str = "",
) -> FastAPI:
    s = settings or get_settings()
    app = FastAPI(title="YTEmpire webhooks", docs_url=None, redoc_url=None)
    producer = kafka_producer(settings=s, compression_type="gzip")
    cache = redis_client(settings=s)

    @app.exception_handler(Rejection)
    async def rejected(_: Request, exc: Rejection) -> JSONResponse:
        log.warning("webhook rejected (%d): %s", exc.status, exc.message)
        return JSONResponse({"error": exc.message}, status_code=exc.status)

    def handle(body: bytes, signature: str | None) -> dict[str, Any]:
        verify_signature(body, signature, s.webhook_secret)
        event = parse_body(body)
        _require_video(event, s)
        stats = fetch_statistics(event.payload.youtube_video_id, s)
        record = _store(event, stats, s)
        cache.set(
            f"{redis_prefix}video:{event.video_id}:metrics", json.dumps(record), ex=METRICS_TTL_S
        )
        producer.send(
            analytics_topic, key=event.channel_id.encode(), value=json.dumps(record).encode()
        ).get(timeout=30)
        return record

    @app.post("/webhooks/video-uploaded")
    async def video_uploaded(request: Request) -> dict[str, Any]:
        body = await _bounded_body(request, s.webhook_max_body_bytes)
        # Database, API and Kafka calls block: keep them off the event loop.
        return await run_in_threadpool(handle, body, request.headers.get(SIGNATURE_HEADER))

    return app


async def _bounded_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Rejection(413, f"body of {declared} bytes exceeds the limit of {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Rejection(413, f"body exceeds the limit of {limit} bytes")
    return body


def _require_video(event: VideoUploadedEvent, settings: Settings) -> None:
    with pg_connect("loader", settings=settings) as conn:
        found = conn.execute(
            "select 1 from ytempire.videos where video_id = %s", (event.video_id,)
        ).fetchone()
    if not found:
        raise Rejection(404, f"video_id {event.video_id} is not in ytempire.videos")


def _store(event: VideoUploadedEvent, stats: VideoStatistics, settings: Settings) -> dict[str, Any]:
    observed_at = datetime.now(UTC)
    with pg_connect("loader", settings=settings) as conn:
        conn.execute(
            "insert into ytempire.video_metrics (video_id, observed_at, views, likes, comments, "
            "source) values (%s, %s, %s, %s, %s, 'webhook') "
            "on conflict (video_id, observed_at) do nothing",
            (event.video_id, observed_at, stats.views, stats.likes, stats.comments),
        )
    return {
        "source_event_id": str(event.event_id),
        "video_id": str(event.video_id),
        "channel_id": event.channel_id,
        "youtube_video_id": stats.youtube_video_id,
        "views": stats.views,
        "likes": stats.likes,
        "comments": stats.comments,
        "duration_iso": stats.duration_iso,
        "observed_at": observed_at.isoformat().replace("+00:00", "Z"),
    }
