"""Record each pipeline stage's attempt for a business day in ``analytics.pipeline_stage_runs``.

A stage (``collection``, ``events_landing``, ``streaming_windows``, ``dbt_build``,
``validation_raw``, ``validation_marts``, ``quality_scores``, ``anomaly_detection``,
``report``) wraps its work in :func:`record_stage`; the daily report reads the
rows back. Whoever runs the stage (the CLI, an Airflow task calling the same
function) records it the same way, so the report does not depend on the
scheduler. Every attempt is its own row: a retry adds a row, the report shows
the latest attempt per stage and day.

The row is written in autocommit, outside the stage's own transactions, so a
failed stage still leaves its ``failed`` row with the error text.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from psycopg.types.json import Jsonb

from ytempire.clients import pg_connect
from ytempire.redaction import redact_error
from ytempire.settings import Settings

STAGES = (
    "collection",
    "events_landing",
    "streaming_windows",
    "dbt_build",
    "validation_raw",
    "validation_marts",
    "quality_scores",
    "anomaly_detection",
    "report",
)


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


@contextmanager
def record_stage(
    stage: str, run_date: date, *, settings: Settings | None = None
) -> Iterator[StageRun]:
    """Record one attempt of ``stage`` for ``run_date``: running, then success or failed.

    Raises ``ValueError`` for a stage not in :data:`STAGES`. The stage's own
    exception propagates unchanged after its ``failed`` row (with the error's
    type and message) is written.
    """
    if stage not in STAGES:
        raise ValueError(f"unknown pipeline stage {stage!r}; known: {', '.join(STAGES)}")
    with pg_connect("loader", autocommit=True, settings=settings) as conn:
        row = conn.execute(
            "insert into analytics.pipeline_stage_runs (run_date, stage, status) "
            "values (%s, %s, 'running') returning stage_run_id",
            (run_date, stage),
        ).fetchone()
        assert row is not None
        run = StageRun(stage_run_id=row[0], stage=stage, run_date=run_date)
        try:
            yield run
        except BaseException as exc:
            _finish(conn, run, "failed", redact_error(exc, settings))
            raise
        _finish(conn, run, "success", None)


def _finish(conn: Any, run: StageRun, status: str, error: str | None) -> None:
    conn.execute(
        "update analytics.pipeline_stage_runs set status = %s, error = %s, details = %s, "
        "finished_at = clock_timestamp() where stage_run_id = %s",
        (status, error, Jsonb(run.details), run.stage_run_id),
    )
