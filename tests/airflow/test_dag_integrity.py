"""DAG integrity: every DAG imports with the services stopped, with retries, owners and tags.

The DagBag is filled in a subprocess whose every service address points at a
closed port, so a DAG that touched PostgreSQL, Redis or Kafka at import time
fails to import here. The dbt tasks are checked against dbt's manifest: each
model, seed and snapshot is one task.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from orchestration.airflow_local import WATCHER_POOL, AirflowConfig, airflow_env
from ytempire.dbt_runner import published_manifest
from ytempire.settings import Settings

REPORT_SCRIPT = Path(__file__).with_name("dagbag_report.py")
MANIFEST = published_manifest()  # what the DAG renders from
FIXED_TASKS = {
    "collect_youtube",
    "land_kafka_events",
    "catch_up_windows",
    "validate_raw",
    "validate_marts",
    "score_quality",
    "detect_anomalies",
    "dbt_docs",
    "daily_report",
    "fail_if_any_task_failed",
    # the owner's sources (orchestration.owner; owner-dag)
    "owner_sources.land_owner_reports",
    "owner_sources.land_owner_revenue",
    "owner_sources.validate_owner",
}
# The sentinel only turns a failure upstream into a failed run: retrying it changes nothing.
NO_RETRIES = {"fail_if_any_task_failed"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


@pytest.fixture(scope="module")
def dagbag(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if not MANIFEST.exists():
        from orchestration.airflow_local import parse_dbt_project

        parse_dbt_project()
    port = _closed_port()
    stopped = replace(settings, pg_port=port)
    config = replace(AirflowConfig.from_env(stopped), home=tmp_path_factory.mktemp("airflow"))
    env = airflow_env(config, stopped)
    env.update(
        {
            "YTEMPIRE_PG_PORT": str(port),
            "YTEMPIRE_REDIS_URL": f"redis://127.0.0.1:{port}/0",
            "YTEMPIRE_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}",
        }
    )
    proc = subprocess.run(
        [sys.executable, str(REPORT_SCRIPT)], env=env, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    report: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"DagBag filled in {report['seconds']:.2f} s: {report['file_seconds']}")
    return report


def test_every_dag_imports_with_the_services_stopped(dagbag: dict[str, Any]) -> None:
    assert dagbag["import_errors"] == {}
    assert set(dagbag["dags"]) == {"ytempire_daily"}


def test_every_task_retries_with_backoff_and_has_an_owner(dagbag: dict[str, Any]) -> None:
    for dag_id, dag in dagbag["dags"].items():
        assert dag["tags"], dag_id
        assert dag["catchup"] is False, dag_id
        for task_id, task in dag["tasks"].items():
            assert task["owner"] == "data-engineering", task_id
            if task_id in NO_RETRIES:
                continue
            assert task["retries"] >= 2, task_id
            assert task["exponential_backoff"], task_id


def _group(node: dict[str, Any]) -> str:
    """The DAG's task group of a model, seed or snapshot: the `mv_` views are refreshed apart."""
    return "analyst_views" if node["name"].startswith("mv_") else "transform"


def _test_group(manifest: dict[str, Any], test: dict[str, Any]) -> str:
    """The task group of a test of several nodes: its parents', all in one group."""
    (group,) = {_group(manifest["nodes"][parent]) for parent in test["depends_on"]["nodes"]}
    return group


def test_every_dbt_node_is_one_task_that_reads_its_own_tests(dagbag: dict[str, Any]) -> None:
    """Watcher mode: `<group>.<node>_<model|seed|snapshot>_build`, which reads its tests' verdict
    when it has tests of its own; a test of several nodes is a task of its own,
    `<group>.<test>_test`, after all of them."""
    manifest = json.loads(MANIFEST.read_text())
    tests = {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "test"}
    tested = {
        parent
        for node in tests.values()
        if len(parents := node["depends_on"]["nodes"]) == 1
        for parent in parents
    }
    expected: dict[str, bool] = {}
    for unique_id, node in manifest["nodes"].items():
        kind = node["resource_type"]
        if kind not in ("model", "seed", "snapshot") or node["package_name"] != "ytempire":
            continue
        expected[f"{_group(node)}.{node['name']}_{kind}_build"] = unique_id in tested
    shared = {uid: n for uid, n in tests.items() if len(n["depends_on"]["nodes"]) > 1}
    detached = {f"{_test_group(manifest, n)}.{n['name']}_test" for n in shared.values()}
    tasks = dagbag["dags"]["ytempire_daily"]["tasks"]
    producers = {
        f"{group}.{task}"
        for group in ("transform", "analyst_views")
        for task in ("dbt_producer_watcher", "dbt_producer_watcher_done")
    }
    assert set(tasks) >= FIXED_TASKS | producers
    assert len(expected) >= 40  # the manifest was read, not an empty project
    assert sum(expected.values()) >= 30  # most nodes have tests of their own
    assert len(shared) >= 2  # relationships and reconciliations: the case below is real
    assert set(tasks) - FIXED_TASKS - producers == set(expected) | detached
    assert {t: tasks[t]["has_tests"] for t in expected} == expected
    assert {tasks[t]["operator"] for t in expected} == {"DbtNodeBuildWatcher"}


def test_a_test_of_several_models_is_reported_by_its_own_task_alone(
    dagbag: dict[str, Any],
) -> None:
    """A parent's failure leaves it upstream_failed; it never fails another model's test task.

    Cosmos credits such a test to every parent and reports it failed when dbt skipped it
    for an upstream failure: a failing test in one branch failed a healthy model's test
    task (orchestration.watchers).
    """
    manifest = json.loads(MANIFEST.read_text())
    tasks = dagbag["dags"]["ytempire_daily"]["tasks"]
    credited = {
        group: tasks[f"{group}.dbt_producer_watcher"]["tests_per_model"]
        for group in ("transform", "analyst_views")
    }
    shared = {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "test" and len(node["depends_on"]["nodes"]) > 1
    }
    # a reconciliation of two analyst views (the niche rollup against the channel grain)
    assert {_test_group(manifest, node) for node in shared.values()} == {
        "transform",
        "analyst_views",
    }
    for uid, node in shared.items():
        group = _test_group(manifest, node)
        assert [model for model, ids in credited[group].items() if uid in ids] == [uid], uid
        upstream = set(tasks[f"{group}.{node['name']}_test"]["upstream"])
        parents = {
            f"{group}.{p['name']}_{p['resource_type']}_build"
            for p in (manifest["nodes"][uid] for uid in node["depends_on"]["nodes"])
        }
        assert upstream == parents, uid  # after each parent's task, its own tests included
    for ids_of in credited.values():
        for model, ids in ids_of.items():
            if model not in shared:
                assert all(len(manifest["nodes"][t]["depends_on"]["nodes"]) == 1 for t in ids)


def test_the_chain_and_the_report_runs_whatever_happened(dagbag: dict[str, Any]) -> None:
    tasks = dagbag["dags"]["ytempire_daily"]["tasks"]
    assert set(tasks["catch_up_windows"]["upstream"]) == {"collect_youtube", "land_kafka_events"}
    assert tasks["daily_report"]["trigger_rule"] == "all_done"
    assert tasks["daily_report"]["upstream"] == ["dbt_docs"]
    assert tasks["fail_if_any_task_failed"]["trigger_rule"] == "one_failed"
    assert set(tasks["fail_if_any_task_failed"]["upstream"]) == set(tasks) - {
        "fail_if_any_task_failed"
    }
    staging = [t for t in tasks if t.startswith("transform.stg_")]
    assert staging
    for task_id in staging:  # staging reads raw data only after the raw checks
        ancestors = _ancestors(tasks, task_id)
        assert "validate_raw" in ancestors, task_id
    marts = {t for t in tasks if t.startswith("transform.")}
    for check in ("validate_marts", "score_quality"):  # the checks read the built marts
        assert marts <= _ancestors(tasks, check), check
    assert set(tasks["detect_anomalies"]["upstream"]) == {"validate_marts", "score_quality"}
    for task_id in (t for t in tasks if t.startswith("analyst_views.")):
        # analysts see views refreshed only from marts that passed their checks
        assert {"validate_marts", "detect_anomalies"} <= _ancestors(tasks, task_id), task_id


def test_the_owner_sources_land_before_dbt_and_are_gated_beside_it(
    dagbag: dict[str, Any],
) -> None:
    """dbt's owner staging reads what the group landed; a late report type fails its gate
    and the run, not the Data API's marts."""
    tasks = dagbag["dags"]["ytempire_daily"]["tasks"]
    landings = {"owner_sources.land_owner_reports", "owner_sources.land_owner_revenue"}
    assert landings <= set(tasks["validate_raw"]["upstream"])
    assert set(tasks["owner_sources.validate_owner"]["upstream"]) == landings
    assert not any(
        "owner_sources.validate_owner" in _ancestors(tasks, t)
        for t in tasks
        if t != "fail_if_any_task_failed"
    )


def _ancestors(tasks: dict[str, Any], task_id: str) -> set[str]:
    seen: set[str] = set()
    todo = list(tasks[task_id]["upstream"])
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo.extend(tasks[current]["upstream"])
    return seen


def test_no_cycles(dagbag: dict[str, Any]) -> None:
    for dag_id, dag in dagbag["dags"].items():
        upstream = {task_id: set(task["upstream"]) for task_id, task in dag["tasks"].items()}
        while upstream:  # Kahn: repeatedly remove the tasks with no upstream left
            ready = {task_id for task_id, ups in upstream.items() if not ups}
            assert ready, f"{dag_id} has a cycle among {sorted(upstream)}"
            upstream = {t: ups - ready for t, ups in upstream.items() if t not in ready}


def test_unpausing_starts_no_past_day_and_the_dag_serializes(dagbag: dict[str, Any]) -> None:
    dag = dagbag["dags"]["ytempire_daily"]
    assert dag["timetable"] == "QuotaDayTimetable"  # registered by airflow/plugins
    assert dag["serialized"] == "ok"


def test_the_trigger_form_takes_an_iso_quota_day(dagbag: dict[str, Any]) -> None:
    schema = dagbag["dags"]["ytempire_daily"]["params"]["quota_day"]
    assert schema["type"] == ["null", "string"]
    assert schema["format"] == "date"
    assert schema["pattern"] == r"^\d{4}-\d{2}-\d{2}$"


def test_the_dbt_watchers_poke_in_a_pool_that_leaves_the_producer_a_slot(
    dagbag: dict[str, Any],
) -> None:
    """Reschedule mode and deferral meet the scheduler's state-mismatch race (airflow#71172)."""
    tasks = dagbag["dags"]["ytempire_daily"]["tasks"]
    watchers = {
        task_id: task
        for task_id, task in tasks.items()
        if task_id.startswith(("transform.", "analyst_views."))
        and task["mode"] is not None  # the sensors
    }
    assert len(watchers) >= 40
    for task_id, task in watchers.items():
        assert (task["mode"], task["deferrable"], task["pool"]) == (
            "poke",
            False,
            WATCHER_POOL,
        ), task_id
    for group in ("transform", "analyst_views"):
        assert tasks[f"{group}.dbt_producer_watcher"]["pool"] == "default_pool"


def test_every_dbt_watcher_trusts_no_build_made_before_its_run_was_cleared(
    dagbag: dict[str, Any],
) -> None:
    """A cleared model re-runs its own node at once (orchestration.watchers)."""
    tasks = dagbag["dags"]["ytempire_daily"]["tasks"]
    watchers = {t: task for t, task in tasks.items() if task["mode"] is not None}
    assert len(watchers) >= 40
    wrapped = "trust_no_result_of_a_cleared_run.<locals>.poke"
    assert {t for t, task in watchers.items() if task["poke"] != wrapped} == set()


def test_every_dbt_task_writes_dbts_artifacts_in_its_own_copy_of_the_project(
    dagbag: dict[str, Any],
) -> None:
    """Never into the manifest the DAG renders from: two writers corrupted it (TASK_DBT_TARGET)."""
    tasks = dagbag["dags"]["ytempire_daily"]["tasks"]
    dbt_tasks = {
        t: task
        for t, task in tasks.items()
        if t.startswith(("transform.", "analyst_views.")) and not t.endswith("_done")
    }  # the groups' closing marks run no dbt
    assert len(dbt_tasks) >= 60
    envs = {t: (task["env"] or {}).get("DBT_TARGET_PATH") for t, task in dbt_tasks.items()}
    assert {
        t: (tasks[t]["operator"], target) for t, target in envs.items() if target != "target"
    } == {}
