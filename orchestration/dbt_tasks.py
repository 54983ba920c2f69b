"""One Airflow task per dbt model, seed and snapshot: the node built and its own tests passed.

Cosmos' watcher mode with ``TestBehavior.AFTER_EACH`` renders every tested
node as two tasks, ``<node>.run`` and ``<node>.test``, each of which only
reads the producer's result for it. Under the scheduler each task is a
process that starts, parses the DAG file and reports back: with ~60 nodes
the watchers' start-ups, not dbt, were most of the scheduled run's dbt time
(airflow/README "Speed"). :class:`DbtNodeBuildWatcher` reads both results in
one task; the DAG renders it through Cosmos' own extension point,
``RenderConfig.node_converters`` (:data:`NODE_CONVERTERS`).

Imported by the DAG file after Airflow (Cosmos must not be imported first).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from cosmos.constants import DbtResourceType
from cosmos.operators._watcher.aggregation import get_tests_status_xcom_key
from cosmos.operators._watcher.state import get_xcom_val, is_producer_task_terminated
from cosmos.operators.base import DbtBuildMixin
from cosmos.operators.watcher import DbtConsumerWatcherSensor

from orchestration.watchers import node_verdict


class DbtNodeBuildWatcher(DbtBuildMixin, DbtConsumerWatcherSensor):
    """A dbt node's one task in watcher mode: the node built and its own tests passed.

    Cosmos' ``TestBehavior.AFTER_EACH`` gives every tested node two tasks,
    ``<node>.run`` and ``<node>.test``, each a task process that only reads
    the producer's result; under the scheduler each costs a process start-up
    (about 2 CPU-seconds on this machine, most of a watcher's cost). This
    task reads both results: the node's status (Cosmos' poke), then the
    aggregate of the tests credited to it; a failing test fails it, and what
    reads the node is ``upstream_failed``. Its retry, or its run in a
    cleared run, is ``dbt build --select <node>`` with dbt's ``cautious``
    indirect selection: the node and its own tests, never a test that also
    reads another node (those are tasks of their own) and never another
    node's relation. Named as Cosmos names a node built with its tests
    (``TestBehavior.BUILD``): ``<node>_<resource type>_build``.
    """

    template_fields: tuple[str, ...] = DbtConsumerWatcherSensor.template_fields

    def __init__(self, *args: Any, has_tests: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.has_tests = has_tests
        # A retry builds the node with its own tests only (dbt's DBT_INDIRECT_SELECTION).
        env: dict[str, str] = dict(getattr(self, "env", None) or {})
        self.env = {**env, "DBT_INDIRECT_SELECTION": "cautious"}
        self._node_built = False

    def _fallback_to_non_watcher_run(self, try_number: int, context: Any) -> bool:
        built = bool(super()._fallback_to_non_watcher_run(try_number, context))
        self._node_built = self._tests_done = built
        return built

    def poke(self, context: Any) -> bool:
        if not self._node_built:
            self._tests_done = False
            self._node_built = bool(super().poke(context))
            if not self._node_built:
                return False
        if self._tests_done:  # the node's own dbt build ran them
            return True
        status = get_xcom_val(
            context["ti"], self.producer_task_id, get_tests_status_xcom_key(self.model_unique_id)
        )
        ended = is_producer_task_terminated(self._get_producer_task_status(context))
        verdict = node_verdict(self.has_tests, status, ended)
        if verdict == "wait":
            return False
        if verdict == "own":
            self.log.info(
                "The build ended without the tests of %s: running them", self.model_unique_id
            )
            return bool(self._fallback_to_non_watcher_run(context["ti"].try_number, context))
        if verdict == "fail":
            from airflow.sdk.exceptions import AirflowException

            raise AirflowException(
                f"dbt tests of {self.model_unique_id} failed in the build of "
                f"{self.producer_task_id}: its log names each failed test"
            )
        return True


BUILT_RESOURCES = (DbtResourceType.MODEL, DbtResourceType.SEED, DbtResourceType.SNAPSHOT)


def node_build_task(
    *, dag: Any, task_group: Any, node: Any, task_args: Mapping[str, Any], **_: Any
) -> DbtNodeBuildWatcher:
    """Cosmos node converter (``RenderConfig.node_converters``): a :class:`DbtNodeBuildWatcher`.

    Replaces Cosmos' task group of ``<node>.run`` and ``<node>.test`` (or the
    lone ``<node>_run``) for a model, seed or snapshot; whether it has tests
    to read is set by the DAG from its producer's ``tests_per_model``.
    """
    group_id = getattr(task_group, "group_id", None)
    return DbtNodeBuildWatcher(
        task_id=f"{node.name}_{node.resource_type.value}_build",
        dag=dag,
        task_group=task_group,
        extra_context={
            "dbt_node_config": node.context_dict,
            "dbt_dag_task_group_identifier": "__".join(filter(None, [dag.dag_id, group_id])),
            "package_name": node.package_name,
        },
        select=f"fqn:{'.'.join(node.fqn)}" if node.fqn else node.resource_name,
        **task_args,
    )


NODE_CONVERTERS: dict[DbtResourceType, Callable[..., Any]] = dict.fromkeys(
    BUILT_RESOURCES, node_build_task
)
