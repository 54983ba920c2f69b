"""Dead letters that always fit the dead-letter topic: bounded by construction.

A consumer that cannot use a message (it breaks the event contract, it names
an unknown video, its handler keeps failing) republishes it to ``dead-letter``
and moves on. Whatever arrived, that republished record must be accepted, or
the consumer stops on the message it meant to set aside: a 260 KB event with
20,000 unknown fields gives a 1.48 MB reason, and a record over the producer's
``max_request_size`` (1 MiB) or the topic's ``max.message.bytes`` is refused.

So a dead letter is built to fit (:func:`bounded_dead_letter`):

* the reason header is cut to :data:`REASON_MAX_BYTES` of UTF-8, the cut
  saying so, and ``reason_length`` keeps the full reason's length in
  characters;
* ``source_topic``/``source_partition``/``source_offset`` give the source
  coordinates, ``value_length`` the value's size in bytes;
* the original key and value ride along when the record still fits the
  limit (:func:`record_limit`); otherwise they are left out and
  ``value_omitted``/``key_omitted`` say why: the original stays readable at
  its coordinates (for the source topic's retention), and the Kafka landing
  keeps every dead letter's full value in ``raw_events.dead_letters``.

The limit is the smaller of the producer's ``max_request_size`` and the
topic's effective ``max.message.bytes`` (its own setting or the broker's
``message.max.bytes``), read from the broker when the publisher starts, less
a margin for the batch header and compression overhead. A record the broker
still refuses as too large (the topic's limit lowered since) is published
again in its minimal form (coordinates and a 1 KiB reason); only a topic that
refuses even that stops the consumer, with an error naming the setting.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ytempire.errors import YTEmpireError

if TYPE_CHECKING:
    from ytempire.settings import Settings

log = logging.getLogger(__name__)

# The reason header's bound: a few hundred field errors, enough to see what is wrong.
REASON_MAX_BYTES = 8 * 1024
MINIMAL_REASON_BYTES = 1024
# What the producer's own limit starts from (kafka-python's default max_request_size).
DEFAULT_MAX_REQUEST_SIZE = 1024 * 1024
# Room for the record batch header and compression overhead, out of the limit.
_MARGIN_BYTES = 1024


class SourceRecord(Protocol):
    """The fields of a kafka-python ``ConsumerRecord`` a dead letter is built from."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    """One record for the dead-letter topic."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]]

    @property
    def size(self) -> int:
        """Upper bound of the record's size in a batch, as the producer counts it."""
        return record_size(self.key, self.value, self.headers)


def record_size(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]
) -> int:
    """kafka-python's own upper bound of one record's serialized size (magic v2, bytes)."""
    from kafka.record.default_records import DefaultRecordBatchBuilder

    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, list(headers)))


def truncate_reason(reason: str, max_bytes: int = REASON_MAX_BYTES) -> str:
    """``reason`` cut to at most ``max_bytes`` of UTF-8, ending with what was cut.

    A reason that fits is returned unchanged; a cut one ends with
    ``" ... [reason truncated: 1,480,113 characters in all]"``.
    """
    encoded = reason.encode("utf-8", errors="replace")
    if len(encoded) <= max_bytes:
        return reason
    note = f" ... [reason truncated: {len(reason):,} characters in all]"
    keep = max(0, max_bytes - len(note.encode()))
    # a cut inside a multi-byte character drops that character
    return encoded[:keep].decode("utf-8", errors="ignore") + note


def _headers(record: SourceRecord, reason: str, reason_bytes: int) -> list[tuple[str, bytes]]:
    value = record.value
    return [
        ("reason", truncate_reason(reason, reason_bytes).encode("utf-8", errors="replace")),
        ("reason_length", str(len(reason)).encode()),
        ("source_topic", record.topic.encode()),
        ("source_partition", str(record.partition).encode()),
        ("source_offset", str(record.offset).encode()),
        ("value_length", str(-1 if value is None else len(value)).encode()),
    ]


def bounded_dead_letter(record: SourceRecord, reason: str, limit: int) -> DeadLetter:
    """The dead letter of ``record``, at most ``limit`` bytes (see the module docstring).

    Kept, in order, while they fit: the original value, then the original
    key. Raises ``ValueError`` if even the minimal form exceeds ``limit``.
    """
    headers = _headers(record, reason, REASON_MAX_BYTES)
    value = record.value if record.value is not None else b""
    full = DeadLetter(record.key, value, headers)
    if full.size <= limit:
        return full
    omitted = (
        f"{len(value)} bytes; the dead-letter limit is {limit}: read it at its source "
        "coordinates or in raw_events.dead_letters"
    ).encode()
    without_value = DeadLetter(record.key, b"", [*headers, ("value_omitted", omitted)])
    if without_value.size <= limit:
        return without_value
    key_note = f"{len(record.key or b'')} bytes".encode()
    bare = DeadLetter(None, b"", [*headers, ("value_omitted", omitted), ("key_omitted", key_note)])
    if bare.size <= limit:
        return bare
    return minimal_dead_letter(record, reason, limit)


def minimal_dead_letter(record: SourceRecord, reason: str, limit: int | None = None) -> DeadLetter:
    """Coordinates and a 1 KiB reason, nothing else: the smallest useful dead letter."""
    headers = [
        *_headers(record, reason, MINIMAL_REASON_BYTES),
        ("value_omitted", b"too large for the dead-letter topic"),
        ("key_omitted", b"too large for the dead-letter topic"),
    ]
    letter = DeadLetter(None, b"", headers)
    if limit is not None and letter.size > limit:
        raise ValueError(
            f"a dead letter needs about {letter.size} bytes; the limit is {limit} bytes"
        )
    return letter


def topic_max_message_bytes(topic: str, settings: Settings | None = None) -> int:
    """The effective ``max.message.bytes`` of ``topic`` (its own or the broker's default)."""
    from kafka.admin import ConfigResource, ConfigResourceType

    from ytempire.clients import kafka_admin

    admin = kafka_admin(settings=settings, request_timeout_ms=10_000)
    try:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic)], config_filter="all"
        )
    finally:
        admin.close()
    config = described.get("topic", {}).get(topic, {})
    entry = config.get("max.message.bytes")
    if entry is None or entry.get("value") in (None, ""):
        raise YTEmpireError(
            f"Kafka topic {topic!r} has no max.message.bytes (does it exist?). "
            "Next: run `ytempire topics create` or check the dead-letter topic's name."
        )
    return int(entry["value"])


def record_limit(topic_limit: int, max_request_size: int) -> int:
    """The largest dead letter to build: under both limits, less the batch margin."""
    limit = min(topic_limit, max_request_size)
    return max(0, limit - max(_MARGIN_BYTES, limit // 64))


def _too_large(exc: BaseException | None) -> bool:
    from kafka.errors import MessageSizeTooLargeError, RecordListTooLargeError

    return isinstance(exc, MessageSizeTooLargeError | RecordListTooLargeError)


class DeadLetterPublisher:
    """Sends bounded dead letters through ``producer`` to ``topic``; :meth:`flush` waits.

    ``max_request_size`` is the producer's own setting (kafka-python does not
    expose it); the topic's limit is read from the broker once, here.
    """

    def __init__(
        self,
        producer: Any,
        topic: str,
        *,
        max_request_size: int = DEFAULT_MAX_REQUEST_SIZE,
        settings: Settings | None = None,
    ) -> None:
        self.producer = producer
        self.topic = topic
        self.topic_limit = topic_max_message_bytes(topic, settings)
        self.limit = record_limit(self.topic_limit, max_request_size)
        self._pending: list[tuple[Any, SourceRecord, str]] = []
        self.omitted_values = 0

    def send(self, record: SourceRecord, reason: str) -> None:
        """Queue the dead letter of ``record``; never raises for the record's size."""
        letter = bounded_dead_letter(record, reason, self.limit)
        if letter.value == b"" and record.value:
            self.omitted_values += 1
        future = self.producer.send(
            self.topic, key=letter.key, value=letter.value, headers=letter.headers
        )
        self._pending.append((future, record, reason))

    def flush(self, timeout_s: float | None = None) -> None:
        """Wait until the broker has every queued dead letter.

        A dead letter the broker refused as too large is sent again in its
        minimal form; any other failure raises (the caller keeps its offsets,
        so the messages are read and dead-lettered again).
        """
        pending, self._pending = self._pending, []
        if not pending:
            return
        self.producer.flush(timeout=timeout_s)  # returns once every future is done
        retry = []
        for future, record, reason in pending:
            exc = future.exception if future.is_done else None
            if exc is None and future.is_done:
                continue
            if _too_large(exc):
                log.warning(
                    "dead letter of %s[%d]@%d refused as too large by %s; sending its "
                    "minimal form (check the topic's max.message.bytes)",
                    record.topic,
                    record.partition,
                    record.offset,
                    self.topic,
                )
                letter = minimal_dead_letter(record, reason)
                retry.append(
                    self.producer.send(
                        self.topic, key=letter.key, value=letter.value, headers=letter.headers
                    )
                )
                continue
            raise YTEmpireError(
                f"publishing a dead letter to Kafka topic {self.topic!r} failed: {exc}. "
                "Next: check the broker (`ytempire doctor`) and rerun; the messages are "
                "read again from the committed offsets."
            )
        if retry:
            self.producer.flush(timeout=timeout_s)
            for future in retry:
                if not future.is_done or future.exception is not None:
                    raise YTEmpireError(
                        f"Kafka topic {self.topic!r} refused even a minimal dead letter "
                        f"({future.exception}); its max.message.bytes is "
                        f"{self.topic_limit}. Next: raise it to at least 16384."
                    )
