"""Pure transforms of the Kafka landing: a page of records -> CSV rows of two tables.

Valid events become rows of ``raw_events.events`` (Kafka coordinates + the
parsed envelope, payload re-serialised as JSON); anything that is not JSON or
breaks the contract becomes a row of ``raw_events.dead_letters`` with the
reason (cut to :data:`ytempire.dead_letters.REASON_MAX_BYTES`, saying its full
length) and the original bytes (base64). No I/O here.

Rows are the CSV lines PostgreSQL's COPY reads (``format csv``, an empty field
is NULL in a nullable column), built with one f-string per record: this runs
once per event on the landing's hot path, where an Arrow table or the csv
module cost more than validating the event. Only fields that can hold any text
(the Kafka key, the payload, a rejection reason) are quoted; the others are
numbers, UUIDs, timestamps, Kafka topic names ([a-zA-Z0-9._-]) or strings the
contract restricts to safe characters (``event_type``, ``channel_id``).
"""

from __future__ import annotations

import base64
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, NamedTuple, Protocol, cast

from dlt.common.schema.typing import TColumnSchema
from pydantic_core import to_json

from ytempire.dead_letters import truncate_reason
from ytempire.events import Rejected, parse_event


class Record(Protocol):
    """A consumed Kafka message as the landing reads it: confluent-kafka's ``Message``.

    ``timestamp()`` is (timestamp type, epoch milliseconds).
    """

    def topic(self) -> str | None: ...
    def partition(self) -> int | None: ...
    def offset(self) -> int | None: ...
    def key(self) -> bytes | None: ...
    def value(self) -> bytes | None: ...
    def timestamp(self) -> tuple[int, int]: ...


class KafkaRecord(NamedTuple):
    """A dead-lettered message's coordinates and bytes (picklable, unlike a ``Message``),
    as :class:`ytempire.dead_letters.DeadLetterPublisher` reads them."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int  # epoch milliseconds


def _column(name: str, data_type: str, nullable: bool = True, **hints: Any) -> TColumnSchema:
    return cast(
        TColumnSchema, {"name": name, "data_type": data_type, "nullable": nullable, **hints}
    )


_COORDINATES = [
    _column("kafka_topic", "text", False),
    _column("kafka_partition", "bigint", False, precision=32),
    _column("kafka_offset", "bigint", False),
    _column("kafka_key", "text"),
    _column("kafka_timestamp", "timestamp", precision=3),
]
# dlt column schemas, in file column order (imported files carry no types of their own)
EVENTS_COLUMNS = [
    *_COORDINATES,
    _column("event_id", "text", False),
    _column("event_type", "text", False),
    _column("schema_version", "bigint", False, precision=16),
    _column("occurred_at", "timestamp", False, precision=6),
    _column("channel_id", "text", False),
    _column("video_id", "text"),
    _column("payload", "json", False),
]
DEAD_LETTERS_COLUMNS = [
    *_COORDINATES,
    _column("raw_value", "text"),
    _column("reason", "text", False),
    _column("dead_lettered_at", "timestamp", False, precision=6),
]


def csv_header(columns: list[TColumnSchema]) -> str:
    return ",".join(str(c["name"]) for c in columns) + "\n"


def quoted(text: str) -> str:
    """A CSV field holding ``text`` exactly (PostgreSQL rejects NUL in text: escaped)."""
    if "\x00" in text:
        text = text.replace("\x00", "\\x00")
    return '"' + text.replace('"', '""') + '"'


@lru_cache(maxsize=4096)
def _utc_second(epoch_seconds: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch_seconds))


def kafka_time(epoch_ms: int) -> str:
    """Kafka's epoch milliseconds as UTC text; records of one second share its formatting."""
    seconds, millis = divmod(epoch_ms, 1000)
    return f"{_utc_second(seconds)}.{millis:03d}Z"


@dataclass
class Page:
    """One page split into the CSV lines of its two tables (no header)."""

    events: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    rejected: list[tuple[KafkaRecord, str]] = field(default_factory=list)
    duplicates: int = 0


# Keys up to this many bytes are memoised (a channel's id keys all its events); a key can be
# megabytes, and the cache must stay small whatever the topic holds.
_MEMO_KEY_BYTES = 64


def _key_field(raw: bytes) -> str:
    return quoted(raw.decode("utf-8", errors="backslashreplace"))


_memo_key_field = lru_cache(maxsize=8192)(_key_field)


def _key(raw: bytes) -> str:
    """The Kafka key as a CSV field."""
    return _memo_key_field(raw) if len(raw) <= _MEMO_KEY_BYTES else _key_field(raw)


def uuid_text(value: uuid.UUID) -> str:
    """``str(value)`` (canonical, lower case), written by pydantic-core in about half of
    ``UUID.__str__``'s time, which runs twice per event on the hot path."""
    return to_json(value)[1:-1].decode()


def split_page(records: Iterable[Record], seen_event_ids: set[str], landed_at: datetime) -> Page:
    """Parse ``records`` into event and dead-letter rows.

    ``seen_event_ids`` spans the load: an event id already seen in it (a
    producer retry republished at a later offset) is counted and skipped, so
    a load's file rarely carries one event twice (the destination's keys
    would drop it anyway, on its slower path).
    """
    page = Page()
    append, seen, parse = page.events.append, seen_event_ids, parse_event
    last_ms, last_time = None, ""
    for record in records:
        value = record.value()
        parsed = parse(value)
        if isinstance(parsed, Rejected):
            _dead_letter(page, record, parsed.reason, landed_at)
            continue
        event_id = uuid_text(parsed.event_id)
        if event_id in seen:
            page.duplicates += 1
            continue
        seen.add(event_id)
        ms = record.timestamp()[1]
        if ms != last_ms:  # records of one producer batch share it
            last_ms, last_time = ms, kafka_time(ms)
        key, video_id, payload = record.key(), parsed.video_id, parsed.payload
        payload_json = payload.__pydantic_serializer__.to_json(payload).decode()
        append(
            f"{record.topic()},{record.partition()},{record.offset()},"
            f"{'' if key is None else _key(key)},{last_time},{event_id},{parsed.event_type},"
            f"{parsed.schema_version},{parsed.occurred_at.isoformat()},{parsed.channel_id},"
            f"{'' if video_id is None else uuid_text(video_id)},{quoted(payload_json)}\n"
        )
    return page


def _dead_letter(page: Page, message: Record, reason: str, landed_at: datetime) -> None:
    record = KafkaRecord(
        str(message.topic()),
        int(message.partition() or 0),
        int(message.offset() or 0),
        message.key(),
        message.value(),
        message.timestamp()[1],
    )
    value = record.value
    raw = "" if value is None else base64.b64encode(value).decode()
    page.dead.append(
        f"{record.topic},{record.partition},{record.offset},"
        f"{'' if record.key is None else _key(record.key)},{kafka_time(record.timestamp)},"
        f"{raw},{quoted(truncate_reason(reason))},{landed_at.isoformat()}\n"
    )
    page.rejected.append((record, reason))
