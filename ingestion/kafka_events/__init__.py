"""dlt source landing the platform's Kafka topics in ``raw_events``.

The ``messages`` resource reads every partition of the given topics from the
offsets kept in its dlt resource state up to ``stop_at`` (the high-water marks
the run saw when it started), as parsed pages (:mod:`.pages`); the ``events``
and ``dead_letters`` transformers import each page's CSV files into the load
package as they are. Offsets are written to the state as each page is yielded,
so they are committed with the load package that carries the page: a killed
load is finished by the next run, a killed extract is discarded and re-read.
Tables are insert-only with unique keys (events: Kafka coordinates and
``event_id``; dead letters: coordinates), which the landing's destination
(:mod:`.destination`) uses as its replay guard: a load job retried after a
crash, or an event republished by a producer, lands once. Load the source
through that destination (``make_pipeline`` does): dlt's own appends the
tables with no guard.

Messages that are not JSON or break :mod:`ytempire.events` go to
``raw_events.dead_letters`` (the original bytes whole, the reason cut to 8 KiB
saying its full length) and to the dead-letter topic, bounded to fit it
(:mod:`ytempire.dead_letters`: reason and source coordinates as headers, the
original bytes as the value when they fit the topic's limit, else left out
and referenced by their coordinates; at-least-once there, the coordinates
let consumers deduplicate). No message size can stop the landing."""

from __future__ import annotations

import logging
import shutil
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import dlt

from ingestion.kafka_events.helpers import DEAD_LETTERS_COLUMNS, EVENTS_COLUMNS
from ingestion.kafka_events.pages import ParsedPage, TableFile, parsed_pages
from ingestion.kafka_events.reader import PartitionOffsets, read_pages
from ytempire.clients import kafka_producer
from ytempire.dead_letters import DeadLetterPublisher
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings, get_settings
from ytempire.topics import DEAD_LETTER

log = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 20_000


@dlt.source(name="kafka_events", max_table_nesting=0)
def kafka_events(
    topics: Sequence[str],
    stop_at: Mapping[str, int] | None = None,
    max_messages: int | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    dead_letter_topic: str = DEAD_LETTER.name,
    settings: Settings | None = None,
    pages: Iterable[ParsedPage] | None = None,
) -> Any:
    """Land ``topics`` up to ``stop_at`` ("topic:partition" -> offset), at most ``max_messages``.

    ``pages`` (a :meth:`Prefetcher.chunk`) replaces the in-line read: they must
    start at the offsets in the state, which is checked page by page.
    """
    read = messages(topics, stop_at, max_messages, page_size, dead_letter_topic, settings, pages)
    return read, read | events, read | dead_letters


@dlt.resource(name="messages", standalone=False, selected=False)
def messages(
    topics: Sequence[str],
    stop_at: Mapping[str, int] | None,
    max_messages: int | None,
    page_size: int,
    dead_letter_topic: str,
    settings: Settings | None,
    pages: Iterable[ParsedPage] | None,
) -> Iterator[ParsedPage]:
    """Parsed pages; each page's end offsets enter the state as it is yielded."""
    s = settings or get_settings()
    state = dlt.current.resource_state()
    offsets: PartitionOffsets = state.setdefault("offsets", {})
    producer, publisher = None, None
    try:
        for page in (
            pages
            if pages is not None
            else _read(topics, offsets, stop_at, max_messages, page_size, s)
        ):
            _check_contiguous(page, offsets)
            if page.rejected:
                if publisher is None:
                    producer = kafka_producer(settings=s)
                    publisher = DeadLetterPublisher(producer, dead_letter_topic, settings=s)
                _publish_dead_letters(publisher, page.rejected)
            offsets.update(page.end)
            if page.duplicates:
                log.info("skipped %d republished events already in this load", page.duplicates)
            yield page
    finally:
        if producer is not None:
            producer.close()


@dlt.transformer(
    name="events",
    standalone=False,
    # appended through GuardedCopyJob: COPY into the table, guarded by its unique keys
    write_disposition="append",
    primary_key="event_id",
    columns=EVENTS_COLUMNS,
)
def events(page: ParsedPage) -> Iterator[Any]:
    """The page's events file, imported into the load package as it is."""
    if page.events is not None:
        yield from _imported(page.events)


@dlt.transformer(
    name="dead_letters",
    standalone=False,
    write_disposition="append",
    primary_key=("kafka_topic", "kafka_partition", "kafka_offset"),
    columns=DEAD_LETTERS_COLUMNS,
)
def dead_letters(page: ParsedPage) -> Iterator[Any]:
    """The page's dead letters file, imported into the load package as it is."""
    if page.dead_letters is not None:
        yield from _imported(page.dead_letters)


def _imported(table_file: TableFile) -> Iterator[Any]:
    yield dlt.mark.with_file_import(str(table_file.path), "csv", table_file.rows)
    # resumed once dlt has hard-linked the file into the load package
    table_file.path.unlink(missing_ok=True)


def _read(
    topics: Sequence[str],
    offsets: PartitionOffsets,
    stop_at: Mapping[str, int] | None,
    max_messages: int | None,
    page_size: int,
    settings: Settings,
) -> Iterator[ParsedPage]:
    """Pages read and parsed in line (no prefetch), written under the pipeline's folder."""
    work_dir = Path(dlt.current.pipeline().working_dir) / "kafka_pages"
    shutil.rmtree(work_dir, ignore_errors=True)  # leftovers are imported or abandoned
    work_dir.mkdir(parents=True)
    records = read_pages(topics, offsets, stop_at, max_messages, page_size, settings)
    yield from parsed_pages(records, offsets, work_dir)


def _check_contiguous(page: ParsedPage, offsets: Mapping[str, int]) -> None:
    gaps = {n: (offsets.get(n, 0), at) for n, at in page.start.items() if offsets.get(n, 0) != at}
    if gaps:
        raise YTEmpireError(
            f"a page does not start at the committed offsets (committed, page start): {gaps}. "
            "Nothing was loaded from it; rerun `ytempire ingest events`."
        )


def _publish_dead_letters(publisher: DeadLetterPublisher, rejected: list[tuple[Any, str]]) -> None:
    """Publish and wait: the page's offsets are stored only after the broker has them."""
    for record, reason in rejected:
        publisher.send(record, reason)
    publisher.flush()
