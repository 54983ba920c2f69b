"""Runs of ``ytempire_daily`` through Airflow's scheduler, and what each task did.

A quota day ``D`` is the data interval [D 02:00, D+1 02:00) Pacific. The
scheduler files its own run of it, and a backfill's, under the interval's
start (logical date D 02:00 Pacific); a manual run (a trigger, ``airflow dags
test``) carries D+1 02:00 Pacific, since Airflow infers a manual run's
interval as the last complete one before its logical date. A trigger may also
name the day in the ``quota_day`` param (the trigger form, :func:`trigger_day`),
which the tasks obey. Runs are therefore found by their ``quota_day`` param or,
without one, by their data interval, whoever made them.

:func:`run_day` is the production path: it triggers a run for the day through
the api-server (``POST /api/v2/dags/ytempire_daily/dagRuns``, run id
``manual__quota_day_<D>__<UTC time>``, ``quota_day`` param, the DAG unpaused
first), lets the scheduler run it, and waits on the run's recorded state until
it ends. :func:`dags_test_day` runs the DAG with ``airflow dags test`` (every
task in one process, no scheduler), kept for the benchmark's comparison.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from typing import Any

from orchestration.airflow_local import (
    AIRFLOW_ROLE,
    AirflowConfig,
    airflow_env,
    airflow_executable,
    ensure_dag_manifest,
)
from orchestration.schedule import RUN_HOUR
from ytempire.errors import YTEmpireError
from ytempire.quota import PACIFIC
from ytempire.settings import Settings, get_settings

DAG_ID = "ytempire_daily"
QUOTA_DAY_PARAM = "quota_day"  # orchestration.daily.QUOTA_DAY_PARAM
TERMINAL_STATES = frozenset({"success", "failed"})


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


def dags_test_day(
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
    ensure_dag_manifest()  # what the DAG file renders its dbt tasks from
    started = time.monotonic()
    full_env = airflow_env(config, s, env)
    # One process runs one task at a time in no fixed order: a dbt watcher run before
    # its producer must give way (reschedule), not poke in place (see the DAG file).
    full_env["YTEMPIRE_AIRFLOW_WATCHER_MODE"] = "reschedule"
    proc = subprocess.run(
        [airflow_executable(), "dags", "test", DAG_ID, logical.isoformat(), *extra_args],
        env=full_env,
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


class AirflowApi:
    """The api-server's REST API (``/api/v2``) as the local admin, for triggering and clearing.

    Logs in once (``POST /auth/token``, the simple auth manager) with the
    installation's admin login. Every call raises ``YTEmpireError`` with the
    api-server's answer when it is not 2xx, or when the api-server is down.
    """

    def __init__(self, config: AirflowConfig, timeout_s: float = 120) -> None:
        self.config = config
        self.timeout_s = timeout_s
        self._token: str | None = None

    def _send(self, method: str, path: str, body: Any = None, token: bool = True) -> Any:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {self.token()}"
        request = urllib.request.Request(  # noqa: S310 (loopback URL of our own stack)
            f"{self.config.url}{path}",
            data=None if body is None else json.dumps(body).encode(),
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:  # noqa: S310
                payload = response.read()
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:2000]
            raise YTEmpireError(
                f"Airflow's API refused {method} {path}: {error.code} {detail}"
            ) from None
        except OSError as error:
            raise YTEmpireError(
                f"Airflow's api-server at {self.config.url} did not answer {method} {path} "
                f"({error}). Next: `ytempire airflow start` (or `ytempire airflow status`)."
            ) from None
        return json.loads(payload) if payload else None

    def token(self) -> str:
        if self._token is None:
            answer = self._send(
                "POST",
                "/auth/token",
                {"username": self.config.admin_user, "password": self.config.admin_password},
                token=False,
            )
            self._token = str(answer["access_token"])
        return self._token

    def dag_is_parsed(self, dag_id: str = DAG_ID) -> bool:
        """Has the dag-processor stored ``dag_id``? Raises ``YTEmpireError`` on an import error.

        The error names the file and Airflow's traceback (``/api/v2/importErrors``).
        """
        errors = self._send("GET", "/api/v2/importErrors")["import_errors"]
        if errors:
            first = errors[0]
            trace = str(first.get("stack_trace", ""))[-3000:]
            raise YTEmpireError(
                f"Airflow cannot import {first['filename']}:\n{trace}\nNext: fix the DAG "
                "file (or the dbt manifest it reads), then `ytempire airflow start`."
            )
        try:
            self._send("GET", f"/api/v2/dags/{dag_id}")
        except YTEmpireError as error:
            if ": 404 " in str(error):
                return False
            raise
        return True

    def unpause(self, dag_id: str = DAG_ID) -> None:
        """Unpause ``dag_id`` (its timetable starts no past day on unpause)."""
        self._send("PATCH", f"/api/v2/dags/{dag_id}?update_mask=is_paused", {"is_paused": False})

    def trigger(self, day: date) -> str:
        """Queue a run of quota ``day`` (its interval, its ``quota_day``); its run id."""
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        run_id = f"manual__quota_day_{day.isoformat()}__{stamp}"
        start = interval_start_for(day)
        self._send(
            "POST",
            f"/api/v2/dags/{DAG_ID}/dagRuns",
            {
                "dag_run_id": run_id,
                "logical_date": start.isoformat(),
                "data_interval_start": start.isoformat(),
                "data_interval_end": interval_start_for(day + timedelta(days=1)).isoformat(),
                "conf": {QUOTA_DAY_PARAM: day.isoformat()},
            },
        )
        return run_id

    def clear(
        self, run_id: str, *, only_failed: bool, task_ids: Sequence[str] | None = None
    ) -> list[str]:
        """Clear a run's tasks and what follows them; the cleared tasks' ids.

        All of them, or ``task_ids``; with ``only_failed``, the failed ones
        among those. The scheduler then runs them again in the same run: how a
        day, or a part of it, is redone.
        """
        body: dict[str, Any] = {
            "dry_run": False,
            "dag_run_id": run_id,
            "only_failed": only_failed,
            "include_downstream": True,
            "reset_dag_runs": True,
        }
        if task_ids:
            body["task_ids"] = list(task_ids)
        answer = self._send("POST", f"/api/v2/dags/{DAG_ID}/clearTaskInstances", body)
        return [ti["task_id"] for ti in (answer or {}).get("task_instances", [])]

    def health(self) -> dict[str, Any]:
        """``/api/v2/monitor/health``: each component's status."""
        return dict(self._send("GET", "/api/v2/monitor/health", token=False))


def run_day(
    config: AirflowConfig,
    day: date,
    *,
    settings: Settings | None = None,
    only_failed: bool = False,
    task_ids: Sequence[str] | None = None,
    on_progress: Callable[[str], None] = lambda _line: None,
) -> DagRunResult:
    """Run ``ytempire_daily`` for quota ``day`` through the scheduler; wait until it ends.

    A day without a run is triggered (:meth:`AirflowApi.trigger`, the DAG
    unpaused first); a day that has one (scheduled, triggered or backfilled)
    is cleared and re-run in place, all of it or, with ``only_failed``, its
    failed tasks and what follows them, or ``task_ids`` and what follows
    them (:meth:`AirflowApi.clear`). A failed run does not raise: the
    result's ``state`` says ``failed``. Raises ``YTEmpireError`` when the
    api-server or the scheduler is not running (what to start is named).
    """
    s = settings or get_settings()
    api = AirflowApi(config)
    started = time.monotonic()
    _require_scheduler(api)
    existing = _read_run(config, s, day)
    if existing is None:
        api.unpause()
        run_id = api.trigger(day)
        on_progress(f"triggered {run_id}")
    else:
        run_id = existing[0]
        cleared = api.clear(run_id, only_failed=only_failed, task_ids=task_ids)
        api.unpause()
        on_progress(f"cleared {len(cleared)} task(s) of {run_id}")
    state = wait_for_run(config, run_id, settings=s, api=api, on_progress=on_progress)
    found = _read_run(config, s, day, run_id=run_id)
    assert found is not None  # we just watched it end
    _, _, tasks, _ = found
    return DagRunResult(run_id, state, time.monotonic() - started, tasks, "")


def _require_scheduler(api: AirflowApi) -> None:
    health = api.health()
    down = [
        name
        for name in ("scheduler", "dag_processor")
        if (health.get(name) or {}).get("status") != "healthy"
    ]
    if down:
        raise YTEmpireError(
            f"Airflow's {' and '.join(down)} is not running (the api-server says so). "
            "Next: `ytempire airflow start` (or `make airflow`)."
        )


def wait_for_run(
    config: AirflowConfig,
    run_id: str,
    *,
    settings: Settings | None = None,
    api: AirflowApi | None = None,
    poll_s: float = 2.0,
    on_progress: Callable[[str], None] = lambda _line: None,
) -> str:
    """Wait until run ``run_id`` of ``ytempire_daily`` is ``success`` or ``failed``; its state.

    Reads the run's recorded state (the metadata database) every ``poll_s``
    and reports each change of its tasks' states. No deadline: a run takes
    what it takes; what ends the wait instead is the scheduler stopping, which
    raises ``YTEmpireError`` (three health checks in a row, a minute apart).
    """
    s = settings or get_settings()
    api = api or AirflowApi(config)
    last_summary = ""
    unhealthy = 0
    next_health = time.monotonic() + 60
    while True:
        state, counts = _run_state(config, s, run_id)
        summary = ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))
        if summary != last_summary:
            on_progress(f"{state}: {summary}")
            last_summary = summary
        if state in TERMINAL_STATES:
            return state
        if time.monotonic() >= next_health:
            next_health = time.monotonic() + 60
            scheduler = (api.health().get("scheduler") or {}).get("status")
            unhealthy = 0 if scheduler == "healthy" else unhealthy + 1
            if unhealthy >= 3:
                raise YTEmpireError(
                    f"Airflow's scheduler stopped while {run_id} was {state}. "
                    "Next: `ytempire airflow start`; the run goes on where it stopped."
                )
        time.sleep(poll_s)


def _run_state(
    config: AirflowConfig, settings: Settings, run_id: str
) -> tuple[str, dict[str, int]]:
    with _metadata(config, settings) as conn:
        row = conn.execute(
            "select state from dag_run where dag_id = %s and run_id = %s", (DAG_ID, run_id)
        ).fetchone()
        if row is None:
            raise YTEmpireError(f"no run {run_id} of {DAG_ID} in {config.database}")
        counts = conn.execute(
            "select coalesce(state, 'none'), count(*) from task_instance "
            "where dag_id = %s and run_id = %s group by 1",
            (DAG_ID, run_id),
        ).fetchall()
    return str(row[0]), {name: int(n) for name, n in counts}


def _metadata(config: AirflowConfig, settings: Settings) -> Any:
    import psycopg

    return psycopg.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        dbname=config.database,
        user=AIRFLOW_ROLE,
        password=config.password,
        connect_timeout=10,
    )


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
    config: AirflowConfig, settings: Settings, day: date, *, run_id: str | None = None
) -> tuple[str, str, list[TaskResult], float | None] | None:
    """The latest run of quota ``day`` (or the run ``run_id``): id, state, tasks, seconds."""
    with _metadata(config, settings) as conn:
        # The run's wall time from its tasks: `airflow dags test` records the logical
        # date as the run's start_date.
        row = conn.execute(
            "select r.run_id, r.state, (select extract(epoch from max(t.end_date) - "
            "min(t.start_date)) from task_instance as t "
            "where t.dag_id = r.dag_id and t.run_id = r.run_id) "
            "from dag_run as r where r.dag_id = %(dag)s and ("
            "r.run_id = %(run_id)s or (%(run_id)s is null and ("
            "r.conf ->> %(param)s = %(day)s or (coalesce(r.conf ->> %(param)s, '') = '' "
            "and r.data_interval_start = %(start)s)))) order by r.id desc limit 1",
            {
                "dag": DAG_ID,
                "run_id": run_id,
                "param": QUOTA_DAY_PARAM,
                "day": day.isoformat(),
                "start": interval_start_for(day),
            },
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
