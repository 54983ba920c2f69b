"""Pure transforms of the Kafka landing: a page of records -> two Arrow tables.

Valid events become rows of ``raw_events.events`` (Kafka coordinates + the
parsed envelope, payload re-serialised as JSON); anything that is not JSON or
breaks the contract becomes a row of ``raw_events.dead_letters`` with the
reason and the original bytes (base64). No I/O here.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import pyarrow as pa

from ytempire.events import Rejected, parse_event


class Record(Protocol):
    """The fields of a kafka-python ``ConsumerRecord`` the landing reads."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int


_TS = pa.timestamp("us", tz="UTC")
_COORDINATES = [
    pa.field("kafka_topic", pa.string(), nullable=False),
    pa.field("kafka_partition", pa.int32(), nullable=False),
    pa.field("kafka_offset", pa.int64(), nullable=False),
    pa.field("kafka_key", pa.string()),
    # Kafka's epoch milliseconds go into Arrow as they are: no datetime per record.
    pa.field("kafka_timestamp", pa.timestamp("ms", tz="UTC")),
]
EVENTS_SCHEMA = pa.schema(
    [
        *_COORDINATES,
        pa.field("event_id", pa.string(), nullable=False),
        pa.field("event_type", pa.string(), nullable=False),
        pa.field("schema_version", pa.int16(), nullable=False),
        pa.field("occurred_at", _TS, nullable=False),
        pa.field("channel_id", pa.string(), nullable=False),
        pa.field("video_id", pa.string()),
        pa.field("payload", pa.string(), nullable=False),
    ]
)
DEAD_LETTERS_SCHEMA = pa.schema(
    [
        *_COORDINATES,
        pa.field("raw_value", pa.string()),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("dead_lettered_at", _TS, nullable=False),
    ]
)


@dataclass
class Page:
    """Columns of one page, filled record by record, then frozen to Arrow."""

    events: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in EVENTS_SCHEMA.names}
    )
    dead: dict[str, list[Any]] = field(
        default_factory=lambda: {name: [] for name in DEAD_LETTERS_SCHEMA.names}
    )
    rejected: list[tuple[Record, str]] = field(default_factory=list)
    duplicates: int = 0

    def events_table(self) -> pa.Table:
        return pa.Table.from_pydict(self.events, schema=EVENTS_SCHEMA)

    def dead_letters_table(self) -> pa.Table:
        return pa.Table.from_pydict(self.dead, schema=DEAD_LETTERS_SCHEMA)


def _key(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", errors="backslashreplace")


def _coordinates(columns: dict[str, list[Any]], record: Record) -> None:
    columns["kafka_topic"].append(record.topic)
    columns["kafka_partition"].append(record.partition)
    columns["kafka_offset"].append(record.offset)
    columns["kafka_key"].append(_key(record.key))
    columns["kafka_timestamp"].append(record.timestamp)


def split_page(records: Iterable[Record], seen_event_ids: set[str], landed_at: datetime) -> Page:
    """Parse ``records`` into event and dead-letter columns.

    ``seen_event_ids`` spans the load: an event id already seen in it (a
    producer retry republished at a later offset) is counted and skipped, so
    a load never carries one event twice.
    """
    page = Page()
    ev, dead = page.events, page.dead
    for record in records:
        parsed = parse_event(record.value)
        if isinstance(parsed, Rejected):
            _coordinates(dead, record)
            value = record.value
            dead["raw_value"].append(None if value is None else base64.b64encode(value).decode())
            dead["reason"].append(parsed.reason)
            dead["dead_lettered_at"].append(landed_at)
            page.rejected.append((record, parsed.reason))
            continue
        event_id = str(parsed.event_id)
        if event_id in seen_event_ids:
            page.duplicates += 1
            continue
        seen_event_ids.add(event_id)
        _coordinates(ev, record)
        ev["event_id"].append(event_id)
        ev["event_type"].append(parsed.event_type)
        ev["schema_version"].append(parsed.schema_version)
        ev["occurred_at"].append(parsed.occurred_at)
        ev["channel_id"].append(parsed.channel_id)
        ev["video_id"].append(None if parsed.video_id is None else str(parsed.video_id))
        ev["payload"].append(parsed.payload.model_dump_json())
    return page


def dead_letter_headers(record: Record, reason: str) -> list[tuple[str, bytes]]:
    """Headers of a dead letter on the dead-letter topic (its value is the original bytes)."""
    return [
        ("reason", reason.encode()),
        ("source_topic", record.topic.encode()),
        ("source_partition", str(record.partition).encode()),
        ("source_offset", str(record.offset).encode()),
    ]
