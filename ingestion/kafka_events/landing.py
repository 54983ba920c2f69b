"""The Kafka landing: ``raw_events`` up to the high-water marks of now.

A run captures the high-water mark of every partition, then loads chunks of
at most ``chunk_size`` messages (one dlt load each, offsets committed with it)
until every partition reaches its mark, and ends. Killed at any point, the
next run first finishes the load package left behind, then carries on from
the committed offsets: nothing is lost and nothing lands twice.

A package can never hold the landing: every message is validated against what
PostgreSQL can store before it is written (the event contract,
:mod:`ytempire.events`, read through its fast path :mod:`ytempire.wire_events`;
NUL characters, lone surrogates, invalid UTF-8, counters beyond bigint and
non-finite numbers are dead-lettered with their reason). Should a job still
fail for good (a terminal database error), its package is aborted: dlt
restores the offsets it started from, nothing of it counts as landed, and the
messages are read again by the next run. The error names the package and the
job; a left-behind package that fails so is aborted by the next run itself.

``ingestion/kafka_events_pipeline.py`` is its thin runner; ``ytempire ingest
events`` the command.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dlt
from dlt.common.pipeline import LoadInfo
from dlt.extract import DltSource
from dlt.load.exceptions import LoadClientJobFailed, LoadClientJobTerminalRetry

from ingestion.kafka_events import DEFAULT_PAGE_SIZE, kafka_events
from ingestion.kafka_events.destination import LandingPostgres
from ingestion.kafka_events.pages import Prefetcher
from ingestion.kafka_events.reader import high_water_marks
from ingestion.load_failures import Lander, causes, drop_committed_extracts, raise_known
from ytempire.clients import dlt_credentials
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings, get_settings
from ytempire.topics import CHANNEL_EVENTS, DEAD_LETTER, USER_EVENTS, VIDEO_EVENTS

PIPELINE_NAME = "kafka_events"
LANDER = Lander("events", "ytempire ingest events")
DATASET = "raw_events"
DEFAULT_TOPICS = (VIDEO_EVENTS.name, CHANNEL_EVENTS.name, USER_EVENTS.name)
DEFAULT_CHUNK_SIZE = 200_000
# Kafka reader processes (each reads and parses a share of the partitions)
DEFAULT_READERS = 2
# COPY jobs of a load at once (dlt's default is 20): a package holds about ten files, and
# their COPYs into one table contend for the same index pages and the table's extension
# lock. Fifty 20k-row files into a table with the landing's two keys, PostgreSQL 15:
# ~9-10 us of server CPU a row with two sessions, ~11 with ten (and one alone idles
# between files).
DEFAULT_LOAD_WORKERS = 2

# No network but Kafka and the warehouse: dlt's anonymous telemetry stays off (it would
# retry HTTPS posts in a background thread of every run).
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LandingSummary:
    loads: int
    messages: int
    seconds: float
    # seconds the main thread spent in each dlt step, summed over the loads (extract
    # mostly waits for the Kafka reader processes, which work through the loads)
    steps: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


def destination(settings: Settings) -> LandingPostgres:
    """The landing's PostgreSQL destination as the loader role, from YTEMPIRE_PG_*."""
    # The landing's keys are its own (GuardedCopyJob); dlt's would only add a unique _dlt_id
    # to its state table, which turns a replayed state job into a terminal failure.
    return LandingPostgres(
        credentials=dlt_credentials("loader", settings),
        create_indexes=False,
        destination_name="postgres",
    )


def make_pipeline(
    settings: Settings, pipelines_dir: Path | None = None, pipeline_name: str = PIPELINE_NAME
) -> dlt.Pipeline:
    """The landing's dlt pipeline.

    One pipelines_dir per pipeline name: a fresh folder restores the state of a
    same-named pipeline from the destination and drops its own pending packages.
    """
    return dlt.pipeline(
        pipeline_name=pipeline_name,
        destination=destination(settings),
        dataset_name=DATASET,
        pipelines_dir=str(pipelines_dir or settings.dlt_pipelines_dir),
    )


def finish_pending(pipeline: dlt.Pipeline, settings: Settings) -> int:
    """Load what a killed run left behind (normalized or extracted packages).

    A package whose job fails for good is aborted (:func:`abort_failed_package`),
    so its messages are read again from the offsets it started at.
    """
    drop_committed_extracts(pipeline)
    pending = len(pipeline.list_extracted_load_packages()) + len(
        pipeline.list_normalized_load_packages()
    )
    if pending:
        pipeline.normalize()  # the package remembers its loader file format (csv)
        try:
            pipeline.load().raise_on_failed_jobs()
        except Exception as exc:
            failed = abort_failed_package(pipeline, exc, settings)
            log.warning("%s; landing again from the offsets it started at", failed)
    return pending


def _terminal_job_failure(
    exc: BaseException,
) -> LoadClientJobFailed | LoadClientJobTerminalRetry | None:
    for cause in causes(exc):
        if isinstance(cause, LoadClientJobFailed | LoadClientJobTerminalRetry):
            return cause
    return None


def abort_failed_package(
    pipeline: dlt.Pipeline, exc: Exception, settings: Settings
) -> YTEmpireError:
    """Abort the pending package after a job of it failed for good; raise anything else.

    dlt restores the pipeline state (the offsets) to where the package started,
    so no message of it counts as landed and none is lost. Returns the error
    that names the package and the job, for the caller to log or raise.
    Anything else is raised, and the package stays for the next run.

    Raises:
        LoadRetriesExhausted: a job dlt retried to its limit (the database went
            away, a lock timed out), from :func:`~ingestion.load_failures.raise_known`.
        YTEmpireError: the project's own error, raised inside dlt's step.
        Exception: ``exc`` itself, for anything else (a bug keeps its traceback).
    """
    failure = _terminal_job_failure(exc)
    if failure is None:
        raise_known(exc, LANDER, settings)
    pipeline.abort_packages()
    return YTEmpireError(
        f"load package {failure.load_id} was aborted: its job {failure.job_id} failed for "
        f"good ({failure.failed_message.strip()[:500]}). Its offsets were restored, so the "
        "next run of `ytempire ingest events` reads those messages again. If that keeps "
        "failing, the message breaks a rule of PostgreSQL the contract does not check yet."
    )


def allow_state_replay(settings: Settings) -> None:
    """Let the state table take a replayed insert.

    A run killed after a load job's commit but before dlt records the job as done
    runs the job again on resume (dlt's commit -> bookkeeping gap). The events and
    dead-letter jobs are guarded by their keys (:mod:`ingestion.kafka_events.destination`),
    so replaying them changes nothing; the state job appends the same row twice,
    which restores to the same state -- unless ``_dlt_id`` is unique, as databases
    landed before this release have it, so that constraint is dropped.
    """
    from ytempire.clients import pg_connect

    with pg_connect("loader", settings=settings) as conn:
        conn.execute(
            f"alter table if exists {DATASET}._dlt_pipeline_state "
            "drop constraint if exists _dlt_pipeline_state__dlt_id_key"
        )


def _offsets(pipeline: dlt.Pipeline) -> dict[str, int]:
    state = pipeline.state.get("sources", {}).get("kafka_events", {})
    offsets: dict[str, int] = state.get("resources", {}).get("messages", {}).get("offsets", {})
    return offsets


def _remaining(offsets: dict[str, int], stop_at: dict[str, int]) -> int:
    return sum(max(0, end - offsets.get(name, 0)) for name, end in stop_at.items())


def _load_chunk(
    pipeline: dlt.Pipeline, source: DltSource, load_workers: int, steps: dict[str, float]
) -> None:
    """Extract, normalize and load one chunk as one package, adding each step's seconds."""
    started = time.perf_counter()
    pipeline.extract(source, loader_file_format="csv")
    extracted = time.perf_counter()
    pipeline.normalize()
    normalized = time.perf_counter()
    info: LoadInfo = pipeline.load(workers=load_workers)
    info.raise_on_failed_jobs()
    for step, seconds in (
        ("extract", extracted - started),
        ("normalize", normalized - extracted),
        ("load", time.perf_counter() - normalized),
    ):
        steps[step] = steps.get(step, 0.0) + seconds


def land_events(
    topics: Sequence[str] = DEFAULT_TOPICS,
    *,
    pipelines_dir: Path | None = None,
    pipeline_name: str = PIPELINE_NAME,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    page_size: int = DEFAULT_PAGE_SIZE,
    dead_letter_topic: str = DEAD_LETTER.name,
    settings: Settings | None = None,
    progress: Callable[[str], None] = log.info,
    readers: int = DEFAULT_READERS,
    load_workers: int = DEFAULT_LOAD_WORKERS,
    on_landed: Callable[[int, int], None] | None = None,
) -> LandingSummary:
    """Land ``topics`` up to their current high-water marks; return what was loaded.

    ``progress`` gets a line per load; ``on_landed(landed, total)`` the message
    counts, first with 0 landed, then after each load (for a progress bar).
    ``readers`` Kafka reader processes parse ahead; ``load_workers`` COPY jobs
    of a load run at once.
    """
    s = settings or get_settings()
    started = time.perf_counter()
    pipeline = make_pipeline(s, pipelines_dir, pipeline_name)
    landing = pipeline.destination
    assert isinstance(landing, LandingPostgres)
    with landing.reusing_connections():  # not a PostgreSQL session per load job
        allow_state_replay(s)  # before a left-behind package replays its jobs
        if finish_pending(pipeline, s):
            progress("finished the load package a previous run left behind")
        stop_at = high_water_marks(topics, s)

        def prefetch(offsets: dict[str, int]) -> Prefetcher:
            return Prefetcher(
                topics,
                offsets,
                stop_at,
                chunk_size=chunk_size,
                page_size=page_size,
                work_dir=Path(pipeline.pipelines_dir) / f".{pipeline_name}.pages",
                settings=s,
                readers=readers,
            )

        # The readers start from the offsets in the local state and read while dlt takes the
        # destination's (a second or so: a connection and dlt's lazy imports). Those differ
        # only when the folder is new or behind (a new machine, an ephemeral worker): then the
        # readers start again from the destination's. Before, dlt restored them only in the
        # first load, after the readers had started from 0, and every such run failed.
        local = dict(_offsets(pipeline))
        prefetcher = prefetch(local)
        try:
            pipeline.sync_destination()
        except BaseException as exc:
            prefetcher.close()
            raise_known(exc, LANDER, s)
        if _offsets(pipeline) != local:
            prefetcher.close()
            prefetcher = prefetch(_offsets(pipeline))
        total = _remaining(_offsets(pipeline), stop_at)
        progress(
            f"{total:,} messages to land from {len(stop_at)} partitions of {', '.join(topics)}"
        )
        if on_landed:
            on_landed(0, total)
        loads, landed = 0, 0
        steps: dict[str, float] = {}
        try:
            while (remaining := _remaining(_offsets(pipeline), stop_at)) > 0:
                source = kafka_events(
                    topics,
                    stop_at=stop_at,
                    page_size=page_size,
                    dead_letter_topic=dead_letter_topic,
                    settings=s,
                    pages=prefetcher.chunk(),
                )
                try:
                    _load_chunk(pipeline, source, load_workers, steps)
                except Exception as exc:
                    raise abort_failed_package(pipeline, exc, s) from exc
                loads += 1
                landed += remaining - _remaining(_offsets(pipeline), stop_at)
                elapsed = time.perf_counter() - started
                progress(f"load {loads}: {landed:,}/{total:,} messages, {landed / elapsed:,.0f}/s")
                if on_landed:
                    on_landed(landed, total)
                if prefetcher.finished:
                    break
        finally:
            prefetcher.close()
        if (left := _remaining(_offsets(pipeline), stop_at)) > 0:
            raise YTEmpireError(
                f"the read ended with {left:,} messages below the high-water marks of {topics}; "
                "rerun `ytempire ingest events` to land them."
            )
        return LandingSummary(loads, landed, time.perf_counter() - started, steps)


def dead_letters_since(since: datetime, settings: Settings | None = None) -> int:
    """Messages dead-lettered into ``raw_events.dead_letters`` at or after ``since`` (UTC)."""
    from ytempire.clients import pg_cursor

    with pg_cursor("loader", settings=settings) as cur:
        cur.execute("select to_regclass('raw_events.dead_letters') is not null")
        row = cur.fetchone()
        if not (row and row[0]):
            return 0
        cur.execute(
            "select count(*) from raw_events.dead_letters where dead_lettered_at >= %s", (since,)
        )
        counted = cur.fetchone()
    return int(counted[0]) if counted else 0
