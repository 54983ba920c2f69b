"""Bounded reads of Kafka partitions with librdkafka: pages up to high-water marks.

The landing owns its offsets (dlt state), so the consumer is assigned every
partition of the topics at the stored offsets and commits nothing (librdkafka
wants a group id all the same; no group is joined). A read stops at
``stop_at`` -- the high-water marks captured when the run began -- so a run
always ends, however fast producers write.

The client is confluent-kafka (librdkafka), as for the event processor's
producer: its threads fetch and decompress without the GIL and decode each
message in C. With kafka-python, whose record decoding is Python, a message
cost the reader 11.5 us of CPU against 7.3 us here (consume only, gzip), a
third of the landing's per-event budget that was not the landing's own work.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ingestion.kafka_events.helpers import Record
from ytempire.clients import CONNECT_TIMEOUT_S, librdkafka_consumer
from ytempire.errors import ServiceUnavailable, YTEmpireError
from ytempire.settings import Settings

log = logging.getLogger(__name__)

# "topic:partition" -> the next offset to read.
PartitionOffsets = dict[str, int]
POLL_TIMEOUT_S = 1.0
# Polls that return nothing before a partition below its high-water mark is
# declared stuck (e.g. a transaction marker or a deleted segment).
MAX_EMPTY_POLLS = 30
# librdkafka needs one; the landing never joins the group nor commits to it.
GROUP_ID = "ytempire-landing"
# What one fetch may bring: per partition (a larger first batch still comes whole, so
# no message size stalls the read) and per request; what librdkafka queues ahead. A
# 16 MiB fetch (kafka-python's setting before) took a reader's peak RSS from 166 to
# 237 MiB on 200k events for no CPU gained (17.4-17.7 us an event either way).
MAX_PARTITION_FETCH_BYTES = 4 * 1024 * 1024
FETCH_MAX_BYTES = 4 * 1024 * 1024
QUEUED_MAX_KBYTES = 8 * 1024
# How long librdkafka waits before fetching again for a partition whose local queue was
# over QUEUED_MAX_KBYTES: its default (1 s) stalled a reader for ~1 s each time it caught
# up with a full queue -- consume-only of a 200k-event topic took 1.90 s, 0.99 s of it
# waiting for its last page; 0.92-0.94 s at 20 ms (same queue bound, so the same memory).
FETCH_QUEUE_BACKOFF_MS = 20


def partition_name(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


def _kafka_error(settings: Settings, exc: Exception) -> ServiceUnavailable:
    return ServiceUnavailable("Kafka", settings.kafka_bootstrap, exc)


def high_water_marks(topics: Sequence[str], settings: Settings) -> PartitionOffsets:
    """The end offset of every partition of ``topics`` now.

    Raises :class:`YTEmpireError` for a topic that does not exist and
    :class:`ServiceUnavailable` when the broker does not answer within
    ``CONNECT_TIMEOUT_S`` seconds.
    """
    from confluent_kafka import KafkaException, TopicPartition

    consumer = librdkafka_consumer(GROUP_ID, settings=settings)
    try:
        ends: PartitionOffsets = {}
        for topic in topics:
            try:
                found = consumer.list_topics(topic, timeout=CONNECT_TIMEOUT_S).topics.get(topic)
            except KafkaException as exc:
                raise _kafka_error(settings, exc) from exc
            if found is None or found.error is not None or not found.partitions:
                raise YTEmpireError(
                    f"Kafka topic {topic!r} does not exist at {settings.kafka_bootstrap}. "
                    "Next: run `ytempire topics create` or check the topic name."
                )
            for partition in sorted(found.partitions):
                try:
                    _, end = consumer.get_watermark_offsets(
                        TopicPartition(topic, partition), timeout=CONNECT_TIMEOUT_S
                    )
                except KafkaException as exc:
                    raise _kafka_error(settings, exc) from exc
                ends[partition_name(topic, partition)] = end
        return ends
    finally:
        consumer.close()


def _consumer(settings: Settings) -> Any:
    return librdkafka_consumer(
        GROUP_ID,
        settings=settings,
        **{
            "fetch.max.bytes": FETCH_MAX_BYTES,
            "max.partition.fetch.bytes": MAX_PARTITION_FETCH_BYTES,
            "queued.max.messages.kbytes": QUEUED_MAX_KBYTES,
            "fetch.queue.backoff.ms": FETCH_QUEUE_BACKOFF_MS,
            "socket.receive.buffer.bytes": 4 * 1024 * 1024,
        },
    )


def read_pages(
    topics: Sequence[str],
    offsets: Mapping[str, int],
    stop_at: Mapping[str, int] | None,
    max_messages: int | None,
    page_size: int,
    settings: Settings,
) -> Iterator[tuple[list[Record], PartitionOffsets]]:
    """Yield (records, next offsets of the partitions they came from) pages.

    A page holds at most ``page_size`` records, in offset order within each
    partition.
    """
    from confluent_kafka import TopicPartition

    ends = dict(stop_at) if stop_at is not None else high_water_marks(topics, settings)
    ends = {name: end for name, end in ends.items() if name.rsplit(":", 1)[0] in topics}
    pending: dict[tuple[str, int], int] = {}
    start: dict[tuple[str, int], int] = {}
    for name, end in ends.items():
        if offsets.get(name, 0) < end:
            topic, partition = name.rsplit(":", 1)
            pending[(topic, int(partition))] = end
            start[(topic, int(partition))] = offsets.get(name, 0)
    if not pending:
        return
    consumer = _consumer(settings)
    try:
        consumer.assign([TopicPartition(t, p, at) for (t, p), at in start.items()])
        yield from _pages(consumer, pending, start, max_messages, page_size)
    finally:
        consumer.close()


def _pages(
    consumer: Any,
    pending: dict[tuple[str, int], int],
    start: dict[tuple[str, int], int],
    max_messages: int | None,
    page_size: int,
) -> Iterator[tuple[list[Record], PartitionOffsets]]:
    from confluent_kafka import KafkaError, TopicPartition

    budget = max_messages if max_messages is not None else float("inf")
    # the next offset of each pending partition, to ask only for what is left: librdkafka's
    # consume waits out its timeout for a batch it cannot fill
    position = dict(start)
    page: list[Record] = []
    page_offsets: dict[tuple[str, int], int] = {}
    empty_polls = 0
    while pending and budget > 0:
        left = sum(end - position[tp] for tp, end in pending.items())
        want = int(min(page_size - len(page), budget, left))  # >= 1
        messages = consumer.consume(num_messages=want, timeout=POLL_TIMEOUT_S)
        empty_polls = 0 if messages else empty_polls + 1
        if empty_polls > MAX_EMPTY_POLLS:
            raise YTEmpireError(
                f"no messages for {MAX_EMPTY_POLLS}s below the high-water marks of "
                f"{sorted(partition_name(*tp) for tp in pending)}; the partitions may be "
                "truncated. Next: check the topic's retention and rerun."
            )
        # the messages themselves go on (copying each one's fields into a tuple cost more
        # than the rest of this loop); never more than the budget: ``want`` was at most it
        kept, last, before = page.append, {}, len(page)
        for message in messages:
            if (error := message.error()) is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    continue
                raise YTEmpireError(
                    f"reading Kafka partition {message.topic()}:{message.partition()} failed: "
                    f"{error.str()}. Next: check the broker and rerun."
                )
            tp, offset = (message.topic(), message.partition()), message.offset()
            if offset < pending.get(tp, -1):  # below the mark, of a partition not done
                kept(message)
                last[tp] = offset
        budget -= len(page) - before
        for tp, offset in last.items():
            page_offsets[tp] = position[tp] = offset + 1
        for tp in last:
            end = pending[tp]
            if position[tp] < end:
                # below the mark: the position passes markers and compacted gaps
                (at,) = consumer.position([TopicPartition(*tp)])
                if at.offset < end:
                    continue
            pending.pop(tp)
            consumer.pause([TopicPartition(*tp)])
            page_offsets[tp] = end
        if len(page) >= page_size or not pending or budget <= 0:
            if page or page_offsets:
                yield page, {partition_name(*tp): at for tp, at in page_offsets.items()}
            page, page_offsets = [], {}
    if page or page_offsets:
        yield page, {partition_name(*tp): at for tp, at in page_offsets.items()}
