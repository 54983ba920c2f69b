"""Which task reports a dbt test in Cosmos' watcher mode: its own, if it tests several nodes.

In watcher mode one producer task runs ``dbt build`` over a task group and each
model's task (Cosmos' ``<model>.test``; here the model's one task,
``orchestration.dbt_tasks``) takes the verdict of that model's tests from it:
the producer pushes one aggregated status per model (``tests_per_model``: model
unique id -> the test unique ids it waits for), ``fail`` unless every test
passed. Cosmos 1.15 credits a test with several parents (``relationships``, a
singular test that reads two models) to *each* parent, and reports a test that
dbt skipped because an upstream node failed as failed (astronomer-cosmos #2698).
Together: when one parent's branch fails, the test is skipped and the *other*
parent's test task fails, although every test of that model passed. Seen on a
day whose ``stg_youtube__channel_snapshots`` test failed: ``int_channels_joined``
was skipped, so ``assert_cpm_overrides_match_channels`` (the seed
``channel_cpm_overrides`` and ``int_channels_joined``) was skipped and the
seed's test task failed three tries, a failure that was not the seed's.

The DAG renders such tests as tasks of their own, downstream of every parent
(``RenderConfig(should_detach_multiple_parents_tests=True)``, Cosmos' own
rendering of them), and :func:`credit_detached_tests` makes the producer report
each one under its own id, which is what the detached task watches. A parent's
failure then makes the detached task ``upstream_failed`` (Airflow's rule), and
each model's test task reports only the tests that are that model's alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

# The folder, relative to each dbt task's own copy of the project, where its dbt writes its
# artifacts: re-exported here because DAG files import only orchestration (ARCHITECTURE.md).
from ytempire.dbt_runner import TASK_DBT_TARGET as TASK_DBT_TARGET
from ytempire.dbt_runner import published_manifest as published_manifest
from ytempire.dbt_runner import target_dir as target_dir


def credit_detached_tests(
    tests_per_model: Mapping[str, Sequence[str]], parents: Mapping[str, Sequence[str]]
) -> dict[str, list[str]]:
    """``tests_per_model`` with every test of several parents credited to itself alone (pure).

    ``parents`` maps a test's unique id to the unique ids of the nodes it depends
    on (the manifest's ``depends_on.nodes``). A test with one parent stays under
    it; a test with more is removed from each parent and becomes its own entry
    (``{test_id: [test_id]}``, the key its detached task reads). A model left
    with no test of its own has no entry (Cosmos renders no test task for it).
    """
    detached = {
        test
        for tests in tests_per_model.values()
        for test in tests
        if len(parents.get(test, ())) > 1
    }
    credited: dict[str, list[str]] = {}
    for model, tests in tests_per_model.items():
        own = [test for test in tests if test not in detached]
        if own:
            credited[model] = own
    for test in sorted(detached):
        credited[test] = [test]
    return credited


# -- a cleared run trusts no earlier build ---------------------------------------------

Source = Literal["producer", "wait", "own"]


def where_a_watcher_reads(clear_number: int, producer_state: str | None) -> Source:
    """Where a watcher takes its node's result from (pure): the producer, or its own dbt run.

    ``clear_number`` is the run's (Airflow counts every clear of a run's tasks);
    ``producer_state`` the group producer's task state. Cosmos' producer builds
    on its first try only: any later try (an Airflow retry, or a try after a
    clear) skips and restores the results of the build it made before, from
    an Airflow Variable. In a run that was never cleared those results are this
    run's build (a producer killed mid-build and retried): ``"producer"``,
    Cosmos' own watching. Once the run has been cleared they predate the
    clear, which is how an operator asks to rebuild: a cleared model's test
    task would read its old ``fail`` (the producer cleared with it still
    queued, its XComs not yet purged), fail a try and only then run its own
    dbt test; a cleared dependant that had been ``upstream_failed`` would read
    dbt's old ``skipped`` and skip, its model never rebuilt. So a watcher of a
    cleared run trusts no producer result: it waits (``"wait"``) until the
    producer's task has ended, so that no build of the group is under way,
    then runs its own node (``"own"``).
    """
    if clear_number <= 0:
        return "producer"
    from cosmos.operators._watcher.state import is_producer_task_terminated

    return "own" if is_producer_task_terminated(producer_state) else "wait"


def trust_no_result_of_a_cleared_run(sensor: Any) -> None:
    """Make a Cosmos watcher ``sensor`` read :func:`where_a_watcher_reads` before each poke.

    Wraps the instance's ``poke``; Cosmos' poke is used unchanged for a run
    never cleared.
    """
    cosmos_poke: Callable[[Any], bool] = sensor.poke

    def poke(context: Any) -> bool:
        dag_run = context["dag_run"]
        source = where_a_watcher_reads(
            int(getattr(dag_run, "clear_number", 0) or 0),
            sensor._get_producer_task_status(context),
        )
        if source == "producer":
            return cosmos_poke(context)
        if source == "wait":
            sensor.log.info(
                "The run was cleared: waiting for %s to end before running %s's own dbt node",
                sensor.producer_task_id,
                sensor.model_unique_id,
            )
            return False
        sensor.log.info(
            "The run was cleared: its earlier build's result for %s is not trusted; "
            "running the node's own dbt command",
            sensor.model_unique_id,
        )
        return bool(sensor._fallback_to_non_watcher_run(context["ti"].try_number, context))

    sensor.poke = poke


# -- one task per dbt node: the node and its own tests -----------------------------------

Verdict = Literal["pass", "fail", "wait", "own"]


def node_verdict(has_tests: bool, tests_status: str | None, producer_ended: bool) -> Verdict:
    """What a node's task concludes once the producer reported the node built (pure).

    ``has_tests``: the producer's build runs tests credited to the node
    (:func:`credit_detached_tests`); ``tests_status`` their aggregate as the
    producer pushed it (``"pass"``, ``"fail"``, or ``None`` until every one has
    reported); ``producer_ended``: the producer's task is in a terminal state.
    A node without tests passes with its build; tests not all reported while
    the producer still runs are awaited (``"wait"``); a producer that ended
    without reporting them all (killed mid-build, then skipped on its retry)
    leaves the node's own ``dbt build`` to run them (``"own"``).
    """
    if not has_tests:
        return "pass"
    if tests_status is None:
        return "own" if producer_ended else "wait"
    return "pass" if tests_status == "pass" else "fail"  # Cosmos' DbtTestStatus
