"""Record each pipeline stage's attempt for a business day in ``analytics.pipeline_stage_runs``.

A stage (``collection``, ``events_landing``, ``owner_reports``, ``owner_revenue``,
``streaming_windows``, ``dbt_build``, ``validation_raw``, ``validation_owner``,
``validation_marts``, ``quality_scores``, ``anomaly_detection``,
``report``) wraps its work in :func:`record_stage`; the daily report reads the
rows back. Whoever runs the stage (the CLI, an Airflow task calling the same
function) records it the same way, so the report does not depend on the
scheduler. Every attempt is its own row: a retry adds a row, the report shows
the latest attempt per stage and day.

The row is written in autocommit, outside the stage's own transactions, so a
failed stage still leaves its ``failed`` row with the error text (redacted:
:func:`ytempire.redaction.redact_error`).

Statuses: ``running`` -> ``success`` | ``failed``; or ``abandoned``. While a
stage runs, a thread of its process writes ``heartbeat_at`` every
:data:`HEARTBEAT_S` seconds. A process killed outright (SIGKILL, OOM, a lost
machine) writes no outcome, so a ``running`` row whose last heartbeat is older
than its ``heartbeat_timeout_s`` (:data:`HEARTBEAT_TIMEOUT_S` unless the stage
says otherwise) is ``abandoned`` (:func:`abandon_stale_stages`, run as every
stage starts): it did not finish and never will. Its ``finished_at`` is the
last heartbeat. Should its process in fact finish later, its outcome replaces
``abandoned``.

The database going away mid-stage (a restart) does not leave the row
``running``: the outcome is written on a new connection once the server
answers again (retried for :data:`RECORD_RETRY_S`); if it never does, the row
is ``abandoned`` once its heartbeat is stale. Either way the stage's own error
propagates unchanged.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from tenacity import Retrying, retry_if_exception_type, stop_after_delay, wait_exponential

from ytempire.clients import pg_connect
from ytempire.errors import ServiceUnavailable, YTEmpireError
from ytempire.redaction import redact_error, redact_text
from ytempire.settings import Settings

log = logging.getLogger(__name__)

STAGES = (
    "collection",
    "events_landing",
    "owner_reports",
    "owner_revenue",
    "streaming_windows",
    "dbt_build",
    "validation_raw",
    "validation_owner",
    "validation_marts",
    "quality_scores",
    "anomaly_detection",
    "report",
)
STATUSES = ("running", "success", "failed", "abandoned")
# A running stage's process writes its heartbeat this often (seconds).
HEARTBEAT_S = 30.0
# A running row with no heartbeat for this long is abandoned: 20 missed beats.
HEARTBEAT_TIMEOUT_S = 600
# How long the outcome of a stage is retried when the database went away mid-stage.
RECORD_RETRY_S = 60.0

_ABANDON_SQL = """
update analytics.pipeline_stage_runs
set status = 'abandoned',
    finished_at = coalesce(heartbeat_at, started_at),
    error = 'abandoned: no heartbeat since '
        || to_char(coalesce(heartbeat_at, started_at) at time zone 'UTC',
                   'YYYY-MM-DD"T"HH24:MI:SS"Z"')
        || ' (its timeout is ' || heartbeat_timeout_s || ' s): its process ended without '
        || 'recording an outcome (killed?). Next: run the stage again.'
where status = 'running'
  and coalesce(heartbeat_at, started_at)
      < clock_timestamp() - make_interval(secs => heartbeat_timeout_s)
"""


@dataclass
class StageRun:
    """The attempt being recorded; put counts for the report in ``details``."""

    stage_run_id: int
    stage: str
    run_date: date
    details: dict[str, Any] = field(default_factory=dict)


def as_details(result: Any) -> dict[str, Any]:
    """A stage's result dataclass as JSON-ready ``details`` (dates and paths as strings)."""
    loaded: dict[str, Any] = json.loads(json.dumps(asdict(result), default=str))
    return loaded


def abandon_stale_stages(conn: psycopg.Connection[Any]) -> int:
    """Mark ``abandoned`` every running row whose heartbeat is older than its timeout.

    ``conn`` is an autocommit connection of a role that may update the table
    (the loader). Returns how many rows it marked.
    """
    return conn.execute(_ABANDON_SQL).rowcount


class _Recorder:
    """The stage's own autocommit connection, opened again if the server went away."""

    def __init__(self, settings: Settings | None) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._conn: psycopg.Connection[Any] | None = None

    def execute(self, query: str, params: Any = None) -> list[Any]:
        """Run one statement; its rows if it returns any."""
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = pg_connect("loader", autocommit=True, settings=self.settings)
            try:
                cur = self._conn.execute(query, params)
                return cur.fetchall() if cur.description is not None else []
            except psycopg.OperationalError:
                self._conn.close()
                self._conn = None
                raise

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _beat(recorder: _Recorder, run: StageRun, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_S):
        try:
            recorder.execute(
                "update analytics.pipeline_stage_runs set heartbeat_at = clock_timestamp() "
                "where stage_run_id = %s and status = 'running'",
                (run.stage_run_id,),
            )
        except (psycopg.Error, YTEmpireError) as exc:  # the next beat tries again
            log.debug("heartbeat of %s #%d: %s", run.stage, run.stage_run_id, exc)


@contextmanager
def record_stage(
    stage: str,
    run_date: date,
    *,
    settings: Settings | None = None,
    heartbeat_timeout_s: int = HEARTBEAT_TIMEOUT_S,
) -> Iterator[StageRun]:
    """Record one attempt of ``stage`` for ``run_date``: running, then success or failed.

    Raises ``ValueError`` for a stage not in :data:`STAGES`, and
    ``ServiceUnavailable`` if the row cannot be written at the start. The
    stage's own exception propagates unchanged after its ``failed`` row (with
    the error's type and redacted message) is written. ``heartbeat_timeout_s``:
    how long the row may go without a heartbeat before it counts as abandoned.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown pipeline stage {stage!r}; known: {', '.join(STAGES)}")
    recorder = _Recorder(settings)
    try:
        recorder.execute(_ABANDON_SQL)
        row = recorder.execute(
            "insert into analytics.pipeline_stage_runs (run_date, stage, status, heartbeat_at, "
            "heartbeat_timeout_s) values (%s, %s, 'running', clock_timestamp(), %s) "
            "returning stage_run_id",
            (run_date, stage, heartbeat_timeout_s),
        )
    except psycopg.OperationalError as exc:
        recorder.close()
        s = recorder.settings
        where = "PostgreSQL" if s is None else f"{s.pg_host}:{s.pg_port}"
        raise ServiceUnavailable("PostgreSQL", where, exc) from exc
    run = StageRun(stage_run_id=row[0][0], stage=stage, run_date=run_date)
    stop = threading.Event()
    heartbeat = threading.Thread(
        target=_beat, args=(recorder, run, stop), name=f"heartbeat-{stage}", daemon=True
    )
    heartbeat.start()
    try:
        try:
            yield run
        except BaseException as exc:
            stop.set()
            _finish(recorder, run, "failed", redact_error(exc, settings))
            raise
        stop.set()
        _finish(recorder, run, "success", None)
    finally:
        stop.set()
        heartbeat.join()
        recorder.close()


def _redacted(details: dict[str, Any], settings: Settings | None) -> Any:
    """``details`` with any secret in its text redacted (a failure reason quoting a URL)."""
    return json.loads(redact_text(json.dumps(details, default=str), settings))


def _finish(recorder: _Recorder, run: StageRun, status: str, error: str | None) -> None:
    """Write the outcome; if the database is away, wait for it (bounded), then give up loudly.

    Giving up never hides the stage's own outcome: a failed stage's error
    still propagates, and a successful stage raises ``ServiceUnavailable``
    saying its outcome could not be recorded.
    """
    retrying = Retrying(
        retry=retry_if_exception_type((psycopg.OperationalError, ServiceUnavailable)),
        stop=stop_after_delay(RECORD_RETRY_S),
        wait=wait_exponential(multiplier=0.5, max=5),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                recorder.execute(
                    "update analytics.pipeline_stage_runs set status = %s, error = %s, "
                    "details = %s, finished_at = clock_timestamp() where stage_run_id = %s",
                    (
                        status,
                        error,
                        Jsonb(_redacted(run.details, recorder.settings)),
                        run.stage_run_id,
                    ),
                )
    except (psycopg.OperationalError, ServiceUnavailable) as exc:
        log.error(
            "the outcome (%s) of stage %s #%d could not be recorded: %s; the row counts as "
            "abandoned once its heartbeat is %s s old",
            status,
            run.stage,
            run.stage_run_id,
            exc,
            HEARTBEAT_TIMEOUT_S,
        )
        if status == "success":
            raise
