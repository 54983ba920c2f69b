"""Benchmark: ``ytempire_daily`` through Airflow next to the same day's work run directly.

One simulated quota day (``orchestration.scenario``: 25 channels,
4,000 Kafka events) lands in two disposable warehouses: once by the
``ytempire`` commands and one ``dbt build`` (the direct run), once by the DAG
with ``airflow dags test`` (every task through Airflow, recorded in its own
metadata database). Prints both wall times, their ratio (target <= 1.5x),
where the DAG's time went (landings, dbt tasks, the rest) and the DagBag's
import time of the DAG file (target < 2 s).

Run: ``uv run python bench/airflow_daily.py`` (about 10 minutes).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from orchestration.airflow_local import AirflowConfig, airflow_env
from orchestration.runs import run_day, runs_table
from orchestration.scenario import DAY, marts, run_direct, scenario
from ytempire.settings import get_settings

LANDINGS = ("collect_youtube", "land_kafka_events", "catch_up_windows")


def main() -> None:
    # Databases of their own (<name>_bench_direct_test, ...): the tests' scenarios use
    # <name>_direct_test and drop them, so a bench beside a test run would lose its own.
    base = get_settings()
    settings = replace(base, pg_database=f"{base.pg_database}_bench")
    with tempfile.TemporaryDirectory() as work, scenario(settings, Path(work)) as scn:
        started = time.monotonic()
        steps = run_direct(scn, os.environ)
        direct = time.monotonic() - started
        env = {**os.environ, **scn.env("dag")}
        result = run_day(scn.airflow_config(), DAY, settings=settings, env=env)
        print(runs_table([(DAY, result)]))
        if result.state != "success":
            raise SystemExit(f"the DAG run {result.state}:\n{result.output[-3000:]}")
        same = marts(settings, scn.database("dag")) == marts(settings, scn.database("direct"))
        parse = _dagbag_seconds(scn.airflow_config())
    dbt_tasks = [t for t in result.tasks if t.task_id.startswith(("transform.", "analyst_views."))]
    dbt_seconds = sum(t.seconds or 0 for t in dbt_tasks)
    landing_seconds = sum(t.seconds or 0 for t in result.tasks if t.task_id in LANDINGS)
    print()
    print("direct run:  " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    print(f"             total {direct:.1f} s")
    print(
        f"DAG run:     total {result.seconds:.1f} s (landings {landing_seconds:.1f} s, "
        f"{len(dbt_tasks)} dbt tasks {dbt_seconds:.1f} s, "
        f"the rest {result.seconds - landing_seconds - dbt_seconds:.1f} s)"
    )
    print(f"ratio:       {result.seconds / direct:.2f}x (target <= 1.5x)")
    print(f"marts equal: {same}")
    print(f"DAG file import (DagBag): {parse:.2f} s (target < 2 s)")


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
