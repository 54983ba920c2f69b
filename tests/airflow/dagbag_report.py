"""Load the DAGs folder into a DagBag and print what the integrity tests check, as JSON.

Run in a subprocess (``python tests/airflow/dagbag_report.py``) with the local
stack's Airflow environment, so Airflow reads that configuration at import.
"""

from __future__ import annotations

import json
import os
import time

from airflow.dag_processing.dagbag import DagBag

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
            "tasks": {
                task.task_id: {
                    "retries": task.retries,
                    "owner": task.owner,
                    "exponential_backoff": bool(task.retry_exponential_backoff),
                    "trigger_rule": str(task.trigger_rule.value),
                    "upstream": sorted(task.upstream_task_ids),
                }
                for task in dag.tasks
            },
        }
        for dag_id, dag in bag.dags.items()
    },
}
print(json.dumps(report))
