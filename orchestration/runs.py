"""Runs of ``ytempire_daily`` through Airflow, and what each task did.

A quota day ``D`` is the data interval [D 02:00, D+1 02:00) Pacific. Airflow
files the scheduler's run of it, and a backfill's, under the interval's start
(logical date D 02:00 Pacific), but a manual run (a trigger, ``airflow dags
test``) under D+1 02:00 Pacific: Airflow infers a manual run's interval as the
last complete one before its logical date. Runs are therefore found by their
data interval, whoever made them.
:func:`run_day` runs the whole DAG with ``airflow dags test`` (every task in
one process, recorded in the metadata database like a scheduled run) and
reads the task instances back.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from datetime import time as clock

from orchestration.airflow_local import (
    AIRFLOW_ROLE,
    AirflowConfig,
    airflow_env,
    airflow_executable,
)
from orchestration.schedule import RUN_HOUR
from ytempire.quota import PACIFIC
from ytempire.settings import Settings, get_settings

DAG_ID = "ytempire_daily"


@dataclass(frozen=True)
class TaskResult:
    """One task instance of a run: state (success, failed, upstream_failed, ...) and seconds."""

    task_id: str
    state: str | None
    seconds: float | None
    tries: int


@dataclass(frozen=True)
class DagRunResult:
    run_id: str
    state: str
    seconds: float
    tasks: list[TaskResult]
    output: str

    def state_of(self, task_id: str) -> str | None:
        """The state of ``task_id``; ``KeyError`` if the run has no such task."""
        return next(t.state for t in self.tasks if t.task_id == task_id)


def logical_date_for(day: date) -> datetime:
    """The logical date of a manual run whose data interval is quota ``day`` (pure)."""
    return datetime.combine(day + timedelta(days=1), clock(RUN_HOUR), tzinfo=PACIFIC)


def interval_start_for(day: date) -> datetime:
    """The data interval start of quota ``day``: the logical date of its scheduled run (pure)."""
    return datetime.combine(day, clock(RUN_HOUR), tzinfo=PACIFIC)


def run_day(
    config: AirflowConfig,
    day: date,
    *,
    settings: Settings | None = None,
    env: Mapping[str, str] | None = None,
    extra_args: Sequence[str] = (),
) -> DagRunResult:
    """Run ``ytempire_daily`` for quota ``day`` with ``airflow dags test``; return its tasks.

    ``extra_args`` go to ``airflow dags test`` (e.g. ``--mark-success-pattern``).
    A failed task does not raise: the result's ``state`` says ``failed``.
    Raises ``RuntimeError`` when Airflow recorded no run at all (the DAG did
    not import, the metadata database is unreachable), with Airflow's output.
    """
    s = settings or get_settings()
    logical = logical_date_for(day)
    started = time.monotonic()
    proc = subprocess.run(
        [airflow_executable(), "dags", "test", DAG_ID, logical.isoformat(), *extra_args],
        env=airflow_env(config, s, env),
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    found = _read_run(config, s, day)
    if found is None:
        raise RuntimeError(
            f"airflow dags test {DAG_ID} {logical.isoformat()} recorded no run "
            f"(exit {proc.returncode}):\n{output[-3000:]}"
        )
    run_id, state, tasks, _ = found
    return DagRunResult(run_id, state, seconds, tasks, output)


def read_day(
    config: AirflowConfig, day: date, *, settings: Settings | None = None
) -> DagRunResult | None:
    """The latest recorded run of ``ytempire_daily`` for quota ``day``, or ``None``.

    Whoever ran it (``ytempire airflow run``, the scheduler, a backfill); the
    result's ``seconds`` is the run's own start to end, ``output`` is empty.
    """
    s = settings or get_settings()
    found = _read_run(config, s, day)
    if found is None:
        return None
    run_id, state, tasks, seconds = found
    return DagRunResult(run_id, state, seconds or 0.0, tasks, "")


def _read_run(
    config: AirflowConfig, settings: Settings, day: date
) -> tuple[str, str, list[TaskResult], float | None] | None:
    import psycopg

    with psycopg.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        dbname=config.database,
        user=AIRFLOW_ROLE,
        password=config.password,
        connect_timeout=10,
    ) as conn:
        # The run's wall time from its tasks: `airflow dags test` records the logical
        # date as the run's start_date.
        row = conn.execute(
            "select r.run_id, r.state, (select extract(epoch from max(t.end_date) - "
            "min(t.start_date)) from task_instance as t "
            "where t.dag_id = r.dag_id and t.run_id = r.run_id) "
            "from dag_run as r where r.dag_id = %s and r.data_interval_start = %s "
            "order by r.id desc limit 1",
            (DAG_ID, interval_start_for(day)),
        ).fetchone()
        if row is None:
            return None
        tasks = conn.execute(
            "select task_id, state, extract(epoch from end_date - start_date), try_number "
            "from task_instance where dag_id = %s and run_id = %s "
            "order by start_date nulls last, task_id",
            (DAG_ID, row[0]),
        ).fetchall()
    return (
        row[0],
        row[1],
        [TaskResult(t[0], t[1], None if t[2] is None else float(t[2]), t[3]) for t in tasks],
        None if row[2] is None else float(row[2]),
    )


# Cosmos' task id suffixes, dropped in the runs table (the group says it is dbt).
_DBT_SUFFIXES = ("_model_build", "_seed_build", "_snapshot_build")
_NAME_WIDTH = 56


def _short(task_id: str) -> str:
    for suffix in _DBT_SUFFIXES:
        task_id = task_id.removesuffix(suffix)
    return task_id if len(task_id) <= _NAME_WIDTH else task_id[: _NAME_WIDTH - 1] + "…"


def runs_table(runs: Sequence[tuple[date, DagRunResult]]) -> str:
    """Every task of one or more runs: a row per task, per run its state and seconds (pure).

    Rows follow the first run's task order; ``xN`` marks a task that took N
    tries; the last line is each run's state and wall time.
    """
    order: dict[str, None] = {}
    for _, run in runs:
        order.update(dict.fromkeys(t.task_id for t in run.tasks))
    cells = {(d, t.task_id): t for d, run in runs for t in run.tasks}
    lines = [f"  {'task':<{_NAME_WIDTH}}" + "".join(f"  {d!s:>23}" for d, _ in runs)]
    for task_id in order:
        row = f"  {_short(task_id):<{_NAME_WIDTH}}"
        for day, _ in runs:
            t = cells.get((day, task_id))
            state = (t.state or "none") if t else "-"
            tries = f" x{t.tries}" if t and t.tries > 1 else ""
            secs = "" if t is None or t.seconds is None else f"{t.seconds:.1f}s"
            row += f"  {state + tries:<16}{secs:>7}"
        lines.append(row)
    lines.append(
        f"  {'the run':<{_NAME_WIDTH}}"
        + "".join(f"  {run.state:<16}{run.seconds:>6.0f}s" for _, run in runs)
    )
    return "\n".join(lines)
