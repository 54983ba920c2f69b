"""``ytempire airflow``: the local Airflow (init, start, stop, status) and daily runs.

``start`` launches the api-server, scheduler and dag-processor detached, on
loopback, with logs and pid files under ``$YTEMPIRE_AIRFLOW_HOME``; ``run``
runs the DAG for given quota days through Airflow (``airflow dags test``: one
process, every task, the real metadata database), one day after the other like
a backfill, and prints each task's state and duration; ``runs`` prints the
recorded runs of given days, whoever ran them.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import click

from orchestration.airflow_local import (
    PROCESSES,
    AirflowConfig,
    airflow_env,
    airflow_executable,
    api_ready,
    init_metadata_database,
    parse_dbt_project,
)
from orchestration.runs import (
    DAG_ID,
    DagRunResult,
    logical_date_for,
    read_day,
    run_day,
    runs_table,
)
from ytempire.errors import YTEmpireError

START_TIMEOUT_S = 300


@click.group()
def airflow() -> None:
    """Airflow 3 on the local stack: metadata database, processes, DAG runs."""


@airflow.command("init")
def init() -> None:
    """Create Airflow's role and database, migrate it, and write the dbt manifest. Re-runnable."""
    config = AirflowConfig.from_env()
    init_metadata_database(config, progress=lambda msg: click.echo(f"  {msg}"))
    click.echo(f"  dbt parse -> {parse_dbt_project()}")
    click.echo(f"airflow metadata database {config.database} is up to date")


def _pid_file(config: AirflowConfig, process: str) -> Path:
    return config.home / f"{process}.pid"


def _running(config: AirflowConfig, process: str) -> int | None:
    path = _pid_file(config, process)
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink()
        return None
    return pid


@airflow.command("start")
@click.option("--no-init", is_flag=True, help="Skip `ytempire airflow init`.")
def start(no_init: bool) -> None:
    """Start api-server, scheduler and dag-processor on loopback; print the UI address."""
    config = AirflowConfig.from_env()
    if not no_init:
        init_metadata_database(config, progress=lambda msg: click.echo(f"  {msg}"))
        parse_dbt_project()
    logs = config.home / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = airflow_env(config)
    for process in PROCESSES:
        if _running(config, process):
            click.echo(f"  {process}: already running")
            continue
        with (logs / f"{process}.log").open("ab") as log:
            child = subprocess.Popen(
                [airflow_executable(), process],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # outlives this command, like the other services
            )
        _pid_file(config, process).write_text(str(child.pid))
        click.echo(f"  {process}: started (pid {child.pid}, log {logs / f'{process}.log'})")
    deadline = time.monotonic() + START_TIMEOUT_S
    while not api_ready(config):
        if time.monotonic() > deadline or not _running(config, "api-server"):
            raise YTEmpireError(
                f"the Airflow api-server did not answer on {config.url} within "
                f"{START_TIMEOUT_S}s. Next: see {logs / 'api-server.log'}."
            )
        time.sleep(1)
    click.echo(f"Airflow UI: {config.url}  (login {config.admin_user} / {config.admin_password})")
    click.echo(f"dbt docs:   {config.docs_url} (the UI's Browse menu links it)")


@airflow.command("stop")
def stop() -> None:
    """Stop the processes `start` launched (by their pid files)."""
    config = AirflowConfig.from_env()
    for process in reversed(PROCESSES):
        pid = _running(config, process)
        if pid is None:
            click.echo(f"  {process}: not running")
            continue
        os.killpg(pid, signal.SIGTERM)
        _pid_file(config, process).unlink(missing_ok=True)
        click.echo(f"  {process}: stopped (pid {pid})")


@airflow.command("status")
def status() -> None:
    """Is each Airflow process running, and does the api-server answer?"""
    config = AirflowConfig.from_env()
    for process in PROCESSES:
        pid = _running(config, process)
        click.echo(f"  {process:<14} {'up' if pid else 'DOWN':<5} {pid or ''}")
    click.echo(f"  api health     {'ok' if api_ready(config) else 'no answer'}  {config.url}")


def _days(dates: tuple[datetime, ...], first: datetime | None, last: datetime | None) -> list[date]:
    days = [d.date() for d in dates]
    if (first is None) != (last is None):
        raise click.UsageError("--from and --to go together")
    if first is not None and last is not None:
        if last < first:
            raise click.BadParameter(
                f"{last.date()} is before --from {first.date()}", param_hint="--to"
            )
        days += [first.date() + timedelta(days=n) for n in range((last - first).days + 1)]
    if not days:
        raise click.UsageError("name the quota days: --date D (repeatable) or --from D --to D")
    return sorted(set(days))


_DAY = click.DateTime(formats=["%Y-%m-%d"])


@airflow.command("run")
@click.option("--date", "dates", multiple=True, type=_DAY, help="Quota day (Pacific); repeatable.")
@click.option("--from", "first", type=_DAY, help="First quota day of a range (a backfill).")
@click.option("--to", "last", type=_DAY, help="Last quota day of the range, included.")
@click.option("--keep-going", is_flag=True, help="Run the next day after a failed run.")
@click.option("--table/--no-table", default=True, help="Print every task at the end.")
def run(
    dates: tuple[datetime, ...],
    first: datetime | None,
    last: datetime | None,
    keep_going: bool,
    table: bool,
) -> None:
    """Run ytempire_daily through Airflow for each quota day, oldest first; print each task.

    Days run one after the other, as the DAG's max_active_runs=1 makes a
    backfill run them; a failed day stops the rest unless --keep-going.
    """
    config = AirflowConfig.from_env()
    failed: list[date] = []
    done: list[tuple[date, DagRunResult]] = []
    for day in _days(dates, first, last):
        click.echo(f"{DAG_ID} for quota day {day} (logical date {logical_date_for(day)}) ...")
        result = run_day(config, day)
        done.append((day, result))
        states = Counter(t.state or "none" for t in result.tasks)
        counts = ", ".join(f"{n} {state}" for state, n in states.most_common())
        click.echo(f"  run {result.run_id}: {result.state} in {result.seconds:.0f} s ({counts})")
        if result.state != "success":
            failed.append(day)
            if not keep_going:
                break
    if table:
        click.echo(runs_table(done))
    if failed:
        raise YTEmpireError(
            f"{DAG_ID} failed for {', '.join(map(str, failed))}. Next: read the failed task's "
            f"log under {config.home / 'logs'}, fix, and rerun the day (it converges)."
        )


@airflow.command("runs")
@click.option("--date", "dates", multiple=True, type=_DAY, help="Quota day (Pacific); repeatable.")
@click.option("--from", "first", type=_DAY, help="First quota day of a range.")
@click.option("--to", "last", type=_DAY, help="Last quota day of the range, included.")
def runs(dates: tuple[datetime, ...], first: datetime | None, last: datetime | None) -> None:
    """Print the latest recorded run of each quota day, task by task (any way it was run)."""
    config = AirflowConfig.from_env()
    found: list[tuple[date, DagRunResult]] = []
    for day in _days(dates, first, last):
        result = read_day(config, day)
        if result is None:
            click.echo(f"  {day}: no run of {DAG_ID} recorded")
        else:
            found.append((day, result))
    if found:
        click.echo(runs_table(found))
