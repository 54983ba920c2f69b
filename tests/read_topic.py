"""Read a topic to its end as it is now: the suite's one way to count what a component published."""

from __future__ import annotations

import time
from typing import Any

from kafka import TopicPartition

from ytempire.clients import kafka_consumer
from ytempire.settings import Settings


def read_topic(topic: str, settings: Settings, *, hang_s: float = 300) -> list[Any]:
    """Every message of ``topic`` up to its high-water marks now, in partition order.

    Reads by assignment until each partition's position reaches its end
    offset, so the result does not depend on how fast the broker answers (a
    consumer timeout would return early on a loaded machine); ``hang_s`` only
    fails a broker that stopped answering.
    """
    consumer = kafka_consumer(settings=settings, auto_offset_reset="earliest")
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        end = consumer.end_offsets(partitions)
        messages: list[Any] = []
        deadline = time.monotonic() + hang_s
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            assert time.monotonic() < deadline, f"{topic}: no progress to its end offsets"
            for records in consumer.poll(timeout_ms=500).values():
                messages.extend(records)
        return messages
    finally:
        consumer.close()


def drain(processor: Any, *, idle_s: float = 4, hang_s: float = 600) -> Any:
    """Run ``processor`` until its group's lag is zero; return its counts.

    An idle timeout alone ends a run when a poll comes back empty, which a
    loaded broker can do with work left; the observed lag decides instead, and
    ``hang_s`` only fails a processor that stopped making progress.
    """
    deadline = time.monotonic() + hang_s
    counts = processor.run(idle_timeout_s=idle_s)
    while any(processor.lag().values()):
        assert time.monotonic() < deadline, f"lag left after {hang_s:.0f} s: {processor.lag()}"
        counts = processor.run(idle_timeout_s=idle_s)
    return counts
