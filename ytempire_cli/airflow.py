"""``ytempire airflow``: the local Airflow (init, start, stop, status) and daily runs.

``start`` launches the api-server, scheduler and dag-processor detached, on
loopback, with logs and pid files under ``$YTEMPIRE_AIRFLOW_HOME``; ``run``
runs the DAG for given quota days through Airflow (``airflow dags test``: one
process, every task, the real metadata database) and prints each task's state
and duration.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from datetime import date, datetime
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
from orchestration.runs import DAG_ID, logical_date_for, run_day, task_table
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


@airflow.command("run")
@click.option(
    "--date",
    "days",
    multiple=True,
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Quota day (Pacific) to run; repeatable, run in order.",
)
@click.option("--keep-going", is_flag=True, help="Run the next day after a failed run.")
def run(days: tuple[datetime, ...], keep_going: bool) -> None:
    """Run ytempire_daily through Airflow for each quota day; print each task's state."""
    config = AirflowConfig.from_env()
    failed: list[date] = []
    for when in days:
        day = when.date()
        click.echo(f"\n{DAG_ID} for quota day {day} (logical date {logical_date_for(day)})")
        result = run_day(config, day)
        click.echo(task_table(result.tasks))
        click.echo(f"run {result.run_id}: {result.state} in {result.seconds:.0f} s")
        if result.state != "success":
            failed.append(day)
            if not keep_going:
                break
    if failed:
        raise YTEmpireError(
            f"{DAG_ID} failed for {', '.join(map(str, failed))}. Next: read the failed task's "
            f"log under {config.home / 'logs'}, fix, and rerun the day (it converges)."
        )
