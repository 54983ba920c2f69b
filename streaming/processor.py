"""Real-time event processor: Kafka events -> operational tables, Redis dashboards, alerts.

The reference design's handlers, made replay-safe:

* ``video_generated``: the video row (if the producer has not written it) and
  the channel's ``video_count``;
* ``video_uploaded``: the channel's Redis dashboard hash (1 h TTL), status and
  YouTube id in ``ytempire.videos``, a quality-check request and a
  notification on ``notifications``;
* ``video_published``: status, YouTube id and ``published_at``;
* ``metrics_update``: appends to ``ytempire.video_metrics``, refreshes the
  video's latest counters and recomputes its channel's totals, and raises a
  viral alert on ``alerts`` when the video first passes 10,000 views;
* ``quality_check``: stores the score, asks for improvement below 85.

Idempotency: each event's database effects are written with its row in
``ytempire.processed_events`` (an event found there is skipped), inside a
savepoint of the poll's transaction: a failing event rolls back alone, and a
poll of up to 500 events commits once, which is what makes the processor fast
enough for a network's backlog (one commit per event was fsync-bound).
Redis writes are compare-and-set on the event time (a stale or replayed event
cannot overwrite newer state), and Kafka side messages carry the source
``event_id``. Per poll: side effects flushed, then the database commit, then
the Kafka offsets; a crash anywhere replays the poll, and the replay changes
nothing.
Messages that break the contract, and events about unknown videos, go to the
dead-letter topic and are counted. A dead letter is bounded to fit that topic
whatever arrived (:mod:`ytempire.dead_letters`: the reason cut with its
length kept, the value left out and referenced by its coordinates when it is
too large), so no message can stop the processor.

Two event types of the contract have no real-time handler, by design:
``channel_updated`` and ``user_action`` (:data:`WAREHOUSE_ONLY`). They are
landed by ``ytempire ingest events`` and modelled by dbt; the processor counts
them by type (``skipped:<event_type>``) and moves on. An event type outside
the contract never reaches a handler: :func:`parse_event` rejects it and it is
dead-lettered.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from ytempire.clients import kafka_consumer, kafka_producer, pg_connect, redis_client
from ytempire.dead_letters import DeadLetterPublisher
from ytempire.events import Event, Rejected, parse_event
from ytempire.operational import add_generated_video
from ytempire.settings import Settings, get_settings
from ytempire.timestamps import iso_z
from ytempire.topics import (
    ALERTS,
    CHANNEL_EVENTS,
    DEAD_LETTER,
    NOTIFICATIONS,
    USER_EVENTS,
    VIDEO_EVENTS,
    partition_lag,
)

log = logging.getLogger(__name__)

DASHBOARD_TTL_S = 3600
VIRAL_VIEWS = 10_000
QUALITY_THRESHOLD = 85
HANDLER_ATTEMPTS = 3
# How long a run with an idle timeout waits for the group to assign it partitions.
ASSIGNMENT_TIMEOUT_S = 120.0

# Set the hash only if the event is not older than what it holds, then (re)arm the TTL.
_SET_IF_NEWER = """
local current = redis.call('HGET', KEYS[1], 'updated_at')
if current and current > ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'updated_at', ARGV[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""


class UnknownVideo(Exception):
    """An event refers to a video that ytempire.videos does not hold."""


@dataclass(frozen=True)
class Topics:
    sources: Sequence[str] = (VIDEO_EVENTS.name, CHANNEL_EVENTS.name, USER_EVENTS.name)
    notifications: str = NOTIFICATIONS.name
    alerts: str = ALERTS.name
    dead_letter: str = DEAD_LETTER.name


@dataclass
class Outcome:
    """What a handler asks for beyond its database effects."""

    dashboard: dict[str, str] = field(default_factory=dict)
    messages: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


# --- handlers: database effects inside the caller's transaction ----------------------------


def _require_video(cur: psycopg.Cursor[Any], event: Any) -> None:
    if cur.execute(
        "select 1 from ytempire.videos where video_id = %s", (event.video_id,)
    ).fetchone():
        return
    raise UnknownVideo(f"video_id {event.video_id} is not in ytempire.videos")


def on_video_generated(cur: psycopg.Cursor[Any], event: Any, topics: Topics) -> Outcome:
    cur.execute(
        "insert into ytempire.channels (channel_id, niche) values (%s, %s) "
        "on conflict (channel_id) do nothing",
        (event.channel_id, event.payload.niche),
    )
    add_generated_video(cur, event, skip_existing=True)
    return Outcome()


def on_video_uploaded(cur: psycopg.Cursor[Any], event: Any, topics: Topics) -> Outcome:
    _require_video(cur, event)
    yt = event.payload.youtube_video_id
    cur.execute(
        "update ytempire.videos set status = 'uploaded', youtube_video_id = %s, updated_at = now() "
        "where video_id = %s and status in ('processing', 'generated', 'uploaded')",
        (yt, event.video_id),
    )
    common = {
        "source_event_id": str(event.event_id),
        "channel_id": event.channel_id,
        "video_id": str(event.video_id),
        "youtube_video_id": yt,
    }
    return Outcome(
        dashboard={
            "latest_video": str(event.video_id),
            "latest_youtube_video_id": yt,
            "upload_time": iso_z(event.occurred_at),
            "status": "uploaded",
        },
        messages=[
            (topics.notifications, {"type": "quality_check_requested", **common}),
            (topics.notifications, {"type": "video_uploaded", **common}),
        ],
    )


def on_video_published(cur: psycopg.Cursor[Any], event: Any, topics: Topics) -> Outcome:
    _require_video(cur, event)
    cur.execute(
        "update ytempire.videos set status = 'published', youtube_video_id = %s, "
        "published_at = %s, updated_at = now() where video_id = %s",
        (event.payload.youtube_video_id, event.payload.published_at, event.video_id),
    )
    return Outcome()


def on_metrics_update(cur: psycopg.Cursor[Any], event: Any, topics: Topics) -> Outcome:
    _require_video(cur, event)
    m = event.payload
    cur.execute(
        "insert into ytempire.video_metrics (video_id, observed_at, views, likes, comments, "
        "watch_time_minutes, source) values (%s, %s, %s, %s, %s, %s, 'kafka') "
        "on conflict (video_id, observed_at) do nothing",
        (event.video_id, event.occurred_at, m.views, m.likes, m.comments, m.watch_time_minutes),
    )
    previous = cur.execute(
        "select views from ytempire.videos where video_id = %s for update", (event.video_id,)
    ).fetchone()
    cur.execute(
        "update ytempire.videos set views = %s, likes = %s, comments = %s, "
        "metrics_observed_at = %s, updated_at = now() where video_id = %s "
        "and (metrics_observed_at is null or metrics_observed_at <= %s)",
        (m.views, m.likes, m.comments, event.occurred_at, event.video_id, event.occurred_at),
    )
    cur.execute(
        "update ytempire.channels c set total_views = t.views, total_likes = t.likes, "
        "total_comments = t.comments, updated_at = now() from (select coalesce(sum(views), 0) "
        "as views, coalesce(sum(likes), 0) as likes, coalesce(sum(comments), 0) as comments "
        "from ytempire.videos where channel_id = %s) t where c.channel_id = %s",
        (event.channel_id, event.channel_id),
    )
    outcome = Outcome()
    if m.views > VIRAL_VIEWS and (previous is None or previous[0] <= VIRAL_VIEWS):
        outcome.messages.append(
            (
                topics.alerts,
                {
                    "type": "viral_video",
                    "severity": "info",
                    "source_event_id": str(event.event_id),
                    "channel_id": event.channel_id,
                    "video_id": str(event.video_id),
                    "views": m.views,
                    "threshold": VIRAL_VIEWS,
                },
            )
        )
    return outcome


def on_quality_check(cur: psycopg.Cursor[Any], event: Any, topics: Topics) -> Outcome:
    _require_video(cur, event)
    score = event.payload.quality_score
    cur.execute(
        "update ytempire.videos set quality_score = %s, updated_at = now() where video_id = %s",
        (score, event.video_id),
    )
    outcome = Outcome()
    if score < QUALITY_THRESHOLD:
        outcome.messages.append(
            (
                topics.notifications,
                {
                    "type": "quality_improvement_requested",
                    "source_event_id": str(event.event_id),
                    "video_id": str(event.video_id),
                    "quality_score": score,
                    "threshold": QUALITY_THRESHOLD,
                },
            )
        )
    return outcome


Handler = Callable[[psycopg.Cursor[Any], Any, Topics], Outcome]
HANDLERS: dict[str, Handler] = {
    "video_generated": on_video_generated,
    "video_uploaded": on_video_uploaded,
    "video_published": on_video_published,
    "metrics_update": on_metrics_update,
    "quality_check": on_quality_check,
}
# Contract event types with no real-time effect: the warehouse models them.
WAREHOUSE_ONLY = frozenset({"channel_updated", "user_action"})
SKIPPED = "skipped:"  # counts key prefix of events left to the warehouse, by type


# --- the processor ------------------------------------------------------------------------


class EventProcessor:
    """Consume, handle exactly once per event_id, commit offsets after each poll."""

    def __init__(
        self,
        *,
        group_id: str = "ytempire-event-processor",
        topics: Topics | None = None,
        redis_prefix: str = "",
        settings: Settings | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.topics = topics or Topics()
        self.prefix = redis_prefix
        self.counts: Counter[str] = Counter()
        self.conn = pg_connect("loader", settings=self.settings)
        self.redis = redis_client(check=True, settings=self.settings)
        self._set_if_newer = self.redis.register_script(_SET_IF_NEWER)
        self.producer = kafka_producer(
            settings=self.settings,
            compression_type="gzip",
        )
        self.dead_letters = DeadLetterPublisher(
            self.producer, self.topics.dead_letter, settings=self.settings
        )
        self.consumer = kafka_consumer(
            *self.topics.sources,
            settings=self.settings,
            group_id=group_id,
            auto_offset_reset="earliest",
            max_poll_records=500,
        )
        self._stopping = False

    def close(self) -> None:
        self.consumer.close()
        self.producer.close()
        self.conn.close()

    def stop(self, *_: object) -> None:
        self._stopping = True

    def run(
        self,
        *,
        idle_timeout_s: float | None = None,
        assignment_timeout_s: float = ASSIGNMENT_TIMEOUT_S,
        progress: Callable[[str], None] = log.info,
    ) -> Counter[str]:
        """Process until stopped (SIGTERM/SIGINT) or, with ``idle_timeout_s``, until idle.

        Idle time counts from the moment the group assigns this consumer its
        partitions (again after every rebalance) and from the last message,
        never from start-up: after a crash the group holds the dead member's
        partitions until its session times out, and a run that gave up
        before then would have done nothing. A run that waited
        ``assignment_timeout_s`` without partitions stops. Either way
        :meth:`lag` then tells what is left.
        """
        signal.signal(signal.SIGTERM, self.stop)
        started = last_activity = time.monotonic()
        assignment: set[Any] = set()
        while not self._stopping:
            batches = self.consumer.poll(timeout_ms=1_000)
            now = time.monotonic()
            current = set(self.consumer.assignment())
            if current != assignment:
                assignment, last_activity = current, now
                progress(f"assigned {len(current)} partition(s)")
            if batches:
                with self.conn.transaction():  # the poll's events commit together
                    for records in batches.values():
                        for record in records:
                            self.handle(record)
                    self.producer.flush()  # side effects first: redone on a crash, never lost
                    self.dead_letters.flush()  # a refused dead letter resent, or raised
                self.consumer.commit()
                last_activity = now
                progress(f"processed {sum(self.counts.values()):,} messages: {dict(self.counts)}")
                continue
            if idle_timeout_s is None:
                continue
            if not assignment:
                if now - started >= assignment_timeout_s:
                    progress(f"no partitions assigned after {assignment_timeout_s:.0f} s")
                    break
            elif now - last_activity >= idle_timeout_s:
                break
        return self.counts

    def lag(self) -> dict[str, int]:
        """Messages left per ``topic[partition]``: end offset minus the group's committed offset.

        Over every partition of the source topics, not only this consumer's:
        a partition nobody was assigned is work left too. A partition the
        group never committed counts from its beginning offset.
        """
        return partition_lag(self.consumer, self.topics.sources, self.consumer.committed)

    def handle(self, record: Any) -> None:
        parsed = parse_event(record.value)
        if isinstance(parsed, Rejected):
            self._dead_letter(record, parsed.reason)
            return
        handler = HANDLERS.get(parsed.event_type)
        if handler is None:
            self.counts[f"{SKIPPED}{parsed.event_type}"] += 1
            return
        for attempt in range(1, HANDLER_ATTEMPTS + 1):
            try:
                self._apply(record, parsed, handler)
                return
            except UnknownVideo as exc:
                self._dead_letter(record, f"video_id: {exc} [unknown_video]")
                return
            except psycopg.OperationalError:
                raise  # the connection is gone: the poll replays after a restart
            except psycopg.Error as exc:
                log.warning("attempt %d of %s failed: %s", attempt, parsed.event_id, exc)
                if attempt == HANDLER_ATTEMPTS:
                    self._dead_letter(record, f"handler failed {attempt} times: {exc}")

    def _apply(self, record: Any, event: Event, handler: Handler) -> None:
        # A savepoint: an error rolls back this event's writes only, and re-raises.
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute(
                "insert into ytempire.processed_events (event_id, event_type, kafka_topic, "
                "kafka_partition, kafka_offset) values (%s, %s, %s, %s, %s) "
                "on conflict (event_id) do nothing",
                (event.event_id, event.event_type, record.topic, record.partition, record.offset),
            )
            if cur.rowcount == 0:
                self.counts["replayed"] += 1
                return
            outcome = handler(cur, event, self.topics)
        # Side effects before the poll's commit: redone on a crash (idempotent), never lost.
        if outcome.dashboard:
            key = f"{self.prefix}dashboard:channel:{event.channel_id}"
            fields = [item for pair in outcome.dashboard.items() for item in pair]
            self._set_if_newer(
                keys=[key], args=[iso_z(event.occurred_at), DASHBOARD_TTL_S, *fields]
            )
        for topic, message in outcome.messages:
            self.producer.send(
                topic, key=event.channel_id.encode(), value=json.dumps(message).encode()
            )
        self.counts[event.event_type] += 1

    def _dead_letter(self, record: Any, reason: str) -> None:
        self.dead_letters.send(record, reason)
        self.counts["dead_lettered"] += 1
