"""``ytempire airflow``: the local Airflow (init, start, stop, status, login-info) and daily runs.

``start`` launches the api-server, scheduler, dag-processor and triggerer
detached, on loopback, with logs and pid files under ``$YTEMPIRE_AIRFLOW_HOME``;
``login-info`` shows the UI's address and the installation's generated login
(``start`` never prints the password); ``run`` runs the DAG for given quota
days through the scheduler (each day triggered, or cleared and re-run if it
has a run, and waited on until it ends), one day after the other like a
backfill, and prints each task's state and duration; ``runs`` prints the
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
    LOOPBACK,
    PROCESS_ARGS,
    PROCESSES,
    AirflowConfig,
    airflow_env,
    airflow_executable,
    api_ready,
    init_metadata_database,
    parse_dbt_project,
    set_watcher_pool,
)
from orchestration.runs import (
    DAG_ID,
    AirflowApi,
    DagRunResult,
    read_day,
    run_day,
    runs_table,
)
from ytempire.errors import YTEmpireError
from ytempire_cli.options import ISO_DATE

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
@click.option(
    "--no-init",
    is_flag=True,
    help="Skip the metadata database's creation and migration (dbt is parsed either way).",
)
def start(no_init: bool) -> None:
    """Start api-server, scheduler and dag-processor on loopback; print the UI address."""
    config = AirflowConfig.from_env()
    if not no_init:
        init_metadata_database(config, progress=lambda msg: click.echo(f"  {msg}"))
    else:  # the watchers' pool follows this start's parallelism
        set_watcher_pool(config, progress=lambda msg: click.echo(f"  {msg}"))
    # In this environment, the tasks' own: the DAG renders its dbt tasks from the published
    # manifest, and each group's producer starts from this parse's partial_parse.msgpack
    # (a partial parse; one made with another database's profile costs a full parse).
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
                [airflow_executable(), *PROCESS_ARGS[process]],
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
    # The API answers before the dag-processor has stored the DAG (its first parse takes
    # a minute on a loaded machine): a trigger or unpause then gets a 404. Wait on it.
    api = AirflowApi(config)
    while not api.dag_is_parsed(DAG_ID):
        if not _running(config, "dag-processor"):
            raise YTEmpireError(
                f"the dag-processor stopped before it stored {DAG_ID}. "
                f"Next: see {logs / 'dag-processor.log'}."
            )
        time.sleep(2)
    click.echo(f"{DAG_ID}: parsed by the dag-processor")
    click.echo(f"Airflow UI: {config.url}  (login: `ytempire airflow login-info`)")
    click.echo(f"dbt docs:   {config.docs_url} (the UI's Browse menu links it)")


@airflow.command("login-info")
def login_info() -> None:
    """The UI's address and this installation's admin login (generated by setup)."""
    config = AirflowConfig.from_env()
    click.echo(f"Airflow UI: {config.url}")
    click.echo(f"user:       {config.admin_user}")
    click.echo(f"password:   {config.admin_password}")
    source = (
        "YTEMPIRE_AIRFLOW_ADMIN_PASSWORD"
        if os.environ.get("YTEMPIRE_AIRFLOW_ADMIN_PASSWORD")
        else str(config.secrets_file)
    )
    click.echo(f"kept in:    {source} (with the JWT secret that signs the API's tokens)")


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
    ports = ", ".join(f"{name} {LOOPBACK}:{port}" for name, port in config.ports.items())
    click.echo(f"  ports          {ports} (log servers not started)")


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


_DAY = ISO_DATE


@airflow.command("run")
@click.option("--date", "dates", multiple=True, type=_DAY, help="Quota day (Pacific); repeatable.")
@click.option("--from", "first", type=_DAY, help="First quota day of a range (a backfill).")
@click.option("--to", "last", type=_DAY, help="Last quota day of the range, included.")
@click.option(
    "--failed-only", is_flag=True, help="For a day that has a run: re-run only its failed tasks."
)
@click.option("--keep-going", is_flag=True, help="Run the next day after a failed run.")
@click.option("--table/--no-table", default=True, help="Print every task at the end.")
def run(
    dates: tuple[datetime, ...],
    first: datetime | None,
    last: datetime | None,
    failed_only: bool,
    keep_going: bool,
    table: bool,
) -> None:
    """Run ytempire_daily through Airflow's scheduler for each quota day, oldest first.

    A day without a run is triggered (quota_day param, run id
    manual__quota_day_<D>__<time>); a day that has one is cleared and re-run in
    place (--failed-only: its failed tasks and what follows them). Each run is
    waited on until it ends; a failed day stops the rest unless --keep-going.
    Needs the scheduler running (`ytempire airflow start`).
    """
    config = AirflowConfig.from_env()
    failed: list[date] = []
    done: list[tuple[date, DagRunResult]] = []
    for day in _days(dates, first, last):
        click.echo(f"{DAG_ID} for quota day {day} through the scheduler ...")
        result = run_day(
            config, day, only_failed=failed_only, on_progress=lambda line: click.echo(f"  {line}")
        )
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
            f"log in the UI ({config.url}) or under {config.home / 'logs'}, fix, and re-run "
            "the day (`ytempire airflow run --date D --failed-only`; it converges)."
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
