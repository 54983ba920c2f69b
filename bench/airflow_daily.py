"""Benchmark: one quota day through Airflow's scheduler, ``airflow dags test`` and directly.

One simulated quota day (``orchestration.scenario``: 25 channels, 4,000
Kafka events) lands in three disposable warehouses, in the same run:

* direct: the ``ytempire`` commands and one ``dbt build``, one after the other;
* ``dags test``: ``airflow dags test`` (every task in one process, no scheduler);
* scheduled: the production path. A local Airflow started with ``ytempire
  airflow start`` (api-server, scheduler, dag-processor, triggerer;
  LocalExecutor) runs the day triggered through its API, each task a process
  of its own, and the run is waited on until it ends.

Prints the three wall times, the scheduled run's ratio to the direct run
(target <= 1.5x), where the scheduled run's time went (landings, dbt tasks,
the rest), whether the three warehouses' marts are equal, and the DagBag's
import time of the DAG file (target < 2 s).

Run: ``uv run python bench/airflow_daily.py`` (about 15 minutes on an idle
machine); ``--smoke`` checks that the bench still loads and the DAG file
imports, timing nothing (``tests/airflow/test_bench_smoke.py`` runs it).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from orchestration.airflow_local import AirflowConfig, airflow_env
from orchestration.runs import AirflowApi, DagRunResult, dags_test_day, runs_table, wait_for_run
from orchestration.scenario import DAY, airflow_stack, marts, run_direct, scenario
from ytempire.settings import Settings, get_settings

LANDINGS = ("collect_youtube", "land_kafka_events", "catch_up_windows")
KINDS = ("direct", "dag", "scheduled")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="Start and stop, time nothing.")
    args = parser.parse_args(argv)
    # Databases of their own (<name>_bench_direct_test, ...): the tests' scenarios use
    # <name>_direct_test and drop them, so a bench beside a test run would lose its own.
    base = get_settings()
    if args.smoke:
        with tempfile.TemporaryDirectory() as home:
            config = replace(AirflowConfig.from_env(base), home=Path(home))
            print(f"smoke: DAG file import (DagBag): {_dagbag_seconds(config):.2f} s")
        return
    settings = replace(base, pg_database=f"{base.pg_database}_bench")
    with (
        tempfile.TemporaryDirectory() as work,
        scenario(settings, Path(work), kinds=KINDS) as scn,
    ):
        started = time.monotonic()
        steps = run_direct(scn, os.environ)
        direct = time.monotonic() - started
        print("direct run:  " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))

        env = {**os.environ, **scn.env("dag")}
        tested = dags_test_day(scn.airflow_config(), DAY, settings=settings, env=env)
        _require_success("dags test", tested)

        with airflow_stack(scn, os.environ, kind="scheduled", parallelism=8) as stack:
            scheduled = _scheduled_run(stack.config, settings)
        print(runs_table([(DAY, scheduled)]))
        _require_success("scheduled", scheduled)
        built = {kind: marts(settings, scn.database(kind)) for kind in KINDS}
        parse = _dagbag_seconds(scn.airflow_config())
    same = built["dag"] == built["direct"] == built["scheduled"]
    dbt_tasks = [
        t for t in scheduled.tasks if t.task_id.startswith(("transform.", "analyst_views."))
    ]
    dbt_seconds = sum(t.seconds or 0 for t in dbt_tasks)
    landing_seconds = sum(t.seconds or 0 for t in scheduled.tasks if t.task_id in LANDINGS)
    print()
    print(f"direct run:      {direct:7.1f} s  ({len(steps)} commands, one after the other)")
    print(f"dags test:       {tested.seconds:7.1f} s  ({tested.seconds / direct:.2f}x direct)")
    print(
        f"scheduled run:   {scheduled.seconds:7.1f} s  ({scheduled.seconds / direct:.2f}x direct, "
        "target <= 1.5x)"
    )
    print(
        f"  where it went: landings {landing_seconds:.1f} s, {len(dbt_tasks)} dbt tasks "
        f"{dbt_seconds:.1f} s of task time (they overlap)"
    )
    print(f"marts equal:     {same}")
    print(f"DAG file import (DagBag): {parse:.2f} s (target < 2 s)")
    print(f"load average:    {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


def _scheduled_run(config: AirflowConfig, settings: Settings) -> DagRunResult:
    """Trigger the day through the API, wait until the scheduler ends it; its tasks."""
    from orchestration.runs import read_day

    api = AirflowApi(config)
    api.unpause()
    started = time.monotonic()
    run_id = api.trigger(DAY)
    state = wait_for_run(config, run_id, settings=settings, api=api)
    seconds = time.monotonic() - started
    found = read_day(config, DAY, settings=settings)
    assert found is not None
    assert found.run_id == run_id
    return replace(found, state=state, seconds=seconds)


def _require_success(what: str, result: DagRunResult) -> None:
    if result.state != "success":
        failed = [t.task_id for t in result.tasks if t.state not in ("success", "skipped")]
        raise SystemExit(f"the {what} run {result.state}: {failed}\n{result.output[-3000:]}")


def _dagbag_seconds(config: AirflowConfig) -> float:
    """Seconds Airflow's DagBag took to import the DAG file (the integrity test's loader)."""
    script = Path(__file__).resolve().parents[1] / "tests" / "airflow" / "dagbag_report.py"
    proc = subprocess.run(
        [sys.executable, str(script)],
        env=airflow_env(config),
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return float(sum(report["file_seconds"].values()))


if __name__ == "__main__":
    main()
