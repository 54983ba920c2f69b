"""Parsed pages of the landing: Kafka records -> COPY files ready for dlt to import.

A :class:`ParsedPage` is one page of records already split (events / dead
letters), written as the files PostgreSQL's COPY reads (:func:`write_copy`),
with the Kafka offsets it starts and ends at. dlt imports those files into the load package
as they are (a hard link): no parquet in extract, no rewrite in normalize.

:class:`Prefetcher` produces pages in reader processes, each owning a share of
the partitions, so reading and parsing run on every core, beside the load of
the previous chunk (PostgreSQL works in its own processes) and without
contending for the loading process's GIL: validating events and writing
their rows is Python and was the landing's bound in one process.
It is only a read-ahead: offsets reach the dlt state when the resource yields
a page, never here, so a killed process loses nothing but work -- the next
run reads again from the committed offsets.
"""

from __future__ import annotations

import ctypes
import gc
import itertools
import logging
import multiprocessing
import os
import queue
import shutil
import signal
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.kafka_events.helpers import (
    COPY_BINARY_HEADER,
    COPY_BINARY_TRAILER,
    DEAD_LETTERS_COLUMNS,
    EVENTS_TUPLE_ORDER,
    KafkaRecord,
    Record,
    csv_header,
    split_page,
)
from ingestion.kafka_events.reader import PartitionOffsets, read_pages
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings

log = logging.getLogger(__name__)

_EVENTS_HEADER, _DEAD_HEADER = ",".join(EVENTS_TUPLE_ORDER) + "\n", csv_header(DEAD_LETTERS_COLUMNS)
_file_ids = itertools.count()


@dataclass(frozen=True)
class TableFile:
    """A COPY file (:func:`write_copy`) of ``rows`` rows of one table."""

    path: Path
    rows: int


@dataclass
class ParsedPage:
    """One page of records, parsed and written; ``start``/``end`` are its offsets per partition."""

    start: PartitionOffsets
    end: PartitionOffsets
    events: TableFile | None = None
    dead_letters: TableFile | None = None
    rejected: list[tuple[KafkaRecord, str]] = field(default_factory=list)
    duplicates: int = 0
    messages: int = 0

    def files(self) -> list[TableFile]:
        return [f for f in (self.events, self.dead_letters) if f is not None]


def write_copy(header: str, rows: list[bytes] | list[str], path: Path) -> TableFile:
    """Write a file the landing's COPY job reads: a line of bare column names, then COPY's
    input -- ``rows`` as binary COPY tuples (bytes) or CSV lines (str).

    dlt imports it as a ``csv`` file (the format its postgres destination routes to
    :class:`.destination.GuardedCopyJob`); the job tells the two apart by the binary
    format's signature after the header line.
    """
    with path.open("wb") as out:
        out.write(header.encode())
        if rows and isinstance(rows[0], bytes):
            out.write(COPY_BINARY_HEADER)
            out.writelines(rows)  # type: ignore[arg-type]
            out.write(COPY_BINARY_TRAILER)
        else:
            out.writelines(line.encode() for line in rows)  # type: ignore[union-attr]
    return TableFile(path, len(rows))


def parse_page(
    records: Sequence[Record],
    start: PartitionOffsets,
    end: PartitionOffsets,
    seen_event_ids: set[bytes],
    work_dir: Path,
) -> ParsedPage:
    """Split ``records`` and write the non-empty tables to ``work_dir``."""
    split = split_page(records, seen_event_ids, datetime.now(UTC))
    page = ParsedPage(
        start, end, rejected=split.rejected, duplicates=split.duplicates, messages=len(records)
    )
    n = next(_file_ids)
    if split.events:
        page.events = write_copy(_EVENTS_HEADER, split.events, work_dir / f"events.{n}.csv")
    if split.dead:
        page.dead_letters = write_copy(_DEAD_HEADER, split.dead, work_dir / f"dead.{n}.csv")
    return page


def parsed_pages(
    pages: Iterable[tuple[list[Any], PartitionOffsets]],
    offsets: Mapping[str, int],
    work_dir: Path,
    chunk_size: float = float("inf"),
) -> Iterator[ParsedPage]:
    """Parse ``pages`` read from ``offsets``.

    Event ids are deduplicated within each ``chunk_size`` messages (about one
    dlt load); beyond, the destination's unique key on ``event_id`` does it.
    """
    position = dict(offsets)
    seen: set[bytes] = set()
    in_chunk = 0
    for records, end in pages:
        start = {name: position.get(name, 0) for name in end}
        position.update(end)
        yield parse_page(records, start, end, seen, work_dir)
        in_chunk += len(records)
        if in_chunk >= chunk_size:
            seen, in_chunk = set(), 0


@dataclass(frozen=True)
class _Done:
    reader: int


@dataclass(frozen=True)
class _Failed:
    reader: int
    message: str  # a YTEmpireError's own message, or what else failed


_POLL_S = 0.5
# Processes are forked, not spawned: a reader needs the modules the landing has loaded
# already (a spawn re-imports dlt, seconds on every run). The fork happens before the
# run opens any Kafka client, and a reader opens only its own consumer. PostgreSQL sessions
# the landing keeps between load jobs (destination.IdleConnections) can be open at the fork:
# a reader never uses them and leaves through os._exit (multiprocessing's), closing none.
_CONTEXT = multiprocessing.get_context("fork")


def partition_groups(stop_at: Mapping[str, int], readers: int) -> list[dict[str, int]]:
    """``stop_at`` dealt round-robin into at most ``readers`` non-empty groups."""
    groups: list[dict[str, int]] = [{} for _ in range(max(1, readers))]
    for i, (name, end) in enumerate(sorted(stop_at.items())):
        groups[i % len(groups)][name] = end
    return [g for g in groups if g]


class Prefetcher:
    """Reads and parses ``topics`` from ``offsets`` to ``stop_at`` ahead of the loads.

    ``readers`` processes each read and parse their share of the partitions
    (pages of one partition stay in offset order). :meth:`chunk` yields the
    pages of the next chunk: about ``chunk_size`` messages, whole pages; the
    first chunk is a single page, so the database starts loading early. At
    most about two chunks of parsed pages wait (on disk; a reader holds one
    page of records), so memory stays flat however many events a run lands.
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
        readers: int = 2,
    ) -> None:
        self.work_dir = work_dir
        shutil.rmtree(work_dir, ignore_errors=True)  # files a killed run left behind
        work_dir.mkdir(parents=True)
        self._chunk_size = chunk_size
        self._first = True
        # up to two chunks ahead (on disk): the readers keep reading through a load's
        # bookkeeping, when the database is not copying
        self._queue: Any = _CONTEXT.Queue(maxsize=max(2, 2 * -(-chunk_size // page_size)))
        self._stop = _CONTEXT.Event()
        ends = {n: e for n, e in stop_at.items() if n.rsplit(":", 1)[0] in topics}
        pending = {n: e for n, e in ends.items() if offsets.get(n, 0) < e}
        self._readers = []
        for i, group in enumerate(partition_groups(pending, readers)):
            # a folder of this run's own: a reader of a killed run, in its last moments,
            # can write only where nothing will be imported
            folder = work_dir / f"{uuid.uuid4().hex}-reader-{i}"
            folder.mkdir()
            reader = _CONTEXT.Process(
                target=_read_ahead,
                args=(i, list(topics), dict(offsets), group, chunk_size, page_size, folder),
                kwargs={"settings": settings, "out": self._queue, "stop": self._stop},
                name=f"kafka-events-reader-{i}",
                daemon=True,
            )
            reader.start()
            self._readers.append(reader)
        self._running = set(range(len(self._readers)))

    @property
    def finished(self) -> bool:
        return not self._running

    def chunk(self) -> Iterator[ParsedPage]:
        """The pages of the next chunk; ends at the chunk's end or after the last page."""
        limit, self._first = (1 if self._first else self._chunk_size), False
        in_chunk = 0
        while self._running and in_chunk < limit:
            item = self._next()
            if isinstance(item, _Done):
                self._running.discard(item.reader)
            elif isinstance(item, _Failed):
                self._running.clear()
                raise YTEmpireError(item.message)
            else:
                in_chunk += item.messages or 1
                yield item

    def _next(self) -> Any:
        suspects: set[int] = set()
        while True:
            try:
                return self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                # a reader that ended without a word: after one more empty wait (its last
                # items could have been in flight), it was killed
                if dead := suspects & self._running:
                    self._running.clear()
                    i = min(dead)
                    raise YTEmpireError(
                        f"Kafka reader {i} ended (exit code {self._readers[i].exitcode}) "
                        "before its partitions were read; rerun `ytempire ingest events`."
                    ) from None
                suspects = {i for i in self._running if self._readers[i].exitcode is not None}

    def close(self) -> None:
        self._stop.set()
        for reader in self._readers:
            reader.join(timeout=5)
            if reader.exitcode is None:
                reader.kill()
                reader.join()
        self._queue.close()
        shutil.rmtree(self.work_dir, ignore_errors=True)


_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """On Linux, be killed with the landing (otherwise a reader notices within half a
    second that its landing is gone, at its next page)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _read_ahead(
    reader: int,
    topics: list[str],
    offsets: dict[str, int],
    stop_at: dict[str, int],
    chunk_size: int,
    page_size: int,
    work_dir: Path,
    *,
    settings: Settings,
    out: Any,
    stop: Any,
) -> None:
    """A reader process: parse its partitions' pages into ``work_dir`` and hand them over."""
    # What the landing had built before the fork is never garbage here: out of the
    # collector's sight, it is not scanned again by every full collection.
    gc.freeze()
    parent = os.getppid()
    _die_with_parent()

    def hand_over(item: Any) -> bool:
        while not stop.is_set() and os.getppid() == parent:  # the landing is alive
            try:
                out.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        out.cancel_join_thread()  # nobody will take what is queued: do not wait to flush it
        return False

    try:
        source = read_pages(topics, offsets, stop_at, None, page_size, settings)
        try:
            for page in parsed_pages(source, offsets, work_dir, chunk_size):
                if not hand_over(page):
                    return
        finally:
            source.close()  # type: ignore[attr-defined]  # closes the Kafka consumer
        hand_over(_Done(reader))
    except YTEmpireError as exc:  # reported to the landing, which raises it
        hand_over(_Failed(reader, str(exc)))
    except Exception as exc:
        hand_over(_Failed(reader, f"reading Kafka ahead of the load failed: {exc!r}"))
