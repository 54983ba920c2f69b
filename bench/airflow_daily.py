"""Benchmark: one quota day through Airflow's scheduler, ``airflow dags test`` and directly.

One simulated quota day (``orchestration.scenario``: 25 channels and 4,000
Kafka events, or ``--channels``/``--events``; the demo's network has 250
channels) lands in three disposable warehouses, in the same run:

* direct (the peer): the ``ytempire`` commands and one ``dbt build``, one after
  the other, each a process of its own;
* ``dags test``: ``airflow dags test`` (every task in one process, no scheduler);
* scheduled: the production path. A local Airflow started with ``ytempire
  airflow start`` (api-server, scheduler, dag-processor, triggerer;
  LocalExecutor) runs the day triggered through its API, each task a process
  of its own, and the run is waited on until it ends.

Prints the three wall times, the scheduled run's ratio to the direct run
(target <= 1.5x), where the scheduled run's time went (landings, dbt tasks),
the DagBag's import time of the DAG file (target < 2 s) and the load average
around the run; checks that the three warehouses' marts are equal (exit 1 if
not).

Run: ``uv run python bench/airflow_daily.py`` (about 15 minutes on an idle
machine). ``--smoke`` runs the direct and the ``dags test`` ways on a network
of 3 channels and checks their marts are equal; the scheduled way is the
suite's own ``tests/airflow/test_scheduler.py`` (the same helpers:
``airflow_stack``, ``AirflowApi.trigger``, ``wait_for_run``).
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

from benchlib import Figures, add_smoke_flag

from orchestration.airflow_local import AirflowConfig, airflow_env
from orchestration.runs import AirflowApi, DagRunResult, dags_test_day, runs_table, wait_for_run
from orchestration.scenario import (
    CHANNELS,
    DAY,
    EVENTS,
    airflow_stack,
    marts,
    run_direct,
    scenario,
)
from ytempire.settings import Settings, get_settings

LANDINGS = ("collect_youtube", "land_kafka_events", "catch_up_windows")
SMOKE_CHANNELS, SMOKE_EVENTS = 3, 300
IMPORT_TARGET_S = 2.0
RATIO_TARGET = 1.5


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--channels",
        type=int,
        default=CHANNELS,
        help=f"channels of the simulated network (default {CHANNELS}; the demo's: 250)",
    )
    parser.add_argument(
        "--events", type=int, default=EVENTS, help=f"Kafka events of the day (default {EVENTS})"
    )
    add_smoke_flag(parser)
    args = parser.parse_args(argv)
    if args.channels < 1 or args.events < 1:
        parser.error("--channels and --events take a positive count")
    figures = Figures("airflow_daily", smoke=args.smoke)
    kinds = ("direct", "dag") if args.smoke else ("direct", "dag", "scheduled")
    if args.smoke:
        args.channels, args.events = SMOKE_CHANNELS, SMOKE_EVENTS
    scale = {"channels": args.channels, "events_per_day": args.events}
    print(f"network: {args.channels} channels, {args.events:,} Kafka events", flush=True)
    # Databases of their own (<name>_bench_direct_test, ...): the tests' scenarios use
    # <name>_direct_test and drop them, so a bench beside a test run would lose its own.
    base = get_settings()
    settings = replace(base, pg_database=f"{base.pg_database}_bench")
    with (
        tempfile.TemporaryDirectory() as work,
        scenario(settings, Path(work), kinds=kinds, **scale) as scn,
    ):
        started = time.monotonic()
        steps = run_direct(scn, os.environ)
        direct = time.monotonic() - started
        print("direct run: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()), flush=True)

        env = {**os.environ, **scn.env("dag")}
        tested = dags_test_day(scn.airflow_config(), DAY, settings=settings, env=env)
        _require_success("dags test", tested)
        print(f"dags test: {tested.seconds:.1f} s", flush=True)

        scheduled = None
        if not args.smoke:
            with airflow_stack(scn, os.environ, kind="scheduled", parallelism=8) as stack:
                scheduled = _scheduled_run(stack.config, settings)
                print(_where_the_time_went(stack.config, settings, scheduled.run_id), flush=True)
            print(runs_table([(DAY, scheduled)]))
            _require_success("scheduled", scheduled)
        built = {kind: marts(settings, scn.database(kind)) for kind in kinds}
        parse = _dagbag_seconds(scn.airflow_config())

    figures.add("dags test", tested.seconds, "s", "direct run", direct, digits=1)
    if scheduled is not None:
        figures.add("scheduled run", scheduled.seconds, "s", "direct run", direct, digits=1)
        figures.add(
            "scheduled run",
            scheduled.seconds,
            "s",
            f"target {RATIO_TARGET}x direct",
            RATIO_TARGET * direct,
            digits=1,
        )
        dbt_tasks = [
            t for t in scheduled.tasks if t.task_id.startswith(("transform.", "analyst_views."))
        ]
        dbt_seconds = sum(t.seconds or 0 for t in dbt_tasks)
        landing_seconds = sum(t.seconds or 0 for t in scheduled.tasks if t.task_id in LANDINGS)
        print(
            f"\nscheduled run: landings {landing_seconds:.1f} s of task time, {len(dbt_tasks)} "
            f"dbt tasks {dbt_seconds:.1f} s (they overlap); direct steps: "
            + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items())
        )
    figures.add("DAG file import (DagBag)", parse, "s", "target", IMPORT_TARGET_S, digits=2)
    figures.print()
    same = all(built[kind] == built["direct"] for kind in kinds)
    print(f"marts equal ({', '.join(kinds)}): {same}")
    if not same:
        raise SystemExit("the marts differ between the ways: see the runs above")


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


def _where_the_time_went(config: AirflowConfig, settings: Settings, run_id: str) -> str:
    """Each stage of the scheduled run on its timeline, and what its tasks cost.

    Per stage (a task, or a dbt group's producer and its watchers): when it
    started and ended, in seconds from the run's first task, and its tasks'
    queued-to-start wait; per group the seconds its last watcher ended after
    its producer (the watchers' own cost on the run's critical path).
    """
    from orchestration.runs import DAG_ID, _metadata

    with _metadata(config, settings) as conn:
        rows = conn.execute(
            "select task_id, extract(epoch from queued_dttm), extract(epoch from start_date), "
            "extract(epoch from end_date) from task_instance "
            "where dag_id = %s and run_id = %s and start_date is not null",
            (DAG_ID, run_id),
        ).fetchall()
    origin = min(float(r[2]) for r in rows)
    lines = ["scheduled run, timeline (s from its first task): start-end, queued wait"]
    groups: dict[str, list[tuple[str, float, float, float]]] = {}
    for task_id, queued, start, end in rows:
        wait = float(start) - float(queued) if queued is not None else 0.0
        row = (task_id, float(start) - origin, float(end or start) - origin, wait)
        groups.setdefault(task_id.split(".")[0] if "." in task_id else task_id, []).append(row)
    for name, tasks in sorted(groups.items(), key=lambda kv: min(t[1] for t in kv[1])):
        first, last = min(t[1] for t in tasks), max(t[2] for t in tasks)
        waits = sorted(t[3] for t in tasks)
        line = f"  {name:<28} {first:7.1f} - {last:7.1f}  ({len(tasks)} tasks"
        line += f", wait max {waits[-1]:.1f})"
        producer = [t for t in tasks if t[0].endswith(".dbt_producer_watcher")]
        if producer:
            task_id, p_start, p_end, _ = producer[0]
            line += f"; producer {p_start:.1f} - {p_end:.1f}, last watcher +{last - p_end:.1f}"
            line += "\n" + " " * 30 + _producer_dbt(config.home / "logs", run_id, task_id)
        lines.append(line)
    return "\n".join(lines)


def _producer_dbt(logs: Path, run_id: str, task_id: str) -> str:
    """What a dbt group's producer spent in dbt, read from its task log (last try).

    dbt start to ``Found N models`` is the parse (partial, or full and dbt's
    reason: ``Unable to do partial parsing because ...``); then dbt's own
    ``Finished running ... (X s)``; seconds, from the log records' timestamps.
    """
    from datetime import datetime

    from orchestration.runs import DAG_ID

    folder = logs / f"dag_id={DAG_ID}" / f"run_id={run_id}" / f"task_id={task_id}"
    tries = sorted(folder.glob("attempt=*.log"), key=lambda f: int(f.stem.split("=")[1]))
    if not tries:
        return f"(no log in {folder})"
    marks: dict[str, float] = {}
    full_parse = ""
    for raw in tries[-1].read_text().splitlines():
        try:
            record = json.loads(raw)
        except ValueError:
            continue
        event, stamp = str(record.get("event", "")), record.get("timestamp")
        if stamp is None:
            continue
        at = datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
        for mark, text in (
            ("dbt", "Running with dbt="),
            ("parsed", "  Found "),
            ("done", "Finished running "),
        ):
            if text in event and mark not in marks:
                marks[mark] = at
        if "Unable to do partial parsing because" in event:
            full_parse = event.split("because", 1)[1].strip()
    if not {"dbt", "parsed", "done"} <= marks.keys():
        return f"(dbt's start, parse or end not found in {tries[-1]})"
    parse = "full parse: " + full_parse if full_parse else "partial parse"
    return (
        f"dbt: parse {marks['parsed'] - marks['dbt']:.1f} s ({parse}), "
        f"nodes {marks['done'] - marks['parsed']:.1f} s"
    )


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
