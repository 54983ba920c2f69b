"""Which task reports a dbt test in Cosmos' watcher mode: its own, if it tests several nodes.

In watcher mode one producer task runs ``dbt build`` over a task group and each
model's ``<model>.test`` task takes the verdict of that model's tests from it:
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

from collections.abc import Mapping, Sequence


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
