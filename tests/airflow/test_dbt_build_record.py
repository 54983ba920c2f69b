"""The day's ``dbt_build`` record is the whole build, whatever retries happened (pure).

The DAG's producer runs one ``dbt build``; a retried or cleared model task runs
dbt for its one node. Each invocation's ``run_results.json`` is merged into the
day's record, so the report's dbt section shows every node at its latest result
instead of the last one-model retry ("models: none").
"""

from __future__ import annotations

from typing import Any

from orchestration.daily import merge_dbt_build


def _results(elapsed: float, **nodes: str) -> dict[str, Any]:
    return {
        "elapsed_time": elapsed,
        "results": [
            {"unique_id": uid.replace("__", "."), "status": status, "message": f"{status} msg"}
            for uid, status in nodes.items()
        ],
    }


BUILD = _results(
    40.0,
    model__ytempire__stg_a="success",
    model__ytempire__int_b="success",
    model__ytempire__fct_c="skipped",
    test__ytempire__not_null_a="fail",
    seed__ytempire__cpm="success",
)


def test_the_first_build_is_recorded_whole() -> None:
    record = merge_dbt_build({}, BUILD)
    assert record["models"] == {"success": 2, "skipped": 1}
    assert record["tests"] == {"fail": 1}
    assert record["seeds"] == {"success": 1}
    assert [f["node"] for f in record["failures"]] == ["ytempire.not_null_a"]
    assert record["attempts"] == 1


def test_a_one_model_retry_updates_its_node_and_keeps_the_rest() -> None:
    first = merge_dbt_build({}, BUILD)
    tests_again = merge_dbt_build(first, _results(3.0, test__ytempire__not_null_a="pass"))
    retried = merge_dbt_build(tests_again, _results(2.5, model__ytempire__fct_c="success"))
    assert retried["models"] == {"success": 3}
    assert retried["tests"] == {"pass": 1}
    assert retried["seeds"] == {"success": 1}
    assert retried["failures"] == []
    assert retried["attempts"] == 3
    assert retried["elapsed_s"] == 45.5


def test_a_retry_that_fails_again_keeps_the_failure() -> None:
    first = merge_dbt_build({}, BUILD)
    again = merge_dbt_build(first, _results(3.0, test__ytempire__not_null_a="fail"))
    assert again["tests"] == {"fail": 1}
    assert len(again["failures"]) == 1
    assert again["models"] == {"success": 2, "skipped": 1}
