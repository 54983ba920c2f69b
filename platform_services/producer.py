"""Operational producer: record a generated video and announce it, never one without the other.

:func:`record_video_generated` is the reference design's "process video
generation event", made crash-safe with a transactional outbox: the video
row, the channel's ``video_count`` and the ``video_generated`` event (in
``ytempire.outbox``) commit in one transaction. :func:`relay_outbox` then
publishes pending events to Kafka (keyed by channel) and marks them
sent. A crash before the commit leaves nothing; a crash between publish and
mark republishes the same ``event_id``, which the landing and the processor
deduplicate. The latest-video cache in Redis (1 h TTL) is written after the
commit: it is a cache, rebuilt by the next video.

Failures go to ``error-queue`` with their retry count; an event that has
failed more than three times raises a critical alert on ``alerts``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import psycopg
import redis
from psycopg.types.json import Jsonb
from pydantic import ValidationError

from ytempire.errors import YTEmpireError
from ytempire.events import VideoGeneratedEvent, describe_errors, validate_event
from ytempire.operational import add_generated_video
from ytempire.timestamps import iso_z
from ytempire.topics import ALERTS, ERROR_QUEUE, VIDEO_EVENTS

log = logging.getLogger(__name__)

LATEST_VIDEO_TTL_S = 3600
MAX_RETRIES = 3


class InvalidEvent(YTEmpireError):
    """The event breaks the contract; the message names the fields and rules."""


def _error_record(event: Any, error: str, retry_count: int) -> dict[str, Any]:
    return {
        "event": event,
        "error": error,
        "retry_count": retry_count,
        "timestamp": iso_z(datetime.now(UTC)),
    }


def report_failure(
    producer: Any,
    event: Any,
    error: str,
    retry_count: int,
    *,
    error_topic: str = ERROR_QUEUE.name,
    alert_topic: str = ALERTS.name,
) -> None:
    """Send a failure to the error queue; past MAX_RETRIES also raise a critical alert."""
    record = _error_record(event, error, retry_count)
    producer.send(error_topic, value=json.dumps(record, default=str).encode())
    if retry_count > MAX_RETRIES:
        alert = {"type": "pipeline_failure", "severity": "critical", **record}
        producer.send(alert_topic, value=json.dumps(alert, default=str).encode())
    producer.flush()


def record_video_generated(
    conn: psycopg.Connection[Any],
    data: dict[str, Any],
    *,
    redis_client: redis.Redis,
    producer: Any,
    topic: str = VIDEO_EVENTS.name,
    redis_prefix: str = "",
    error_topic: str = ERROR_QUEUE.name,
    alert_topic: str = ALERTS.name,
) -> VideoGeneratedEvent:
    """Validate, then store the video, its channel's count and its event in one transaction."""
    retry_count = int(data.get("retry_count", 0)) if isinstance(data, dict) else 0
    event_data = {k: v for k, v in data.items() if k != "retry_count"}
    try:
        event = validate_event(event_data)
        if not isinstance(event, VideoGeneratedEvent):
            raise InvalidEvent(f"event_type: expected 'video_generated', got {event.event_type!r}")
    except ValidationError as exc:
        reason = describe_errors(exc)
        report_failure(
            producer, data, reason, retry_count, error_topic=error_topic, alert_topic=alert_topic
        )
        raise InvalidEvent(f"video_generated event rejected: {reason}") from exc
    try:
        _store(conn, event, topic)
    except (psycopg.Error, LookupError) as exc:
        reason = str(exc).strip().splitlines()[0]
        report_failure(
            producer, data, reason, retry_count, error_topic=error_topic, alert_topic=alert_topic
        )
        raise YTEmpireError(
            f"could not store video {event.video_id} of channel {event.channel_id}: "
            f"{reason}. Next: check the channel exists in ytempire.channels."
        ) from exc
    redis_client.set(
        f"{redis_prefix}channel:{event.channel_id}:latest_video",
        str(event.video_id),
        ex=LATEST_VIDEO_TTL_S,
    )
    return event


def _store(conn: psycopg.Connection[Any], event: VideoGeneratedEvent, topic: str) -> None:
    with conn.transaction():
        if add_generated_video(conn, event, skip_existing=False) != 1:
            raise LookupError(f"channel {event.channel_id} is not in ytempire.channels")
        conn.execute(
            "insert into ytempire.outbox (event_id, topic, message_key, payload) "
            "values (%s, %s, %s, %s)",
            (event.event_id, topic, event.channel_id, Jsonb(event.model_dump(mode="json"))),
        )


def relay_outbox(
    conn: psycopg.Connection[Any],
    producer: Any,
    *,
    limit: int = 500,
    error_topic: str = ERROR_QUEUE.name,
    alert_topic: str = ALERTS.name,
) -> tuple[int, int]:
    """Publish up to ``limit`` pending outbox events; return (sent, failed)."""
    with conn.transaction():
        rows = conn.execute(
            "select event_id, topic, message_key, payload, attempts from ytempire.outbox "
            "where sent_at is null order by created_at, event_id limit %s for update skip locked",
            (limit,),
        ).fetchall()
        futures = []
        for event_id, topic, key, payload, attempts in rows:
            value = json.dumps(payload).encode()
            try:
                future = producer.send(topic, key=key.encode() if key else None, value=value)
            except Exception as exc:  # invalid topic, buffer full: the row stays pending
                future = exc
            futures.append((event_id, payload, attempts, future))
        producer.flush()
        sent = failed = 0
        for event_id, payload, attempts, future in futures:
            error = _outcome(future)
            if error is None:
                conn.execute(
                    "update ytempire.outbox set sent_at = now(), attempts = attempts + 1 "
                    "where event_id = %s",
                    (event_id,),
                )
                sent += 1
                continue
            conn.execute(
                "update ytempire.outbox set attempts = attempts + 1, last_error = %s "
                "where event_id = %s",
                (error, event_id),
            )
            report_failure(
                producer,
                payload,
                error,
                attempts + 1,
                error_topic=error_topic,
                alert_topic=alert_topic,
            )
            failed += 1
    if rows:
        log.info("outbox relay: %d sent, %d failed", sent, failed)
    return sent, failed


def _outcome(future: Any) -> str | None:
    if isinstance(future, Exception):
        return f"{type(future).__name__}: {future}"
    try:
        future.get(timeout=30)
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None
