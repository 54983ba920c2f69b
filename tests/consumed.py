"""Kafka messages as the landing's librdkafka reader hands them over, built without a broker."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

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


_PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
_INTEGERS = {"kafka_partition", "kafka_offset", "schema_version"}
_INSTANTS = {"kafka_timestamp", "occurred_at"}


def binary_row(row: bytes, names: Sequence[str]) -> dict[str, Any]:
    """One tuple of PostgreSQL's binary COPY format as the landing writes it for
    raw_events.events, read back: ``names`` -> int, datetime (UTC), str (payload: its JSON
    text) or None."""
    (count,), at = struct.unpack_from(">h", row), 2
    assert count == len(names)
    out: dict[str, Any] = {}
    for name in names:
        (length,) = struct.unpack_from(">i", row, at)
        at += 4
        if length < 0:
            out[name] = None
            continue
        field = row[at : at + length]
        at += length
        if name in _INTEGERS:
            out[name] = int.from_bytes(field, "big", signed=True)
        elif name in _INSTANTS:
            out[name] = _PG_EPOCH + timedelta(
                microseconds=int.from_bytes(field, "big", signed=True)
            )
        elif name == "payload":
            assert field[:1] == b"\x01"  # jsonb's version
            out[name] = field[1:].decode()
        else:
            out[name] = field.decode()
    assert at == len(row)
    return out
