"""Run dbt in-process on the project's ``dbt_project/`` and summarise its results.

dbt runs through ``dbtRunner`` with ``dbt_project/`` as both the project and
the profiles folder, so every connection setting comes from the
``YTEMPIRE_PG_*`` variables (``dbt_project/profiles.yml``). Used by the CLI
(``ytempire warehouse``), the daily stages and the report's freshness check.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import Any

from ytempire.errors import YTEmpireError
from ytempire.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"


# Where the DAG's dbt tasks write dbt's artifacts: ``target`` inside the temporary copy
# of the project Cosmos runs each dbt command in (dbt reads a relative DBT_TARGET_PATH
# against the project). Never the folder the DAG renders its manifest from: an absolute
# DBT_TARGET_PATH in Airflow's environment sent every task's dbt there, and two of them
# writing ``manifest.json`` at once left it invalid JSON, which failed the DAG's import.
TASK_DBT_TARGET = "target"


def target_dir(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """dbt's target folder (manifest, run_results, compiled SQL, docs) as dbt itself resolves it:
    ``$DBT_TARGET_PATH`` (relative to the project), by default ``<project>/target``.

    The test suite points ``DBT_TARGET_PATH`` at a folder of its own run, so it
    never writes into the demo's target.
    """
    return project_dir / (os.environ.get("DBT_TARGET_PATH") or "target")


# The manifest the Airflow DAG renders its dbt tasks from: a copy of dbt's, published whole.
PUBLISHED_MANIFEST = Path("published") / "manifest.json"


def published_manifest(project_dir: Path = DBT_PROJECT_DIR) -> Path:
    """The DAG's manifest: ``<target>/published/manifest.json`` (:func:`publish_manifest`)."""
    return target_dir(project_dir) / PUBLISHED_MANIFEST


def publish_manifest(source: Path | None = None, dest: Path | None = None) -> bool:
    """Publish dbt's ``manifest.json`` (``source``) as ``dest``, swapped in whole.

    dbt writes ``target/manifest.json`` in place, so a reader that opens it while
    any dbt command runs (the ``dbt_docs`` task, an engineer's ``dbt run``) may
    read half a file. The DAG reads ``dest`` instead, which only ever changes by
    one ``os.replace`` of a complete, fsynced copy: a reader sees the old file or
    the new one, never part of either. Defaults: ``target/manifest.json`` into
    :func:`published_manifest`. Returns ``False`` (and writes nothing) when
    ``dest`` already holds the same bytes. Raises ``YTEmpireError`` when
    ``source`` is missing or not a whole dbt manifest (invalid JSON, no
    ``nodes``); ``dest`` is then left as it was.
    """
    import json
    import tempfile

    source = source or target_dir() / "manifest.json"
    dest = dest or published_manifest()
    try:
        data = source.read_bytes()
        manifest = json.loads(data)
    except (OSError, ValueError) as error:
        raise YTEmpireError(
            f"cannot publish the dbt manifest {source}: {error}. Next: `ytempire airflow init` "
            "(dbt parse, then publish)."
        ) from error
    if not isinstance(manifest, dict) or "nodes" not in manifest:
        raise YTEmpireError(f"{source} is not a dbt manifest (no `nodes`); nothing published")
    if dest.is_file() and dest.read_bytes() == data:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".partial")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(partial, 0o644)
        os.replace(partial, dest)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return True


def dbt_args(command: str, *extra: str) -> list[str]:
    """The argument list of a dbt command (e.g. "build", "docs generate") on this project.

    The profile and target are named as Airflow's dbt tasks (Cosmos) name them: dbt
    keeps one partial-parse state in ``target/`` and parses the whole project again
    whenever a command names them differently from the one before it.
    """
    folder = str(DBT_PROJECT_DIR)
    target = os.environ.get("YTEMPIRE_DBT_TARGET", "local")  # profiles.yml's default
    return [
        *command.split(),
        "--project-dir",
        folder,
        "--profiles-dir",
        folder,
        "--profile",
        "ytempire",
        "--target",
        target,
        *extra,
    ]


def run_dbt(command: str, *extra: str, on_node: Any = None, quiet: bool = False) -> Any:
    """Run one dbt command in-process; raise YTEmpireError naming it when it fails.

    ``on_node(index, total)``, when given, is called as each node starts (for a
    progress bar). With ``on_node`` or ``quiet``, dbt's console shows warnings
    and errors only; the full log stays in ``dbt_project/logs/dbt.log``.
    """
    from dbt.cli.main import dbtRunner

    callbacks: list[Any] = []
    level = ("--log-level", "warn") if quiet or on_node is not None else ()
    if on_node is not None:

        def callback(event: Any) -> None:
            if event.info.name == "LogStartLine":
                on_node(event.data.index, event.data.total)

        callbacks.append(callback)
    result = dbtRunner(callbacks=callbacks).invoke(dbt_args(command, *level, *extra))
    if not result.success:
        lost = _connection_lost(result)
        if lost is not None:
            from ytempire.clients import pg_unavailable

            raise pg_unavailable(lost, f"dbt {command}")
        detail = result.exception or "see dbt_project/logs/dbt.log for the failing nodes"
        raise YTEmpireError(
            f"dbt {command} {' '.join(extra)} failed: {detail}. Next: fix the failing "
            "model or test, then rerun (`ytempire warehouse build`)."
        )
    return result


def _connection_lost(result: Any) -> str | None:
    """The first message of a failed dbt invocation saying PostgreSQL went away, if any."""
    from ytempire.clients import pg_connection_lost

    messages = [str(result.exception or "")]
    for node in getattr(result.result, "results", None) or []:
        messages.append(str(getattr(node, "message", "") or ""))
    return next((m for m in messages if m and pg_connection_lost(m)), None)


def node_summary(results: Any) -> str:
    """``12 models, 80 tests, ...: 95 success, 1 warn`` from dbt's run results (pure)."""
    kinds = Counter(str(r.node.resource_type) for r in results)
    statuses = Counter(str(r.status) for r in results)
    what = ", ".join(f"{n} {k}{'' if n == 1 else 's'}" for k, n in sorted(kinds.items()))
    return f"{what}: " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))


# run_results.json statuses that are failures, by resource type
_FAILED = {"error", "fail"}
MAX_LISTED_FAILURES = 20


def run_results_summary(run_results: dict[str, Any]) -> dict[str, Any]:
    """Counts per resource type and status of a dbt run_results.json, and the failed nodes.

    Shape: ``{"models": {"success": 12, "error": 1, "skipped": 3}, "tests": {"pass":
    40, "fail": 1, ...}, "seeds": ..., "snapshots": ..., "unit_tests": ...,
    "failures": [{"node", "status", "message"}] (at most 20), "elapsed_s": 41.2}``.
    The resource type is the first part of each node's ``unique_id``.
    """
    summary: dict[str, Any] = {}
    failures: list[dict[str, str]] = []
    for result in run_results.get("results", []):
        resource, _, name = str(result["unique_id"]).partition(".")
        status = str(result["status"])
        counts = summary.setdefault(f"{resource}s", {})
        counts[status] = counts.get(status, 0) + 1
        if status in _FAILED and len(failures) < MAX_LISTED_FAILURES:
            message = str(result.get("message") or "").strip().splitlines()
            failures.append(
                {"node": name, "status": status, "message": message[0] if message else ""}
            )
    summary["failures"] = failures
    summary["elapsed_s"] = round(float(run_results.get("elapsed_time") or 0.0), 1)
    return summary
