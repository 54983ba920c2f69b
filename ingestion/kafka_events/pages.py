"""Parsed pages of the landing: Kafka records -> CSV files ready for dlt to import.

A :class:`ParsedPage` is one page of records already split (events / dead
letters), written as the CSV files PostgreSQL's COPY reads, with the Kafka
offsets it starts and ends at. dlt imports those files into the load package
as they are (a hard link): no parquet in extract, no rewrite in normalize.

:class:`Prefetcher` produces pages in a background thread, chunk by chunk, so
reading and parsing chunk k+1 overlaps the load of chunk k (PostgreSQL works
in its own process, and the loader thread releases the GIL while it waits on
COPY and MERGE). It is only a read-ahead: offsets reach the dlt state when the
resource yields a page, never here, so a killed process loses nothing but
work -- the next run reads again from the committed offsets.
"""

from __future__ import annotations

import itertools
import logging
import queue
import shutil
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.kafka_events.helpers import (
    DEAD_LETTERS_COLUMNS,
    EVENTS_COLUMNS,
    Record,
    csv_header,
    split_page,
)
from ingestion.kafka_events.reader import PartitionOffsets, read_pages
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings

log = logging.getLogger(__name__)

_EVENTS_HEADER, _DEAD_HEADER = csv_header(EVENTS_COLUMNS), csv_header(DEAD_LETTERS_COLUMNS)
_file_ids = itertools.count()


@dataclass(frozen=True)
class TableFile:
    """A CSV file of ``rows`` rows of one table."""

    path: Path
    rows: int


@dataclass
class ParsedPage:
    """One page of records, parsed and written; ``start``/``end`` are its offsets per partition."""

    start: PartitionOffsets
    end: PartitionOffsets
    events: TableFile | None = None
    dead_letters: TableFile | None = None
    rejected: list[tuple[Record, str]] = field(default_factory=list)
    duplicates: int = 0
    messages: int = 0

    def files(self) -> list[TableFile]:
        return [f for f in (self.events, self.dead_letters) if f is not None]


def write_csv(header: str, lines: list[str], path: Path) -> TableFile:
    """Write the CSV file the COPY job reads: a header of bare column names, then ``lines``."""
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(header)
        out.writelines(lines)
    return TableFile(path, len(lines))


def parse_page(
    records: Sequence[Record],
    start: PartitionOffsets,
    end: PartitionOffsets,
    seen_event_ids: set[str],
    work_dir: Path,
) -> ParsedPage:
    """Split ``records`` and write the non-empty tables to ``work_dir``."""
    split = split_page(records, seen_event_ids, datetime.now(UTC))
    page = ParsedPage(
        start, end, rejected=split.rejected, duplicates=split.duplicates, messages=len(records)
    )
    n = next(_file_ids)
    if split.events:
        page.events = write_csv(_EVENTS_HEADER, split.events, work_dir / f"events.{n}.csv")
    if split.dead:
        page.dead_letters = write_csv(_DEAD_HEADER, split.dead, work_dir / f"dead.{n}.csv")
    return page


def parsed_pages(
    pages: Iterable[tuple[list[Any], PartitionOffsets]],
    offsets: Mapping[str, int],
    work_dir: Path,
    chunk_size: float = float("inf"),
    first_chunk: float | None = None,
) -> Iterator[ParsedPage | None]:
    """Parse ``pages`` read from ``offsets``; ``None`` after every ``chunk_size`` messages
    (after ``first_chunk`` for the first chunk).

    Event ids are deduplicated within a chunk (one dlt load); across loads the
    MERGE on ``event_id`` does it.
    """
    position = dict(offsets)
    seen: set[str] = set()
    in_chunk, limit = 0, first_chunk or chunk_size
    for records, end in pages:
        start = {name: position.get(name, 0) for name in end}
        position.update(end)
        yield parse_page(records, start, end, seen, work_dir)
        in_chunk += len(records)
        if in_chunk >= limit:
            yield None
            seen, in_chunk, limit = set(), 0, chunk_size


_DONE = object()


class Prefetcher:
    """Reads and parses ``topics`` from ``offsets`` to ``stop_at`` ahead of the loads.

    :meth:`chunk` yields the pages of the next chunk (about ``chunk_size``
    messages, whole pages). At most one chunk of parsed pages waits (on disk,
    with its records in memory), so memory stays flat however many events a
    run lands.
    """

    def __init__(
        self,
        topics: Sequence[str],
        offsets: Mapping[str, int],
        stop_at: Mapping[str, int],
        *,
        chunk_size: int,
        page_size: int,
        work_dir: Path,
        settings: Settings,
    ) -> None:
        self.work_dir = work_dir
        shutil.rmtree(work_dir, ignore_errors=True)  # files a killed run left behind
        work_dir.mkdir(parents=True)
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=max(2, -(-chunk_size // page_size)))
        self._stop = threading.Event()
        self._finished = False
        source = read_pages(topics, offsets, stop_at, None, page_size, settings)
        self._thread = threading.Thread(
            target=self._run,
            # a one-page first chunk: the database starts loading after one page, not one chunk
            args=(source, parsed_pages(source, offsets, work_dir, chunk_size, page_size)),
            name="kafka-events-prefetch",
            daemon=True,
        )
        self._thread.start()

    def _run(self, source: Iterator[Any], pages: Iterator[ParsedPage | None]) -> None:
        try:
            for page in pages:
                if not self._put(page):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the consuming thread, which raises it
            self._put(exc)
        finally:
            pages.close()  # type: ignore[attr-defined]
            source.close()  # type: ignore[attr-defined]  # closes the Kafka consumer

    def _put(self, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.5)
                return True
            except queue.Full:
                continue
        return False

    @property
    def finished(self) -> bool:
        return self._finished

    def chunk(self) -> Iterator[ParsedPage]:
        """The pages of the next chunk; ends at the chunk's end or the last page."""
        while not self._finished:
            item = self._queue.get()
            if item is None:
                return
            if item is _DONE:
                self._finished = True
                return
            if isinstance(item, BaseException):
                self._finished = True
                if isinstance(item, YTEmpireError):
                    raise item
                raise YTEmpireError(f"reading Kafka ahead of the load failed: {item}") from item
            yield item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        shutil.rmtree(self.work_dir, ignore_errors=True)
