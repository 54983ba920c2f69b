"""Where a Cosmos watcher takes its node's result from: a cleared run trusts no earlier build.

The rule is pure (``orchestration.watchers.where_a_watcher_reads``); the DAG
wraps every watcher with it (``test_dag_integrity``), and the scheduler test's
day 2 clears a failed run and checks each cleared model re-runs in one try.
"""

from __future__ import annotations

import pytest

from orchestration.watchers import node_verdict, where_a_watcher_reads

ACTIVE = (None, "scheduled", "queued", "running", "up_for_retry", "restarting")
ENDED = ("success", "failed", "skipped")


@pytest.mark.parametrize("producer", ACTIVE + ENDED)
def test_a_run_never_cleared_reads_its_producer(producer: str | None) -> None:
    """A killed producer's retry restores this run's own results: they are trusted."""
    assert where_a_watcher_reads(0, producer) == "producer"


@pytest.mark.parametrize("producer", ACTIVE)
def test_a_cleared_run_waits_while_its_producer_may_still_build_or_restore(
    producer: str | None,
) -> None:
    assert where_a_watcher_reads(1, producer) == "wait"


@pytest.mark.parametrize("producer", ENDED)
@pytest.mark.parametrize("clears", [1, 3])
def test_a_cleared_run_runs_its_own_node_once_the_producer_has_ended(
    producer: str, clears: int
) -> None:
    """The producer's results, stale ``fail`` or ``skipped`` alike, predate the clear."""
    assert where_a_watcher_reads(clears, producer) == "own"


# -- a node's one task reads its own tests' verdict (orchestration.dbt_tasks) ---------------


@pytest.mark.parametrize("tests", [None, "pass", "fail"])
@pytest.mark.parametrize("ended", [False, True])
def test_a_node_without_tests_of_its_own_passes_with_its_build(
    tests: str | None, ended: bool
) -> None:
    assert node_verdict(False, tests, ended) == "pass"


@pytest.mark.parametrize("ended", [False, True])
def test_a_node_passes_or_fails_with_its_tests_aggregate(ended: bool) -> None:
    assert node_verdict(True, "pass", ended) == "pass"
    assert node_verdict(True, "fail", ended) == "fail"


def test_a_node_waits_for_tests_still_running_in_the_build() -> None:
    assert node_verdict(True, None, producer_ended=False) == "wait"


def test_a_build_that_ended_without_the_nodes_tests_leaves_them_to_the_node() -> None:
    """A producer killed between the node and its tests is skipped on its retry."""
    assert node_verdict(True, None, producer_ended=True) == "own"
