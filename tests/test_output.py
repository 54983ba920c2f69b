"""The commands' summary lines: counts by kind and status, events left to the warehouse by type."""

from __future__ import annotations

from collections import Counter
from types import SimpleNamespace

from ytempire.dbt_runner import node_summary
from ytempire_cli.process import summary


def _result(resource_type: str, status: str) -> SimpleNamespace:
    return SimpleNamespace(node=SimpleNamespace(resource_type=resource_type), status=status)


def test_dbt_summary_counts_nodes_by_kind_and_status():
    results = [
        _result("model", "success"),
        _result("model", "success"),
        _result("test", "pass"),
        _result("test", "fail"),
        _result("seed", "success"),
    ]
    assert node_summary(results) == "2 models, 1 seed, 2 tests: 1 fail, 1 pass, 3 success"


def test_processor_summary_names_the_event_types_left_to_the_warehouse():
    counts = Counter(
        {"video_generated": 1_200, "dead_lettered": 3, "skipped:user_action": 40, "skipped:x": 2}
    )
    lines = summary(counts, 2.0).splitlines()
    assert lines == [
        "processed 1,245 events in 2.0s (622/s): dead_lettered 3, video_generated 1,200",
        "  left to the warehouse (no real-time handler, as designed): user_action 40, x 2",
    ]
