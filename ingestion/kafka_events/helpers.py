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
from pydantic import BaseModel

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
    """One page split into row tuples (in schema column order), then frozen to Arrow.

    Rows are tuples rather than per-column appends: one append per record, and
    Arrow builds each column from a single transposed sequence.
    """

    events: list[tuple[Any, ...]] = field(default_factory=list)
    dead: list[tuple[Any, ...]] = field(default_factory=list)
    rejected: list[tuple[Record, str]] = field(default_factory=list)
    duplicates: int = 0

    def events_table(self) -> pa.Table:
        return _table(self.events, EVENTS_SCHEMA, _EVENT_TEXT_COLUMNS)

    def dead_letters_table(self) -> pa.Table:
        return _table(self.dead, DEAD_LETTERS_SCHEMA, frozenset())


# Columns carried as ISO-8601 text and parsed by Arrow (C++) into timestamps: building
# Arrow timestamps from Python datetimes costs more than validating the event.
_EVENT_TEXT_COLUMNS = frozenset({"occurred_at"})


def _table(
    rows: list[tuple[Any, ...]], schema: pa.Schema, text_columns: frozenset[str]
) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
    arrays = []
    for values, column in zip(columns, schema, strict=True):
        if column.name in text_columns:
            arrays.append(pa.array(values, type=pa.string()).cast(column.type))
        else:
            arrays.append(pa.array(values, type=column.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _json(model: BaseModel) -> str:
    """``model.model_dump_json()`` without its Python wrapper (a third of its cost)."""
    return model.__pydantic_serializer__.to_json(model).decode()


def _key(raw: bytes | None) -> str | None:
    return None if raw is None else raw.decode("utf-8", errors="backslashreplace")


def split_page(records: Iterable[Record], seen_event_ids: set[str], landed_at: datetime) -> Page:
    """Parse ``records`` into event and dead-letter rows.

    ``seen_event_ids`` spans the load: an event id already seen in it (a
    producer retry republished at a later offset) is counted and skipped, so
    a load never carries one event twice.
    """
    page = Page()
    events, seen = page.events, seen_event_ids
    for record in records:
        parsed = parse_event(record.value)
        if isinstance(parsed, Rejected):
            _dead_letter(page, record, parsed.reason, landed_at)
            continue
        event_id = str(parsed.event_id)
        if event_id in seen:
            page.duplicates += 1
            continue
        seen.add(event_id)
        video_id = parsed.video_id
        events.append(
            (
                record.topic,
                record.partition,
                record.offset,
                None if record.key is None else _key(record.key),
                record.timestamp,
                event_id,
                parsed.event_type,
                parsed.schema_version,
                parsed.occurred_at.isoformat(),
                parsed.channel_id,
                None if video_id is None else str(video_id),
                _json(parsed.payload),
            )
        )
    return page


def _dead_letter(page: Page, record: Record, reason: str, landed_at: datetime) -> None:
    value = record.value
    page.dead.append(
        (
            record.topic,
            record.partition,
            record.offset,
            _key(record.key),
            record.timestamp,
            None if value is None else base64.b64encode(value).decode(),
            reason,
            landed_at,
        )
    )
    page.rejected.append((record, reason))


def dead_letter_headers(record: Record, reason: str) -> list[tuple[str, bytes]]:
    """Headers of a dead letter on the dead-letter topic (its value is the original bytes)."""
    return [
        ("reason", reason.encode()),
        ("source_topic", record.topic.encode()),
        ("source_partition", str(record.partition).encode()),
        ("source_offset", str(record.offset).encode()),
    ]
