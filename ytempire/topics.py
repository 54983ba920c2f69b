"""The Kafka topics of the warehouse, in one place: names, partitions, creation and lag.

Producers and consumers refer to these constants instead of repeating topic
names; ``ytempire topics create`` (run by ``make setup``) creates them
(:func:`ensure_topics`). Which topic carries an event type is the event
contract's rule (:func:`ytempire.events.topic_for`).

Every topic stores its messages compressed with zstd (:data:`COMPRESSION`):
the project's producers send zstd, and the topics say so in their own
``compression.type``, so the broker recompresses what another producer sends
(gzip, lz4, snappy or none) and every consumer reads one codec.

Lag here is the consumer-group convention (what ``kafka-consumer-groups.sh
--describe`` prints): per partition, the log-end offset minus the offset the
reader committed; a partition it never committed counts from its beginning
offset, since a new group with ``auto.offset.reset=earliest`` reads it all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ytempire.errors import YTEmpireError

if TYPE_CHECKING:  # settings and clients import this module's constants
    from ytempire.settings import Settings

WEEK_MS = 7 * 24 * 3600 * 1000
# The codec of every message on the platform's topics (Kafka's ``compression.type``: the
# producers' setting and the topics'). zstd against gzip, the codec before, on the same 200k
# simulated events (6 partitions; the landing's librdkafka reader, consume only, 3 runs
# each): 2.0-2.4 us of CPU a message to read against 5.2-5.7 us, in 15.0 MB against 15.9 MB
# on disk (lz4 1.8-2.0 us in 26.1 MB; none 1.7 us in 79 MB). Decompression was 60 % of the
# landing reader's Kafka cost; the whole landing went from ~62k to ~80k events/s.
COMPRESSION = "zstd"


@dataclass(frozen=True)
class Topic:
    """A platform topic: its name, partitions and the topic configs it is created with
    (``compression.type`` is always :data:`COMPRESSION`)."""

    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)

    @property
    def topic_configs(self) -> dict[str, str]:
        """Every topic config this topic declares (``config``), ``compression.type`` included."""
        return {"compression.type": COMPRESSION, **self.config}


VIDEO_EVENTS = Topic("video-events", 6)
CHANNEL_EVENTS = Topic("channel-events", 3)
USER_EVENTS = Topic("user-events", 3)
VIDEO_ANALYTICS = Topic("video-analytics", 3)
NOTIFICATIONS = Topic("notifications", 1)
ERROR_QUEUE = Topic("error-queue", 1)
ALERTS = Topic("alerts", 1)
ANOMALY_ALERTS = Topic("anomaly-alerts", 1)
# Dead letters are evidence: keep them four weeks rather than the broker default.
DEAD_LETTER = Topic("dead-letter", 1, {"retention.ms": str(4 * WEEK_MS)})

ALL_TOPICS: tuple[Topic, ...] = (
    VIDEO_EVENTS,
    CHANNEL_EVENTS,
    USER_EVENTS,
    VIDEO_ANALYTICS,
    NOTIFICATIONS,
    ERROR_QUEUE,
    ALERTS,
    ANOMALY_ALERTS,
    DEAD_LETTER,
)


def ensure_topics(
    topics: Iterable[Topic] = ALL_TOPICS, settings: Settings | None = None
) -> list[str]:
    """Create the topics that do not exist yet and set the declared configs
    (:attr:`Topic.topic_configs`) of those that do; return the names created.

    An existing topic keeps its partitions and any config it does not declare
    (Kafka's incremental alter: only the declared keys are set), so a topic
    created by an earlier release takes up ``compression.type`` here; its
    messages already written stay as they were written.
    """
    from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

    from ytempire.clients import kafka_admin

    admin = kafka_admin(settings=settings)
    try:
        existing = set(admin.list_topics())
        new = [
            NewTopic(
                t.name,
                num_partitions=t.partitions,
                replication_factor=1,
                topic_configs=t.topic_configs,
            )
            for t in topics
            if t.name not in existing
        ]
        if new:
            admin.create_topics(new, timeout_ms=30_000)
            admin.wait_for_topics([t.name for t in new])
        if kept := [t for t in topics if t.name in existing]:
            results = admin.alter_configs(
                [ConfigResource(ConfigResourceType.TOPIC, t.name, t.topic_configs) for t in kept]
            )
            failed = {n: r for n, r in results.get("topic", {}).items() if r != "OK"}
            if failed:
                raise YTEmpireError(
                    f"setting the configs of Kafka topics {sorted(failed)} failed: {failed}. "
                    "Next: check the broker's log and rerun `ytempire topics create`."
                )
        return [t.name for t in new]
    finally:
        admin.close()


def partition_lag(
    consumer: Any, topics: Sequence[str], committed: Callable[[Any], int | None]
) -> dict[str, int]:
    """Messages left per ``"topic[partition]"`` over every partition of ``topics``.

    ``consumer`` is any kafka-python consumer (it only looks up offsets);
    ``committed(TopicPartition)`` is the reader's next offset, or None if it
    never committed one. A missing topic has no partitions and no entry.
    """
    from kafka import TopicPartition

    partitions = [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer.partitions_for_topic(topic) or ())
    ]
    if not partitions:
        return {}
    ends = consumer.end_offsets(partitions)
    starts = consumer.beginning_offsets(partitions)
    lag = {}
    for tp in partitions:
        position = committed(tp)
        position = starts[tp] if position is None or position < 0 else position
        lag[f"{tp.topic}[{tp.partition}]"] = max(0, ends[tp] - position)
    return lag


def consumer_group_lag(
    group_id: str, topics: Sequence[str], settings: Settings | None = None
) -> dict[str, int]:
    """The lag of consumer group ``group_id`` per ``"topic[partition]"``, read from the broker.

    Does not join the group (no rebalance of its members); works whether or
    not a member runs. Raises ``ServiceUnavailable`` if Kafka cannot be reached.
    """
    from ytempire.clients import kafka_consumer

    consumer = kafka_consumer(settings=settings, group_id=group_id, request_timeout_ms=10_000)
    try:
        return partition_lag(consumer, topics, consumer.committed)
    finally:
        consumer.close(autocommit=False)


def lag_by_topic(lag: Mapping[str, int]) -> dict[str, int]:
    """Sum a per-partition lag (``"topic[partition]"`` keys) per topic, in key order."""
    totals: dict[str, int] = {}
    for key, n in lag.items():
        topic = key.rsplit("[", 1)[0]
        totals[topic] = totals.get(topic, 0) + n
    return totals


def consumer_group_members(group_id: str, settings: Settings | None = None) -> int:
    """How many members group ``group_id`` has, by the broker's account (0: none or unknown)."""
    from ytempire.clients import kafka_admin

    admin = kafka_admin(settings=settings, request_timeout_ms=10_000)
    try:
        described = admin.describe_groups([group_id])
    finally:
        admin.close()
    return len(described.get(group_id, {}).get("members") or ())
