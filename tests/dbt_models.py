"""What the dbt scenario tests read from dbt's own manifest and from the relations it built.

The incremental models are found in the manifest, not listed by hand, so a model
made incremental later is covered by the tests of every incremental model
(tests/test_dbt_incremental_windows.py, tests/test_dbt_late_data.py).
"""

from __future__ import annotations

import json
from typing import Any

from ytempire.clients import pg_connect
from ytempire.dbt_runner import run_dbt, target_dir
from ytempire.settings import Settings

# When a row was written, not what it says: a full refresh restamps every row.
RUN_TIME_COLUMNS = frozenset({"built_at"})


def manifest() -> dict[str, Any]:
    """The manifest of the project as it is now (``dbt parse``)."""
    run_dbt("parse", quiet=True)
    return json.loads((target_dir() / "manifest.json").read_text())


def incremental_models() -> dict[str, str]:
    """Every incremental model of the project: name -> ``schema.alias``."""
    nodes = manifest()["nodes"].values()
    return {
        node["name"]: f"{node['schema']}.{node['alias']}"
        for node in nodes
        if node["resource_type"] == "model"
        and node["package_name"] == "ytempire"
        and node["config"]["materialized"] == "incremental"
    }


def relation_rows(settings: Settings, relation: str) -> list[tuple[Any, ...]]:
    """The rows of ``relation`` without the run-time columns, sorted (read as the transformer)."""
    with pg_connect("transformer", settings=settings) as conn:
        cursor = conn.execute(f"select * from {relation}")
        names = [column.name for column in cursor.description or []]
        kept = [index for index, name in enumerate(names) if name not in RUN_TIME_COLUMNS]
        return sorted((tuple(row[index] for index in kept) for row in cursor), key=repr)


def relations_rows(
    settings: Settings, relations: dict[str, str]
) -> dict[str, list[tuple[Any, ...]]]:
    """:func:`relation_rows` of each named relation."""
    return {name: relation_rows(settings, relation) for name, relation in relations.items()}
