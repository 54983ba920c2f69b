"""Load the DAGs folder into a DagBag and print what the integrity tests check, as JSON.

Run in a subprocess (``python tests/airflow/dagbag_report.py``) with the local
stack's Airflow environment, so Airflow reads that configuration at import.
"""

from __future__ import annotations

import json
import os
import time

from airflow.dag_processing.dagbag import DagBag


def _serializes(dag: object) -> str:
    """ "ok", or why Airflow cannot serialize the DAG (what the dag-processor stores)."""
    from airflow.serialization.serialized_objects import DagSerialization

    try:
        DagSerialization.to_dict(dag)
    except Exception as error:  # reported, not raised: the test says what failed
        return f"{type(error).__name__}: {error}"
    return "ok"


started = time.perf_counter()
bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
report = {
    "seconds": time.perf_counter() - started,
    "file_seconds": {s.file: s.duration.total_seconds() for s in bag.dagbag_stats},
    "import_errors": {str(k): v for k, v in bag.import_errors.items()},
    "dags": {
        dag_id: {
            "tags": sorted(dag.tags),
            "catchup": dag.catchup,
            "timetable": type(dag.timetable).__qualname__,
            "serialized": _serializes(dag),
            "params": {name: dict(param.schema) for name, param in dag.params.items()},
            "tasks": {
                task.task_id: {
                    "retries": task.retries,
                    "owner": task.owner,
                    "exponential_backoff": bool(task.retry_exponential_backoff),
                    "trigger_rule": str(task.trigger_rule.value),
                    "upstream": sorted(task.upstream_task_ids),
                    "pool": task.pool,
                    "mode": getattr(task, "mode", None),
                    "deferrable": getattr(task, "deferrable", None),
                    "operator": type(task).__name__,
                    # a watcher's poke: Cosmos' own, or the DAG's wrapper (orchestration.watchers)
                    "poke": getattr(getattr(task, "poke", None), "__qualname__", None),
                    # Cosmos' watcher producer: model (or detached test) -> tests it reports
                    "tests_per_model": getattr(task, "tests_per_model", None),
                    # a node's one task: does it read its tests' verdict (orchestration.watchers)
                    "has_tests": getattr(task, "has_tests", None),
                    # Cosmos' extra environment of each dbt command it runs
                    "env": getattr(task, "env", None),
                }
                for task in dag.tasks
            },
        }
        for dag_id, dag in bag.dags.items()
    },
}
print(json.dumps(report))
