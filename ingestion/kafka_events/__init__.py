"""dlt source landing the platform's Kafka topics in ``raw_events``.

One resource reads every partition of the given topics from the offsets kept
in its dlt resource state up to ``stop_at`` (the high-water marks the run saw
when it started), in pages of Arrow tables. Offsets are written to the state
as each page is yielded, so they are committed with the load package that
carries the page: a killed load is finished by the next run, a killed extract
is discarded and re-read. Tables are merged ``insert-only`` (events by
``event_id``, dead letters by Kafka coordinates), so a load job retried after
a crash, or an event republished by a producer, lands once.

Messages that are not JSON or break :mod:`ytempire.events` go to
``raw_events.dead_letters`` and to the dead-letter topic (original bytes as
the value, reason and source coordinates as headers; at-least-once there,
keyed by coordinates for consumers to deduplicate).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

# Credentials come from ytempire.settings, never from dlt secrets: skip dlt's Airflow
# secrets provider, which otherwise imports Airflow and queries its metastore for
# every config lookup (seconds per run, and error logs outside an Airflow task).
os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")

import dlt
import pyarrow as pa

from ingestion.kafka_events.helpers import dead_letter_headers, split_page
from ingestion.kafka_events.reader import PartitionOffsets, read_pages
from ytempire.clients import kafka_producer
from ytempire.settings import Settings, get_settings
from ytempire.topics import DEAD_LETTER

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 20_000

EVENTS_HINTS = dlt.mark.make_hints(
    table_name="events",
    write_disposition={"disposition": "merge", "strategy": "insert-only"},
    primary_key="event_id",
    columns={"payload": {"data_type": "json"}},
)
DEAD_LETTERS_HINTS = dlt.mark.make_hints(
    table_name="dead_letters",
    write_disposition={"disposition": "merge", "strategy": "insert-only"},
    primary_key=("kafka_topic", "kafka_partition", "kafka_offset"),
)


@dlt.source(name="kafka_events", max_table_nesting=0)
def kafka_events(
    topics: Sequence[str],
    stop_at: Mapping[str, int] | None = None,
    max_messages: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    dead_letter_topic: str = DEAD_LETTER.name,
    settings: Settings | None = None,
) -> Any:
    """Land ``topics`` up to ``stop_at`` ("topic:partition" -> offset), at most ``max_messages``."""
    return messages(topics, stop_at, max_messages, page_size, dead_letter_topic, settings)


@dlt.resource(name="messages", standalone=False)
def messages(
    topics: Sequence[str],
    stop_at: Mapping[str, int] | None,
    max_messages: int | None,
    page_size: int,
    dead_letter_topic: str,
    settings: Settings | None,
) -> Iterator[Any]:
    s = settings or get_settings()
    state = dlt.current.resource_state()
    offsets: PartitionOffsets = state.setdefault("offsets", {})
    landed_at = datetime.now(UTC)
    seen: set[str] = set()
    producer = None
    for records, next_offsets in read_pages(topics, offsets, stop_at, max_messages, page_size, s):
        page = split_page(records, seen, landed_at)
        if page.rejected:
            producer = producer or kafka_producer(settings=s, compression_type="gzip")
            _publish_dead_letters(producer, dead_letter_topic, page.rejected)
        offsets.update(next_offsets)
        if page.duplicates:
            log.info("skipped %d republished events already in this load", page.duplicates)
        yield from _marked(page.events_table(), EVENTS_HINTS)
        yield from _marked(page.dead_letters_table(), DEAD_LETTERS_HINTS)
    if producer is not None:
        producer.close()


def _marked(table: pa.Table, hints: Any) -> Iterator[Any]:
    if table.num_rows:
        yield dlt.mark.with_hints(table, hints)


def _publish_dead_letters(producer: Any, topic: str, rejected: list[tuple[Any, str]]) -> None:
    """Publish and wait: the page's offsets are stored only after the broker has them."""
    for record, reason in rejected:
        producer.send(
            topic,
            key=record.key,
            value=record.value if record.value is not None else b"",
            headers=dead_letter_headers(record, reason),
        )
    producer.flush()
