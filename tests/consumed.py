"""Kafka messages as the landing's librdkafka reader hands them over, built without a broker."""

from __future__ import annotations

from confluent_kafka import TIMESTAMP_CREATE_TIME, Message


def consumed_message(
    offset: int, value: bytes, *, topic: str = "t", timestamp_ms: int = 1_700_000_000_000
) -> Message:
    """A consumed ``confluent_kafka.Message`` of partition 0 at ``offset``, stamped at
    ``timestamp_ms`` (milliseconds since the epoch, producer create time)."""
    return Message(
        topic=topic,
        partition=0,
        offset=offset,
        value=value,
        timestamp=(TIMESTAMP_CREATE_TIME, timestamp_ms),
    )
