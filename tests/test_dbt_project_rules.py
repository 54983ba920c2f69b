"""The dbt project's own rules, read from its manifest (``dbt parse``: no database).

dbt-project-evaluator's rules the project keeps (the package itself cannot be
installed: dbt hub is unreachable), the analyst surface as one definition, and
the docs' claims each held by a test:

- every model has a primary-key test, and every public model an enforced
  contract, checked by dbt when it builds (a materialized view by the
  ``assert_contract_columns`` pre-hook: dbt-postgres does not check one);
- an exposure lists what its consumer reads: the analyst's lists the public
  models, the daily DAG's the marts its later stages read (found in their code);
- the public models, and they alone, live in ``marts``, the analyst's schema;
- what the analyst reads in psql (relation and column comments) is plain words:
  no macro, var, docs block, seed, test or model it cannot read;
- every docs block that states a rule of the rows is claimed by a dbt test
  (``meta: {docs_claim: <block>}``), which every ``dbt build`` runs.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.dbt_models import manifest
from ytempire.settings import PROJECT_ROOT

# The docs blocks whose rules the rows must keep (tests/test_analyses.py and
# the scenario modules run the tests on data).
CLAIMED_DOCS = {"is_baseline", "collection_status", "counter_deltas", "channel_revenue"}
# The folders whose code runs after the daily DAG's dbt build and reads the marts.
DAG_READERS = ("reporting", "monitoring", "expectations")
# Macro names that are also plain words or column names an analyst reads.
PLAIN_MACRO_NAMES = {"is_final", "built_at"}


@pytest.fixture(scope="module")
def project() -> dict[str, Any]:
    return manifest()


def _models(project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        node["name"]: node
        for node in project["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "ytempire"
    }


def _tests_of(project: dict[str, Any], model_id: str) -> list[dict[str, Any]]:
    return [
        node
        for node in project["nodes"].values()
        if node["resource_type"] == "test" and model_id in node["depends_on"]["nodes"]
    ]


def _has_primary_key_test(tests: list[dict[str, Any]]) -> bool:
    """unique + not_null on one column, or a unique combination of columns."""
    by_column: dict[str, set[str]] = {}
    for test in tests:
        metadata = test.get("test_metadata") or {}
        if metadata.get("name") == "unique_combination_of_columns":
            return True
        column = test.get("column_name")
        if column and metadata.get("name") in {"unique", "not_null"}:
            by_column.setdefault(column, set()).add(metadata["name"])
    return any(names == {"unique", "not_null"} for names in by_column.values())


def test_every_model_has_a_primary_key_test(project: dict[str, Any]) -> None:
    models = _models(project)
    missing = [
        name
        for name, node in models.items()
        if node["config"]["materialized"] != "ephemeral"
        and not _has_primary_key_test(_tests_of(project, node["unique_id"]))
    ]
    assert missing == []


def test_every_public_model_has_an_enforced_checked_contract(project: dict[str, Any]) -> None:
    public = {n: m for n, m in _models(project).items() if m["access"] == "public"}
    assert len(public) >= 11
    unenforced = [name for name, node in public.items() if not node["contract"]["enforced"]]
    assert unenforced == []
    # dbt-postgres checks a contract on tables, views and incremental models; the
    # project's materialized views run dbt's own check in a pre-hook.
    unchecked = [
        name
        for name, node in public.items()
        if node["config"]["materialized"] not in {"table", "view", "incremental"}
        and not any("assert_contract_columns" in hook["sql"] for hook in node["config"]["pre-hook"])
    ]
    assert unchecked == []
    untyped = [
        f"{name}.{column}"
        for name, node in public.items()
        for column, spec in node["columns"].items()
        if not spec.get("data_type")
    ]
    assert untyped == []


def test_the_analyst_schema_holds_the_public_models_alone(project: dict[str, Any]) -> None:
    marts = {
        name: node["schema"] for name, node in _models(project).items() if node["fqn"][1] == "marts"
    }
    public = {name for name, node in _models(project).items() if node["access"] == "public"}
    assert {name for name, schema in marts.items() if schema == "marts"} == public
    assert {schema for name, schema in marts.items() if name not in public} == {"marts_internal"}


def _exposure(project: dict[str, Any], name: str) -> set[str]:
    (exposure,) = [e for e in project["exposures"].values() if e["name"] == name]
    return {project["nodes"][node]["name"] for node in exposure["depends_on"]["nodes"]}


def test_the_analyst_exposure_lists_the_public_models(project: dict[str, Any]) -> None:
    public = {name for name, node in _models(project).items() if node["access"] == "public"}
    assert _exposure(project, "analyst_sql_views") == public


def _marts_read_by(folders: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for folder in folders:
        for path in Path(PROJECT_ROOT, folder).rglob("*.py"):
            found |= set(re.findall(r"\bmarts\.([a-z_]+)", path.read_text()))
    return found


def test_the_dag_exposure_lists_what_the_dag_reads(project: dict[str, Any]) -> None:
    """Not what the DAG builds (every model): what its stages after dbt read."""
    read = _marts_read_by(DAG_READERS)
    assert read, "no mart found in the DAG's readers"
    assert _exposure(project, "daily_warehouse_dag") == read


def test_the_marts_gate_reads_the_run_day_of_every_day_grain_mart(
    project: dict[str, Any],
) -> None:
    """A public mart with a ``metric_date`` is checked for the run day's rows, or says why not."""
    from expectations.checkpoints import LATER_DAY_MARTS, RUN_DAY_GRAINS, SPARSE_DAY_MARTS

    day_grain = {
        name: f"{node['schema']}.{node['alias']}"
        for name, node in _models(project).items()
        if node["access"] == "public" and "metric_date" in node["columns"]
    }
    unchecked = set(SPARSE_DAY_MARTS) | set(LATER_DAY_MARTS)
    assert unchecked < set(day_grain)
    assert set(RUN_DAY_GRAINS) == {
        relation for name, relation in day_grain.items() if name not in unchecked
    }
    assert set(RUN_DAY_GRAINS.values()) == {"channel-day", "video-day", "day"}


def _plain(description: str) -> str:
    """The analyst's text (macro plain_description): the `[dbt: ...]` notes removed."""
    return " ".join(re.sub(r"\s*\[dbt:[^\]]*\]", "", description).split())


def _internal_names(project: dict[str, Any]) -> set[str]:
    """What only a dbt reader knows: macros, vars, docs blocks, seeds, snapshots, tests, and
    the models the analyst cannot read, minus the names of the columns the analyst reads."""
    models = _models(project)
    public_columns = {
        column
        for node in models.values()
        if node["access"] == "public"
        for column in node["columns"]
    }
    names = {m["name"] for m in project["macros"].values() if m["package_name"] == "ytempire"}
    names |= {name.removeprefix("test_") for name in names}
    names |= _project_vars()
    names |= {d["name"] for d in project["docs"].values() if d["package_name"] == "ytempire"}
    names |= {
        node["name"]
        for node in project["nodes"].values()
        if node["resource_type"] in {"seed", "snapshot", "test"}
    }
    names |= {name for name, node in models.items() if node["access"] != "public"}
    names |= {"dbt"}
    return names - public_columns - PLAIN_MACRO_NAMES - {"doc"}


def _project_vars() -> set[str]:
    import yaml

    config = yaml.safe_load((PROJECT_ROOT / "dbt_project" / "dbt_project.yml").read_text())
    return set(config.get("vars", {}))


def test_the_analysts_comments_are_plain_words(project: dict[str, Any]) -> None:
    internal = _internal_names(project)
    assert {"engagement_rate", "counter_deltas", "lookback_days", "snap_channels"} <= internal
    pattern = re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, internal)) + r")(?![\w])")
    found = {}
    for name, node in _models(project).items():
        if node["access"] != "public":
            continue
        texts = {"": node["description"]} | {
            column: spec["description"] for column, spec in node["columns"].items()
        }
        for column, text in texts.items():
            if hits := pattern.findall(_plain(text)):
                found[f"{name}.{column}" if column else name] = sorted(set(hits))
    assert found == {}
    # ... while the docs site keeps them.
    rate = _models(project)["fct_channel_daily_metrics"]["columns"]["engagement_rate_pct"]
    assert "engagement_rate" in pattern.findall(rate["description"])


def test_each_rule_the_docs_state_is_a_test(project: dict[str, Any]) -> None:
    docs = {d["name"] for d in project["docs"].values() if d["package_name"] == "ytempire"}
    claims: dict[str, list[dict[str, Any]]] = {}
    for node in project["nodes"].values():
        if node["resource_type"] == "test":
            claim = (node["config"].get("meta") or {}).get("docs_claim")
            if claim:
                claims.setdefault(claim, []).append(node)
    assert set(claims) <= docs  # a claim names a docs block that exists
    assert {block for block in CLAIMED_DOCS if block not in claims} == set()
    # every one fails the build (a warning would let rows and docs part again)
    severities = {test["config"]["severity"].lower() for tests in claims.values() for test in tests}
    assert severities == {"error"}
