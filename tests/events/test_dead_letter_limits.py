"""No message size stops a consumer: dead letters fit their topic (issue 25, item 1).

The probe's case: an invalid event of about 260 KB with 20,000 unknown
fields gives a 1.48 MB reason; the Kafka landing and the event processor
republished value and reason to ``dead-letter``, the producer refused a record
over its 1 MiB ``max_request_size``, and both consumers failed on every run.

Here a source topic allows 9 MiB records (a per-topic ``max.message.bytes``;
the shared broker keeps its own 1 MiB ``message.max.bytes``), and invalid
messages sit just under, at and over every limit on the path -- the
producer's ``max_request_size`` and the broker's ``message.max.bytes`` (both
about 1 MiB), the landing's fetch limit per partition (4 MiB), the source
topic's maximum (proved by the broker refusing one byte more) -- with the
probe's message, a huge reason inside a huge value, and a 2 MiB key, between
valid events. Each consumer runs once, against a dead-letter topic whose own
limit is small (16 KiB), the broker's default, or larger than the producer's
(4 MiB): everything valid lands or is handled, every invalid message is
dead-lettered once, within the topic's limit, with its coordinates, its
reason (cut, with its full length kept) and, where it fit, its value.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.admin import NewTopic
from kafka.errors import MessageSizeTooLargeError
from kafka.record.default_records import DefaultRecordBatchBuilder

from ingestion.kafka_events.landing import land_events
from ingestion.kafka_events.reader import MAX_PARTITION_FETCH_BYTES
from simulation.traffic import simulated_events
from streaming.processor import EventProcessor, Topics
from tests.read_topic import read_topic
from ytempire.clients import kafka_admin, kafka_consumer, kafka_producer
from ytempire.dead_letters import REASON_MAX_BYTES, record_limit
from ytempire.events import Rejected, parse_event

KiB, MiB = 1024, 1024 * 1024
SOURCE_MAX = 9 * MiB  # the source topic's max.message.bytes
BROKER_MAX = 1_048_588  # the broker's message.max.bytes (Kafka's default; never changed here)
PRODUCER_MAX = MiB  # kafka-python's default max_request_size
LANDING_FETCH = MAX_PARTITION_FETCH_BYTES  # the landing reader's fetch per partition
DEAD_LETTER_LIMITS = {"16KiB": 16 * KiB, "broker-default": None, "4MiB": 4 * MiB}
HANG_S = 900.0  # only a consumer that stopped making progress fails on it


def batch_size(value_size: int) -> int:
    """Bytes of a one-record batch (no key, no headers, uncompressed) holding such a value:
    the v2 batch header plus the record, as kafka-python's batch builder sizes it."""
    builder = DefaultRecordBatchBuilder(
        magic=2,
        compression_type=0,
        is_transactional=False,
        producer_id=-1,
        producer_epoch=-1,
        base_sequence=-1,
        batch_size=2**31 - 1,
    )
    record = builder.size_in_bytes(0, 0, None, b"x" * value_size, [])
    return int(DefaultRecordBatchBuilder.HEADER_STRUCT.size + record)


def value_size_for_batch(limit: int) -> int:
    """The value size whose one-record batch is exactly ``limit`` bytes."""
    size = limit - batch_size(0)
    while batch_size(size) > limit:
        size -= 1
    assert batch_size(size) == limit
    return size


def padded(size: int, *, key: str = "pad") -> bytes:
    """A JSON message of exactly ``size`` bytes that breaks the contract."""
    head = f'{{"event_type": "video_teleported", "{key}": "'.encode()
    return head + b"x" * (size - len(head) - 2) + b'"}'


def many_unknown_fields(fields: int, filler: int = 0) -> bytes:
    """A metrics_update whose payload carries ``fields`` unknown fields (the probe's case)."""
    payload = {
        "youtube_video_id": "AAAAAAAAAAA",
        "views": 1,
        "likes": 0,
        "comments": 0,
        "watch_time_minutes": 0.0,
        **{f"fld{i:05d}": "y" * filler if filler else 1 for i in range(fields)},
    }
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": "metrics_update",
        "schema_version": 1,
        "occurred_at": "2026-01-01T00:00:00Z",
        "channel_id": "UC" + "a" * 22,
        "video_id": str(uuid.uuid4()),
        "payload": payload,
    }
    return json.dumps(event, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Invalid:
    name: str
    key: bytes | None
    value: bytes


def invalid_messages() -> list[Invalid]:
    at_source_max = value_size_for_batch(SOURCE_MAX)
    sizes = {
        "small": 64,
        "producer-max-just-under": PRODUCER_MAX - 2 * KiB,
        "producer-max-at": PRODUCER_MAX,
        "broker-max-just-over": BROKER_MAX + 1,
        "landing-fetch-just-under": LANDING_FETCH - KiB,
        "landing-fetch-at": LANDING_FETCH,
        "landing-fetch-just-over": LANDING_FETCH + KiB,
        "source-max-at": at_source_max,
    }
    messages = [Invalid(name, None, padded(size)) for name, size in sizes.items()]
    probe = many_unknown_fields(20_000)
    assert 250 * KiB < len(probe) < 300 * KiB
    messages.append(Invalid("probe-20000-unknown-fields", b"k", probe))
    messages.append(Invalid("huge-reason-in-huge-value", b"k", many_unknown_fields(60_000, 40)))
    messages.append(Invalid("huge-key", b"K" * (2 * MiB), b"{oops"))
    messages.append(Invalid("no-value", b"k", b""))
    return messages


def produce_mixed(topic: str, settings, valid: list[tuple[str, bytes]]) -> list[Invalid]:
    """Valid events with every invalid message between them, in one partition, in order."""
    invalid = invalid_messages()
    # uncompressed, so each batch is the size computed here (the platform's codec would
    # shrink the padded values under every limit)
    producer = kafka_producer(
        settings=settings, max_request_size=SOURCE_MAX + MiB, compression_type=None
    )
    try:
        chunk = max(1, len(valid) // (len(invalid) + 1))
        for i, message in enumerate(invalid):
            for key, value in valid[i * chunk : (i + 1) * chunk]:
                producer.send(topic, key=key.encode(), value=value)
            producer.send(topic, key=message.key, value=message.value).get(timeout=120)
        for key, value in valid[len(invalid) * chunk :]:
            producer.send(topic, key=key.encode(), value=value)
        producer.flush()
        # the source topic's maximum is what it says: one byte more is refused by the broker
        over = b"x" * (value_size_for_batch(SOURCE_MAX) + 1)
        with pytest.raises(MessageSizeTooLargeError):
            producer.send(topic, value=over).get(timeout=120)
    finally:
        producer.close()
    return invalid


@pytest.fixture
def topic_with_limit(settings) -> Iterator[Callable[[str, int | None], str]]:
    admin = kafka_admin(settings=settings)
    created: list[str] = []

    def make(base: str, max_message_bytes: int | None) -> str:
        name = f"{base}-{uuid.uuid4().hex[:12]}"
        config = {} if max_message_bytes is None else {"max.message.bytes": str(max_message_bytes)}
        admin.create_topics(
            [NewTopic(name, num_partitions=1, replication_factor=1, topic_configs=config)]
        )
        admin.wait_for_topics([name])
        created.append(name)
        return name

    yield make
    admin.delete_topics(created)
    admin.close()


def _header(message, name: str) -> str | None:
    found = [v for k, v in message.headers or [] if k == name]
    return found[0].decode() if found else None


def check_dead_letters(
    dead_letters: list, source: str, invalid: list[Invalid], topic_limit: int
) -> None:
    """One dead letter per invalid message, each within the limits, telling what it left out."""
    limit = record_limit(topic_limit, PRODUCER_MAX)
    by_offset = {int(_header(m, "source_offset") or -1): m for m in dead_letters}
    assert len(by_offset) == len(dead_letters) == len(invalid)
    values = {m.value: m for m in invalid}
    for offset, letter in by_offset.items():
        assert _header(letter, "source_topic") == source
        assert _header(letter, "source_partition") == "0"
        size = DefaultRecordBatchBuilder.estimate_size_in_bytes(
            letter.key, letter.value, letter.headers
        )
        assert size <= limit, (offset, size, limit)
        reason = _header(letter, "reason") or ""
        assert len(reason.encode()) <= REASON_MAX_BYTES
        length = int(_header(letter, "reason_length") or -1)
        if letter.value:  # the value came along: it is the original, and its reason is its own
            original = values[letter.value]
            rejected = parse_event(original.value)
            assert isinstance(rejected, Rejected)
            assert length == len(rejected.reason)
            if len(rejected.reason.encode()) > REASON_MAX_BYTES:
                assert reason.endswith(f"[reason truncated: {length:,} characters in all]")
            else:
                assert reason == rejected.reason
        else:
            assert int(_header(letter, "value_length") or -2) >= 0
            if int(_header(letter, "value_length") or 0) > 0:
                assert "read it at its source coordinates" in (
                    _header(letter, "value_omitted") or ""
                )
    # the big ones could not come along under a 1 MiB producer, and said so
    omitted = [m for m in dead_letters if _header(m, "value_omitted")]
    assert len(omitted) >= sum(1 for m in invalid if len(m.value) > limit)


def run_once_until_committed(
    processor: EventProcessor, group_id: str, source: str, settings
) -> Any:
    """One run of ``processor`` (no idle timeout), stopped once its group has committed
    ``source`` to the end offsets it has now -- observed on the broker, not timed, so the
    verdict is that of a single run whatever the machine's speed. A run that crashes raises
    here; one that stops making progress is stopped after HANG_S and fails on its lag."""
    consumer = kafka_consumer(settings=settings)
    try:
        partitions = [
            TopicPartition(source, p) for p in consumer.partitions_for_topic(source) or ()
        ]
        end = consumer.end_offsets(partitions)
    finally:
        consumer.close()
    caught_up = threading.Event()

    def watch() -> None:
        admin = kafka_admin(settings=settings)
        deadline = time.monotonic() + HANG_S
        try:
            while not caught_up.wait(0.2) and time.monotonic() < deadline:
                committed = admin.list_group_offsets({group_id: list(end)}).get(group_id, {})
                if all(tp in committed and committed[tp].offset >= n for tp, n in end.items()):
                    break
        finally:
            admin.close()
            processor.stop()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        return processor.run(idle_timeout_s=None)  # in this thread: run() sets a SIGTERM handler
    finally:
        caught_up.set()
        watcher.join()


def _dead_letter_topic(topic_with_limit, limit_name: str) -> tuple[str, int]:
    configured = DEAD_LETTER_LIMITS[limit_name]
    return topic_with_limit("dlq", configured), configured or BROKER_MAX


@pytest.mark.parametrize("dead_letter_limit", list(DEAD_LETTER_LIMITS))
def test_the_landing_lands_everything_else_and_dead_letters_each_size_in_one_run(
    settings, topic_with_limit, loader, tmp_path, dead_letter_limit
):
    source = topic_with_limit("events", SOURCE_MAX)
    dlq, dlq_limit = _dead_letter_topic(topic_with_limit, dead_letter_limit)
    # events of a seed of their own: event ids land once per database
    seed = 770 + list(DEAD_LETTER_LIMITS).index(dead_letter_limit)
    valid = [(k, v) for _, k, v, _ in simulated_events(300, seed=seed)]
    invalid = produce_mixed(source, settings, valid)

    summary = land_events(
        [source],
        pipelines_dir=tmp_path,
        pipeline_name=tmp_path.name,
        dead_letter_topic=dlq,
        settings=settings,
    )

    assert summary.messages == len(valid) + len(invalid)
    landed = loader("select count(*) from raw_events.events where kafka_topic = %s", (source,))
    assert landed[0][0] == len(valid)
    rows = loader(
        "select kafka_offset, raw_value, reason from raw_events.dead_letters "
        "where kafka_topic = %s order by kafka_offset",
        (source,),
    )
    assert len(rows) == len(invalid)
    # the warehouse keeps every value whole, whatever its size
    assert sorted(base64.b64decode(raw or "") for _, raw, _ in rows) == sorted(
        m.value for m in invalid
    )
    assert all(len(reason.encode()) <= REASON_MAX_BYTES for *_, reason in rows)
    check_dead_letters(read_topic(dlq, settings), source, invalid, dlq_limit)


@pytest.mark.parametrize("dead_letter_limit", list(DEAD_LETTER_LIMITS))
def test_the_processor_handles_everything_else_and_dead_letters_each_size_in_one_run(
    settings, topic_with_limit, new_topic, redis_prefix, dead_letter_limit
):
    source = topic_with_limit("video-events", SOURCE_MAX)
    dlq, dlq_limit = _dead_letter_topic(topic_with_limit, dead_letter_limit)
    valid = [(k, v) for kind, k, v, _ in simulated_events(600, seed=78) if kind == "video"]
    invalid = produce_mixed(source, settings, valid)
    topics = Topics(
        sources=(source,),
        notifications=new_topic("notifications"),
        alerts=new_topic("alerts"),
        dead_letter=dlq,
    )
    group_id = f"g-{uuid.uuid4().hex[:8]}"
    processor = EventProcessor(
        group_id=group_id,
        topics=topics,
        redis_prefix=redis_prefix,
        settings=settings,
    )
    try:
        counts = run_once_until_committed(processor, group_id, source, settings)
        assert not any(processor.lag().values())
    finally:
        processor.close()

    assert counts["dead_lettered"] == len(invalid)
    handled = sum(n for kind, n in counts.items() if kind != "dead_lettered")
    assert handled == len(valid)
    check_dead_letters(read_topic(dlq, settings), source, invalid, dlq_limit)
