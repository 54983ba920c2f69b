"""Real-time event processor: Kafka events -> operational tables, Redis dashboards, alerts.

The reference design's handlers, made replay-safe:

* ``video_generated``: the video row (if the producer has not written it) and
  the channel's ``video_count``;
* ``video_uploaded``: the channel's Redis dashboard hash (1 h TTL), status and
  YouTube id in ``ytempire.videos``, a quality-check request and a
  notification on ``notifications``;
* ``video_published``: status, YouTube id and ``published_at``;
* ``metrics_update``: appends to ``ytempire.video_metrics``, refreshes the
  video's latest counters and moves its channel's totals by the change, and
  raises a viral alert on ``alerts`` when the video first passes 10,000 views;
* ``quality_check``: stores the score, asks for improvement below 85.

Idempotency: each event's database effects are written with its row in
``ytempire.processed_events`` (an event found there is skipped) in the poll's
transaction, and a poll of up to :data:`POLL_RECORDS` events commits once. A poll is applied
set-based (:mod:`streaming.processor_batch`: a dozen statements whatever its
size, where one by one took two to seven round trips an event); if any of
them fails, the poll is rolled back and applied again event by event, each in
a savepoint: a failing event rolls back alone and is dead-lettered after
``HANDLER_ATTEMPTS`` tries, the others go through. A deadlock or
serialization failure (SQLSTATE 40P01, 40001: two processors' transactions
crossing, as in a rebalance's overlap) is not the event's fault: the poll's
transaction, or the event's savepoint, is tried again (``POLL_ATTEMPTS``,
``HANDLER_ATTEMPTS``), as PostgreSQL's manual asks of such errors, and only
a conflict that persists stops the processor (its poll replays on restart).
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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import psycopg
from kafka import ConsumerRebalanceListener
from kafka.errors import CommitFailedError, RebalanceInProgressError
from kafka.structs import OffsetAndMetadata
from psycopg.errors import DeadlockDetected, SerializationFailure
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from streaming.processor_batch import REPLAYED, UNKNOWN, PollResult, apply_poll
from ytempire.clients import (
    kafka_consumer,
    kafka_producer,
    librdkafka_producer,
    pg_connect,
    redis_client,
)
from ytempire.dead_letters import DeadLetterPublisher
from ytempire.errors import YTEmpireError
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
# Tries of a poll's set-based transaction that a concurrent transaction aborts (deadlock,
# serialization failure), with jittered waits so two crossing processors stop crossing.
POLL_ATTEMPTS = 5
# The errors of a transaction another one aborted: SQLSTATE 40001 and 40P01. PostgreSQL's
# manual ("Serialization Failure Handling") asks to retry the whole transaction.
CROSSED = (SerializationFailure, DeadlockDetected)
# Records a poll returns at most (Kafka's max.poll.records). A poll costs about a dozen
# statements, four waits on PostgreSQL, a producer flush and an offset commit whatever its
# size, so polls of 2,000 spend less of each event on them than Kafka's default of 500; a
# crash replays at most one poll (its events then change nothing).
POLL_RECORDS = 2_000
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


@dataclass
class _ParsedPoll:
    """A poll's records sorted by :meth:`EventProcessor._parse_poll`."""

    events: list[tuple[Any, Event]] = field(default_factory=list)
    rejected: list[tuple[Any, str]] = field(default_factory=list)  # (record, reason)
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class _Applying:
    """A poll handed to the applier thread, and the offsets to commit once it is applied."""

    future: Future[None]
    offsets: dict[Any, Any]


class UnknownVideo(Exception):
    """An event refers to a video that ytempire.videos does not hold."""


def _unknown(event: Any) -> UnknownVideo:
    return UnknownVideo(f"video_id {event.video_id} is not in ytempire.videos")


class SideMessageError(YTEmpireError):
    """Side messages the broker did not take: the poll is not committed (it replays)."""


class SideMessages:
    """The notifications and alerts of the processed events, each delivery checked.

    Sent through librdkafka (:func:`ytempire.clients.librdkafka_producer`,
    batches of a poll): a third of the demo's events send one, and
    kafka-python's ``send`` and sender thread were about a quarter of the
    processor's CPU. :meth:`flush` returns once the broker has every message
    sent so far, or raises :class:`SideMessageError`: the caller then does not
    commit, so the poll replays and nothing is lost (kafka-python's ``flush``
    returned on a failed send too, without a word).
    """

    def __init__(self, settings: Settings, **overrides: Any) -> None:
        # linger: a poll's messages go out when it flushes, in one batch per partition
        self.producer = librdkafka_producer(settings, **{"linger.ms": 50, **overrides})
        self._failed: list[str] = []

    def _delivered(self, error: Any, message: Any) -> None:
        if error is not None:
            self._failed.append(f"{message.topic()}[{message.partition()}]: {error}")

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        """Queue one message (waits while librdkafka's local queue is full)."""
        while True:
            try:
                self.producer.produce(topic, value, key, on_delivery=self._delivered)
                return
            except BufferError:
                self.producer.poll(0.1)  # deliveries free the queue

    def flush(self) -> None:
        """Wait for every queued message's delivery; raise if any failed."""
        left = self.producer.flush()  # waits up to message.timeout.ms a message
        failed, self._failed = self._failed, []
        if left or failed:
            raise SideMessageError(
                f"{len(failed) + left} side message(s) not delivered ({'; '.join(failed[:3])}"
                f"{'; ...' if len(failed) > 3 else ''}): the poll is not committed and "
                "replays. Next: check that Kafka is up and the side topics exist "
                "(`ytempire doctor`)."
            )


class _Rebalances(ConsumerRebalanceListener):
    """When the group last took this member's partitions away or gave them back, and whether
    it is between the two: no member gets a message meanwhile, and that wait (seconds when
    a member joins or leaves) is not idle time. Called on the consumer's IO thread."""

    def __init__(self) -> None:
        self.in_progress = False
        self.changed_at = time.monotonic()

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.in_progress, self.changed_at = True, time.monotonic()

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.in_progress, self.changed_at = False, time.monotonic()


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
    raise _unknown(event)


def on_video_generated(cur: psycopg.Cursor[Any], event: Any, topics: Topics) -> Outcome:
    cur.execute(
        "insert into ytempire.channels (channel_id, niche) values (%s, %s) "
        "on conflict (channel_id) do nothing",
        (event.channel_id, event.payload.niche),
    )
    add_generated_video(cur, event, skip_existing=True)
    return Outcome()


def uploaded_outcome(event: Any, topics: Topics) -> Outcome:
    """The dashboard fields and the two notifications of a ``video_uploaded`` event."""
    yt = event.payload.youtube_video_id
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


def viral_outcome(event: Any, topics: Topics) -> Outcome:
    """The alert of a ``metrics_update`` event that takes its video past :data:`VIRAL_VIEWS`."""
    return Outcome(
        messages=[
            (
                topics.alerts,
                {
                    "type": "viral_video",
                    "severity": "info",
                    "source_event_id": str(event.event_id),
                    "channel_id": event.channel_id,
                    "video_id": str(event.video_id),
                    "views": event.payload.views,
                    "threshold": VIRAL_VIEWS,
                },
            )
        ]
    )


def quality_outcome(event: Any, topics: Topics) -> Outcome:
    """The improvement request of a ``quality_check`` below :data:`QUALITY_THRESHOLD` (or none)."""
    score = event.payload.quality_score
    if score >= QUALITY_THRESHOLD:
        return Outcome()
    return Outcome(
        messages=[
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
        ]
    )


def on_video_uploaded(cur: psycopg.Cursor[Any], event: Any, topics: Topics) -> Outcome:
    _require_video(cur, event)
    cur.execute(
        "update ytempire.videos set status = 'uploaded', youtube_video_id = %s, updated_at = now() "
        "where video_id = %s and status in ('processing', 'generated', 'uploaded')",
        (event.payload.youtube_video_id, event.video_id),
    )
    return uploaded_outcome(event, topics)


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
        "select views, likes, comments from ytempire.videos where video_id = %s for update",
        (event.video_id,),
    ).fetchone()
    if previous is None:
        raise _unknown(event)
    cur.execute(
        "update ytempire.videos set views = %s, likes = %s, comments = %s, "
        "metrics_observed_at = %s, updated_at = now() where video_id = %s "
        "and (metrics_observed_at is null or metrics_observed_at <= %s)",
        (m.views, m.likes, m.comments, event.occurred_at, event.video_id, event.occurred_at),
    )
    if cur.rowcount:  # the channel's totals move by the video's change (see processor_batch)
        cur.execute(
            "update ytempire.channels c set total_views = c.total_views + v.views - %s, "
            "total_likes = c.total_likes + v.likes - %s, "
            "total_comments = c.total_comments + v.comments - %s, updated_at = now() "
            "from ytempire.videos v where v.video_id = %s and c.channel_id = v.channel_id",
            (*previous, event.video_id),
        )
    if m.views > VIRAL_VIEWS and previous[0] <= VIRAL_VIEWS:
        return viral_outcome(event, topics)
    return Outcome()


def on_quality_check(cur: psycopg.Cursor[Any], event: Any, topics: Topics) -> Outcome:
    _require_video(cur, event)
    cur.execute(
        "update ytempire.videos set quality_score = %s, updated_at = now() where video_id = %s",
        (event.payload.quality_score, event.video_id),
    )
    return quality_outcome(event, topics)


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
        poll_records: int = POLL_RECORDS,
    ) -> None:
        self.settings = settings or get_settings()
        self.topics = topics or Topics()
        self.prefix = redis_prefix
        self.counts: Counter[str] = Counter()
        self.conn = pg_connect("loader", settings=self.settings)
        self.redis = redis_client(check=True, settings=self.settings)
        self._set_if_newer = self.redis.register_script(_SET_IF_NEWER)
        # dead letters (rare, bounded by kafka-python's own size rules) and side messages
        self.producer = kafka_producer(settings=self.settings)
        self.side_messages = SideMessages(self.settings)
        self.dead_letters = DeadLetterPublisher(
            self.producer, self.topics.dead_letter, settings=self.settings
        )
        self.consumer = kafka_consumer(
            settings=self.settings,
            group_id=group_id,
            auto_offset_reset="earliest",
            max_poll_records=poll_records,
        )
        self._rebalances = _Rebalances()
        self._refused: dict[Any, Any] = {}  # offsets a rebalance refused to commit
        self.consumer.subscribe(list(self.topics.sources), listener=self._rebalances)
        self._stopping = False

    def close(self) -> None:
        self.consumer.close()  # side messages: every committed poll's are delivered
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
        partitions (again at the end of every rebalance, and not at all while
        one is in progress: when another processor joins or leaves, no member
        gets messages for seconds) and from the last message, never from
        start-up: after a crash the group holds the dead member's
        partitions until its session times out, and a run that gave up
        before then would have done nothing. A run that waited
        ``assignment_timeout_s`` without partitions stops. Either way
        :meth:`lag` then tells what is left.

        Two stages: a thread applies one poll (:meth:`process_poll`'s work,
        waiting mostly on PostgreSQL, Redis and Kafka acks) while this one
        fetches and parses the next; a poll's offsets are committed once it
        is applied, before the next poll is handed over, so a crash still
        replays at most the polls not committed, and a replay changes nothing.
        """
        signal.signal(signal.SIGTERM, self.stop)
        started = last_activity = time.monotonic()
        assignment: set[Any] = set()
        applying: _Applying | None = None  # the poll the applier thread works on
        with ThreadPoolExecutor(1, thread_name_prefix="ytempire-apply") as applier:
            while not self._stopping:
                # While a poll is applied, take what the consumer has already fetched, at once.
                batches = self.consumer.poll(timeout_ms=0 if applying else 1_000)
                now = time.monotonic()
                current = set(self.consumer.assignment())
                if current != assignment:
                    assignment, last_activity = current, now
                    progress(f"assigned {len(current)} partition(s)")
                if self._rebalances.in_progress:  # waiting on the group is not idle
                    last_activity = now
                last_activity = max(last_activity, self._rebalances.changed_at)
                # Parsed here, beside the applier thread's work on the poll before.
                records = [r for rs in batches.values() for r in rs]
                parsed = self._parse_poll(records) if records else None
                if applying is not None:
                    self._commit_applied(applying, progress)
                    applying = None
                elif self._refused and not self._rebalances.in_progress:
                    self._commit_offsets({})  # what a rebalance refused, once it is over
                if parsed is not None:
                    offsets = {
                        tp: OffsetAndMetadata(rs[-1].offset + 1, "", rs[-1].leader_epoch)
                        for tp, rs in batches.items()
                        if rs
                    }
                    applying = _Applying(applier.submit(self._apply_poll, parsed), offsets)
                    last_activity = now
                    continue
                if idle_timeout_s is None:
                    continue
                if not assignment:
                    if now - started >= assignment_timeout_s:
                        progress(f"no partitions assigned after {assignment_timeout_s:.0f} s")
                        break
                elif now - last_activity >= idle_timeout_s:
                    break
            if applying is not None:  # stopped: the poll in flight is finished and committed
                self._commit_applied(applying, progress)
        return self.counts

    def _commit_applied(self, applying: _Applying, progress: Callable[[str], None]) -> None:
        """Wait for a poll's apply (its errors raise here) and commit its offsets: after the
        database commit, so a crash replays the poll. Offsets the group refuses because it
        is rebalancing (another processor joined or left) are not committed: whoever owns
        the partitions next replays the poll from the last committed offset, which changes
        nothing."""
        applying.future.result()
        self._commit_offsets(applying.offsets)
        progress(f"processed {sum(self.counts.values()):,} messages: {dict(self.counts)}")

    def _commit_offsets(self, offsets: dict[Any, Any]) -> None:
        """Commit ``offsets`` with any a rebalance refused before (see :meth:`_still_behind`);
        if this commit is refused too, keep them all for the next one."""
        offsets = {**self._still_behind(), **offsets}  # a partition's newer offset wins
        if not offsets:
            return
        try:
            self.consumer.commit(offsets)
        except (CommitFailedError, RebalanceInProgressError) as exc:
            self._refused = offsets
            log.warning(
                "the offsets of a processed poll were not committed (%s): retried after the "
                "rebalance where this member keeps the partition, else its new owner "
                "replays the poll, which changes nothing",
                exc,
            )

    def _still_behind(self) -> dict[Any, Any]:
        """Of the offsets a rebalance refused, those of partitions this member holds again
        whose group offset is still behind them (a member whose partition gets no further
        message would otherwise leave a lag); the others are dropped: their owner has moved
        on or replays them."""
        refused, self._refused = self._refused, {}
        if not refused:
            return {}
        held = self.consumer.assignment()
        behind = {}
        for tp, offset in refused.items():
            if tp in held:
                committed = self.consumer.committed(tp)
                if committed is None or committed < offset.offset:
                    behind[tp] = offset
        return behind

    def lag(self) -> dict[str, int]:
        """Messages left per ``topic[partition]``: end offset minus the group's committed offset.

        Over every partition of the source topics, not only this consumer's:
        a partition nobody was assigned is work left too. A partition the
        group never committed counts from its beginning offset.
        """
        return partition_lag(self.consumer, self.topics.sources, self.consumer.committed)

    def process_poll(self, records: Sequence[Any]) -> None:
        """Apply one poll's records (Kafka ``ConsumerRecord``s) and commit them together.

        Contract breaches are dead-lettered and events left to the warehouse
        counted first; the events with a handler are then applied set-based
        (:func:`streaming.processor_batch.apply_poll`, a dozen statements per
        poll). If that fails, the poll's transaction is rolled back and its
        events applied one by one, each in a savepoint with
        ``HANDLER_ATTEMPTS`` tries, so a poisonous event is dead-lettered
        and the others still go through. Side effects (Redis, side topics,
        dead letters) are flushed before the database commit: a crash
        redoes them (idempotent, or at least once keyed by
        ``source_event_id``), never loses them. Raises
        ``psycopg.OperationalError`` when the database is gone (the poll is
        replayed after a restart) and Kafka errors of the flushes.
        """
        self._apply_poll(self._parse_poll(records))

    def _parse_poll(self, records: Sequence[Any]) -> _ParsedPoll:
        """Parse a poll's records; no side effect (the run loop parses the next poll while
        the applier thread applies this one)."""
        parsed = _ParsedPoll()
        for record in records:
            event = parse_event(record.value)
            if isinstance(event, Rejected):
                parsed.rejected.append((record, event.reason))
            elif event.event_type not in HANDLERS:
                parsed.skipped[f"{SKIPPED}{event.event_type}"] += 1
            else:
                parsed.events.append((record, event))
        return parsed

    def _apply_poll(self, parsed: _ParsedPoll) -> None:
        """Apply a parsed poll (see :meth:`process_poll`)."""
        for record, reason in parsed.rejected:
            self._dead_letter(record, reason)
        self.counts.update(parsed.skipped)
        events = parsed.events
        try:
            counts = self._apply_set_based(events)
        except psycopg.OperationalError:
            # The connection is gone, or a concurrent transaction kept aborting this one
            # (POLL_ATTEMPTS times): the poll replays after a restart.
            raise
        except psycopg.Error as exc:
            log.warning(
                "the poll's %d events failed together (%s); applying them one by one",
                len(events),
                exc,
            )
            with self.conn.transaction():
                for record, event in events:
                    self.handle(record, event)
                self.side_messages.flush()
                self.dead_letters.flush()
        else:
            self.counts.update(counts)

    def _apply_set_based(self, events: Sequence[tuple[Any, Event]]) -> Counter[str]:
        """Apply a poll's events set-based in one transaction, tried again when a concurrent
        transaction aborts it (:data:`CROSSED`, ``POLL_ATTEMPTS`` tries); return
        the counts of what it applied. Other errors propagate after the rollback."""
        retrying = Retrying(
            retry=retry_if_exception_type(CROSSED),
            stop=stop_after_attempt(POLL_ATTEMPTS),
            wait=wait_random_exponential(multiplier=0.05, max=2.0),
            before_sleep=before_sleep_log(log, logging.WARNING),
            reraise=True,
        )
        for attempt in retrying:
            with attempt:
                counts: Counter[str] = Counter()
                with self.conn.pipeline() as pipeline, self.conn.transaction():
                    result = apply_poll(
                        self.conn,
                        pipeline,
                        [event for _, event in events],
                        [(r.topic, r.partition, r.offset) for r, _ in events],
                        viral_views=VIRAL_VIEWS,
                    )
                    self._poll_side_effects(events, result, counts)
                    self.side_messages.flush()  # side effects first: redone on a crash
                    self.dead_letters.flush()  # a refused dead letter resent, or raised
        return counts

    def _poll_side_effects(
        self, events: Sequence[tuple[Any, Event]], result: PollResult, counts: Counter[str]
    ) -> None:
        """Dead letters, dashboards and side messages of a set-based poll, in poll order."""
        # Of a channel's uploads in the poll only the newest (the last of equal times) can be
        # left by the compare-and-set on the event time: one script call per channel.
        dashboards: dict[str, tuple[Event, dict[str, str]]] = {}
        for i, (record, event) in enumerate(events):
            status = result.status[i]
            if status == REPLAYED:
                counts["replayed"] += 1
                continue
            if status == UNKNOWN:
                self.dead_letters.send(record, f"video_id: {_unknown(event)} [unknown_video]")
                counts["dead_lettered"] += 1
                continue
            if event.event_type == "video_uploaded":
                outcome = uploaded_outcome(event, self.topics)
                held = dashboards.get(event.channel_id)  # compared as the script compares
                if held is None or iso_z(held[0].occurred_at) <= iso_z(event.occurred_at):
                    dashboards[event.channel_id] = (event, outcome.dashboard)
                self._send(event, outcome)
            elif event.event_type == "quality_check":
                self._send(event, quality_outcome(event, self.topics))
            elif i in result.viral:
                self._send(event, viral_outcome(event, self.topics))
            counts[event.event_type] += 1
        if dashboards:
            pipe = self.redis.pipeline(transaction=False)
            for event, fields in dashboards.values():
                self._write_dashboard(event, fields, pipe)
            pipe.execute()

    def handle(self, record: Any, event: Event) -> None:
        """Apply one parsed event in its own savepoint (the per-event fallback of a poll)."""
        handler = HANDLERS[event.event_type]
        for attempt in range(1, HANDLER_ATTEMPTS + 1):
            try:
                self._apply(record, event, handler)
                return
            except UnknownVideo as exc:
                self._dead_letter(record, f"video_id: {exc} [unknown_video]")
                return
            except CROSSED as exc:
                # A concurrent transaction's fault, not the event's: never dead-lettered.
                if attempt == HANDLER_ATTEMPTS:
                    raise
                log.warning(
                    "attempt %d of %s crossed another transaction: %s", attempt, event.event_id, exc
                )
            except psycopg.OperationalError:
                raise  # the connection is gone: the poll replays after a restart
            except psycopg.Error as exc:
                log.warning("attempt %d of %s failed: %s", attempt, event.event_id, exc)
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
        self._side_effects(event, outcome)
        self.counts[event.event_type] += 1

    def _side_effects(self, event: Event, outcome: Outcome) -> None:
        if outcome.dashboard:
            self._write_dashboard(event, outcome.dashboard, self.redis)
        self._send(event, outcome)

    def _write_dashboard(self, event: Event, fields: dict[str, str], client: Any) -> None:
        """Set the channel's dashboard hash to ``fields`` unless it holds a newer event's
        (compare-and-set on the event time), and re-arm its TTL; through ``client``."""
        key = f"{self.prefix}dashboard:channel:{event.channel_id}"
        flat = [item for pair in fields.items() for item in pair]
        self._set_if_newer(
            keys=[key], args=[iso_z(event.occurred_at), DASHBOARD_TTL_S, *flat], client=client
        )

    def _send(self, event: Event, outcome: Outcome) -> None:
        """Send ``outcome``'s side messages, keyed by the event's channel."""
        for topic, message in outcome.messages:
            self.side_messages.send(topic, event.channel_id.encode(), json.dumps(message).encode())

    def _dead_letter(self, record: Any, reason: str) -> None:
        self.dead_letters.send(record, reason)
        self.counts["dead_lettered"] += 1
