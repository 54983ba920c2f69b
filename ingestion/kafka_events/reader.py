"""Bounded reads of Kafka partitions with kafka-python: pages up to high-water marks.

The landing owns its offsets (dlt state), so the consumer has no group, is
assigned every partition of the topics and seeks to the stored offsets. A read
stops at ``stop_at`` -- the high-water marks captured when the run began -- so
a run always ends, however fast producers write.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from ytempire.clients import kafka_consumer
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings

log = logging.getLogger(__name__)

# "topic:partition" -> the next offset to read.
PartitionOffsets = dict[str, int]
POLL_TIMEOUT_MS = 1_000
# Polls that return nothing before a partition below its high-water mark is
# declared stuck (e.g. a transaction marker or a deleted segment).
MAX_EMPTY_POLLS = 30


def partition_name(topic: str, partition: int) -> str:
    return f"{topic}:{partition}"


def high_water_marks(topics: Sequence[str], settings: Settings) -> PartitionOffsets:
    """The end offset of every partition of ``topics`` now."""
    from kafka import TopicPartition

    consumer = kafka_consumer(settings=settings)
    try:
        partitions: list[TopicPartition] = []
        for topic in topics:
            ids = consumer.partitions_for_topic(topic)
            if not ids:
                raise YTEmpireError(
                    f"Kafka topic {topic!r} does not exist at {settings.kafka_bootstrap}. "
                    "Next: run `ytempire topics create` or check the topic name."
                )
            partitions.extend(TopicPartition(topic, p) for p in sorted(ids))
        ends = consumer.end_offsets(partitions)
        return {partition_name(tp.topic, tp.partition): end for tp, end in ends.items()}
    finally:
        consumer.close()


def _consumer(settings: Settings, page_size: int) -> Any:
    return kafka_consumer(
        settings=settings,
        auto_offset_reset="earliest",
        max_poll_records=page_size,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        receive_buffer_bytes=4 * 1024 * 1024,
        check_crcs=False,
    )


def read_pages(
    topics: Sequence[str],
    offsets: Mapping[str, int],
    stop_at: Mapping[str, int] | None,
    max_messages: int | None,
    page_size: int,
    settings: Settings,
) -> Iterator[tuple[list[Any], PartitionOffsets]]:
    """Yield (records, next offsets of the partitions they came from) pages."""
    from kafka import TopicPartition

    ends = dict(stop_at) if stop_at is not None else high_water_marks(topics, settings)
    ends = {name: end for name, end in ends.items() if name.rsplit(":", 1)[0] in topics}
    pending = {name: end for name, end in ends.items() if offsets.get(name, 0) < end}
    if not pending:
        return
    consumer = _consumer(settings, page_size)
    try:
        assignment = {}
        for name in pending:
            topic, partition = name.rsplit(":", 1)
            assignment[name] = TopicPartition(topic, int(partition))
        consumer.assign(list(assignment.values()))
        for name, tp in assignment.items():
            consumer.seek(tp, offsets.get(name, 0))
        yield from _pages(consumer, assignment, pending, max_messages, page_size)
    finally:
        consumer.close()


def _pages(
    consumer: Any,
    assignment: dict[str, Any],
    pending: dict[str, int],
    max_messages: int | None,
    page_size: int,
) -> Iterator[tuple[list[Any], PartitionOffsets]]:
    budget = max_messages if max_messages is not None else float("inf")
    page: list[Any] = []
    page_offsets: PartitionOffsets = {}
    empty_polls = 0
    while pending and budget > 0:
        batches = consumer.poll(timeout_ms=POLL_TIMEOUT_MS, max_records=page_size)
        empty_polls = 0 if batches else empty_polls + 1
        if empty_polls > MAX_EMPTY_POLLS:
            raise YTEmpireError(
                f"no messages for {MAX_EMPTY_POLLS}s below the high-water marks of "
                f"{sorted(pending)}; the partitions may be truncated. Next: check the "
                "topic's retention and rerun."
            )
        for tp, records in batches.items():
            name = partition_name(tp.topic, tp.partition)
            end = pending.get(name)
            if end is None:
                continue
            in_range = [r for r in records if r.offset < end]
            kept = in_range[: int(min(budget, len(in_range)))]
            if kept:
                page.extend(kept)
                budget -= len(kept)
                page_offsets[name] = kept[-1].offset + 1
            if len(kept) == len(in_range) and (
                page_offsets.get(name, 0) >= end or consumer.position(tp) >= end
            ):
                pending.pop(name)
                consumer.pause(tp)
                page_offsets[name] = end
        if len(page) >= page_size or not pending or budget <= 0:
            if page or page_offsets:
                yield page, page_offsets
            page, page_offsets = [], {}
    if page or page_offsets:
        yield page, page_offsets
