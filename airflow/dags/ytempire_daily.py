"""``ytempire_daily``: the warehouse's daily run, every dbt model a task.

Schedule and data interval: at 02:00 America/Los_Angeles each day, for the
interval that began at 02:00 Pacific the day before. The run collects and
models the YouTube quota day that just ended (the Pacific date of
``data_interval_start``, see ``orchestration.daily``); the two hours
after midnight let the day's late events reach Kafka. A re-run or a backfill
of a day collects that day again and converges to the same rows.

    [collect_youtube, land_kafka_events] ─ catch_up_windows ─ validate_raw
      ─ transform (Cosmos) ─ [validate_marts, score_quality] ─ detect_anomalies
      ─ analyst_views (Cosmos) ─ dbt_docs ─ daily_report (all_done)
    owner_sources: [land_owner_reports, land_owner_revenue] ─ validate_raw
                                                            └ validate_owner

The landings publish the Assets ``RAW_YOUTUBE`` and ``RAW_EVENTS``: a DAG
scheduled on ``[RAW_YOUTUBE]`` runs whenever a collection lands, whatever
triggered it. ``transform`` and ``analyst_views`` are Cosmos ``DbtTaskGroup``s
rendered from dbt's manifest (no dbt call at parse time) in Cosmos' watcher
mode: a producer task runs one ``dbt build`` over the group, and every model,
seed and snapshot is one task (``<node>_<model|seed|snapshot>_build``) that
takes the node's result and its own tests' verdict from it
(``orchestration.dbt_tasks``); a failing test fails its model's task and the
dependants are ``upstream_failed``; a test of several models is a task of its
own.
The Great Expectations checkpoints (``validate_raw`` before dbt,
``validate_marts`` after) are gates: failed expectations fail their task at
once, without retries (bad data stays bad), so dbt does not build on failing
raw data and the analyst views are not refreshed from failing marts. The
report runs whatever happened (``all_done``) and lists the failed
expectations.

The file only wires tasks; each task calls one project function.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.sdk import DAG, Asset, Param, TaskGroup, TriggerRule, XComArg, chain, task
from airflow.sdk.exceptions import AirflowFailException
from cosmos import (
    DbtTaskGroup,
    ExecutionConfig,
    LoadMode,
    ProfileConfig,
    ProjectConfig,
    RenderConfig,
)
from cosmos.constants import (
    PRODUCER_WATCHER_TASK_ID,
    ExecutionMode,
    InvocationMode,
    TestBehavior,
)
from cosmos.operators._watcher.base import BaseConsumerSensor

from orchestration.dbt_tasks import NODE_CONVERTERS, DbtNodeBuildWatcher
from orchestration.logs import quiet_library_logs
from orchestration.schedule import QUOTA_DAY_PATTERN
from orchestration.timetable import QuotaDayTimetable
from orchestration.watchers import (
    TASK_DBT_TARGET,
    credit_detached_tests,
    published_manifest,
    target_dir,
    trust_no_result_of_a_cleared_run,
)

# Every task's process parses this file: its log leads with the task's own lines.
quiet_library_logs()

DBT_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
# Assets name the landed schemas by URI; consumers schedule on them.
RAW_YOUTUBE = Asset(name="raw_youtube", uri="postgres://ytempire/raw_youtube")
RAW_EVENTS = Asset(name="raw_events", uri="postgres://ytempire/raw_events")
STREAMING_WINDOWS = Asset(name="streaming_windows", uri="postgres://ytempire/streaming")
RAW_YOUTUBE_REPORTING = Asset(
    name="raw_youtube_reporting", uri="postgres://ytempire/raw_youtube_reporting"
)
RAW_YOUTUBE_ANALYTICS = Asset(
    name="raw_youtube_analytics", uri="postgres://ytempire/raw_youtube_analytics"
)
ANALYST_VIEWS_PATH = "path:models/marts/analytics"
# Where the dbt_docs task writes the docs site the UI serves: dbt's target folder as this
# parse resolves it (the installation's $DBT_TARGET_PATH). Resolved here, not in the task:
# under `airflow dags test` every task runs in one process, and Cosmos leaves each dbt
# task's env (DBT_TARGET_PATH=target) in os.environ after it (orchestration.daily).
DBT_DOCS_TARGET = target_dir()

# Retries wait 1, 2, 4 ... minutes (capped at 15); tests shorten the first wait.
RETRY_DELAY = timedelta(seconds=int(os.environ.get("YTEMPIRE_AIRFLOW_RETRY_DELAY_S", "60")))
default_args = {
    "owner": "data-engineering",
    "retries": 2,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
}

project_config = ProjectConfig(
    dbt_project_path=DBT_PROJECT,
    # <target>/published/manifest.json ($DBT_TARGET_PATH: the test suite's folder): a copy
    # swapped in whole (write, fsync, os.replace), never the manifest.json that dbt rewrites
    # in place while a parse may read it (ytempire.dbt_runner.publish_manifest)
    manifest_path=published_manifest(),
    install_dbt_deps=False,  # no packages; dbt hub is unreachable anyway
)
profile_config = ProfileConfig(
    profile_name="ytempire",
    target_name="local",
    profiles_yml_filepath=DBT_PROJECT / "profiles.yml",  # YTEMPIRE_PG_* variables
)
# Watcher mode: one `dbt build` per group (the producer task, in-process through
# dbtRunner, dbt's own threads), while each model's run and test tasks watch
# its result; a retry of a model's task runs dbt for that model alone. One dbt
# start-up instead of one per model: see README "Speed".
execution_config = ExecutionConfig(
    execution_mode=ExecutionMode.WATCHER,
    invocation_mode=InvocationMode.DBT_RUNNER,
    setup_operator_args={"pool": "default_pool"},  # the producer: never behind its watchers
)
# The watching tasks poke in-process and keep their slot until their node is done:
# a sensor that leaves and comes back within one try (mode="reschedule", or a
# deferral) is exposed to the scheduler's open state-mismatch race (apache/airflow
# #71172, and #71579 for a deferral whose trigger fires at once), which fails the
# task. A poking watcher goes queued -> running -> done once per try, like any task.
# See airflow/README "Execution mode".
# `airflow dags test` runs one task at a time in no fixed order: a watcher that ran
# before its producer and poked in place would wait forever, so that path (and only
# it: no executor, no race) has them reschedule (orchestration.runs.dags_test_day).
WATCHER_MODE = os.environ.get("YTEMPIRE_AIRFLOW_WATCHER_MODE", "poke")
if WATCHER_MODE not in ("poke", "reschedule"):
    raise ValueError(f"YTEMPIRE_AIRFLOW_WATCHER_MODE={WATCHER_MODE!r}: poke or reschedule")
dbt_operator_args = {
    "install_deps": False,
    "deferrable": False,
    "mode": WATCHER_MODE,
    "poke_interval": 3,
    "timeout": timedelta(hours=3).total_seconds(),
    # A pool of their own (orchestration.airflow_local.WATCHER_POOL): waiting watchers
    # can never take the slot their producer needs.
    "pool": "dbt_watchers",
    # Each dbt command writes its artifacts in its own copy of the project, never into
    # the manifest this file renders from (two at once corrupted it; TASK_DBT_TARGET).
    "env": {"DBT_TARGET_PATH": TASK_DBT_TARGET},
}


def _stage(
    function: str,
    data_interval_start: datetime | None = None,
    params: dict[str, object] | None = None,
) -> dict[str, object]:
    """Call ``orchestration.daily.<function>`` for the run's quota day.

    The day is the run's ``quota_day`` param, or its data interval's
    (``daily.quota_day_of_run``). Bad data (failed expectations) fails the task
    without retries; any other error is retried.
    """
    from orchestration import daily

    try:
        return daily.run_for_interval(function, data_interval_start, params)
    except Exception as error:
        if daily.is_data_problem(error):
            raise AirflowFailException(str(error)) from error
        raise


def stage(function: str, **task_args: object) -> XComArg:
    """A task named after the project function it calls (one per stage of ``daily``)."""
    return task(task_id=function, **task_args)(_stage)(function)  # type: ignore[no-any-return]


def _owner_stage(
    function: str,
    data_interval_start: datetime | None = None,
    params: dict[str, object] | None = None,
) -> dict[str, object]:
    """Call ``orchestration.owner.<function>`` for the run's quota day (as :func:`_stage`)."""
    from orchestration import daily, owner

    try:
        return owner.run_for_interval(function, data_interval_start, params)
    except Exception as error:
        if daily.is_data_problem(error):
            raise AirflowFailException(str(error)) from error
        raise


def owner_stage(function: str, **task_args: object) -> XComArg:
    """A task of the ``owner_sources`` group, named after its ``orchestration.owner`` function."""
    return task(task_id=function, **task_args)(_owner_stage)(function)  # type: ignore[no-any-return]


def dbt_group(group_id: str, **group_args: Any) -> DbtTaskGroup:
    """A Cosmos watcher-mode group whose tests of several models report as their own tasks.

    Its watchers trust no build made before the run was cleared (orchestration.watchers).
    """
    group = DbtTaskGroup(
        group_id=group_id,
        project_config=project_config,
        profile_config=profile_config,
        execution_config=execution_config,
        **group_args,
    )
    producer = group.children[f"{group_id}.{PRODUCER_WATCHER_TASK_ID}"]
    parents = {uid: node.depends_on for uid, node in group.dbt_graph.nodes.items()}
    producer.tests_per_model = credit_detached_tests(producer.tests_per_model, parents)
    for node_task in group.iter_tasks():
        if isinstance(node_task, DbtNodeBuildWatcher):  # reads its tests' verdict, if any
            node_task.has_tests = node_task.model_unique_id in producer.tests_per_model
        if isinstance(node_task, BaseConsumerSensor):  # a cleared run rebuilds what it re-runs
            trust_no_result_of_a_cleared_run(node_task)
    return group


def _render(**selection: list[str]) -> RenderConfig:
    return RenderConfig(
        load_method=LoadMode.DBT_MANIFEST,
        # The producer's single `dbt build` runs each model's tests after it (AFTER_EACH:
        # a test over two models runs after both). Each model, seed and snapshot is one
        # task, `<node>_<type>_build`, that reports the node and its own tests
        # (orchestration.watchers.DbtNodeBuildWatcher): a failing test fails it and its
        # dependants are upstream_failed. One task instead of Cosmos' `.run` and `.test`:
        # under the scheduler each task is a process start-up (airflow/README "Speed").
        test_behavior=TestBehavior.AFTER_EACH,
        node_converters=NODE_CONVERTERS,
        # A test of several models (relationships, reconciliations) is a task of its own
        # after all of them, reported under its own id (orchestration.watchers): a failure
        # in one parent's branch leaves it upstream_failed, never fails another model.
        should_detach_multiple_parents_tests=True,
        dbt_deps=False,
        **selection,  # type: ignore[arg-type]
    )


with DAG(
    dag_id="ytempire_daily",
    description="Collect, land, model, check and report one YouTube quota day.",
    # Cron "0 2 * * *" Pacific with data intervals; unpausing never starts a past day.
    schedule=QuotaDayTimetable(),
    start_date=datetime(2025, 1, 1),
    catchup=False,
    params={
        "quota_day": Param(
            None,
            type=["null", "string"],
            format="date",
            pattern=QUOTA_DAY_PATTERN,
            title="Quota day",
            description=(
                "The YouTube quota day (Pacific date, YYYY-MM-DD) to collect and model. "
                "Empty: the day of the run's data interval (what a scheduled run does)."
            ),
        )
    },
    max_active_runs=1,  # days share the dlt pipelines, Spark checkpoints and dbt's incrementals
    default_args=default_args,
    tags=["ytempire", "daily", "dbt", "cosmos"],
    doc_md=__doc__,
) as dag:

    @task
    def dbt_docs() -> str:
        from orchestration import daily

        return daily.generate_dbt_docs(DBT_DOCS_TARGET)

    transform = dbt_group(
        "transform",
        # The analyst views and all that reads them: Cosmos renders a test of several nodes
        # (the niche rollup's reconciliation of two views) in every group whose selection
        # its own path passes, parents or not; dbt's --exclude already leaves it out.
        render_config=_render(exclude=[f"{ANALYST_VIEWS_PATH}+"]),
        # Records the build as the day's dbt_build stage for the report (resolved at run time).
        operator_args={**dbt_operator_args, "callback": "orchestration.daily.record_dbt_build"},
    )
    analyst_views = dbt_group(
        "analyst_views",
        render_config=_render(select=[ANALYST_VIEWS_PATH]),
        operator_args=dbt_operator_args,
    )

    @task(trigger_rule=TriggerRule.ONE_FAILED, retries=0)
    def fail_if_any_task_failed() -> None:
        """Mark the run failed when a task failed: the all_done report alone would pass it."""
        raise RuntimeError("a task of this run failed; see the grid for which")

    report = stage("daily_report", trigger_rule=TriggerRule.ALL_DONE)
    chain(
        [
            stage("collect_youtube", outlets=[RAW_YOUTUBE]),
            stage("land_kafka_events", outlets=[RAW_EVENTS]),
        ],
        stage("catch_up_windows", outlets=[STREAMING_WINDOWS]),
        stage("validate_raw"),
        transform,
        [stage("validate_marts"), stage("score_quality")],
        stage("detect_anomalies"),
        analyst_views,
        dbt_docs(),
        report,
    )
    # --- The owner's sources (issue 28; orchestration.owner, owned by owner-dag) ---------
    # Reporting API reports and Analytics API revenue, landed as they arrive (~48 h after
    # their day): what is available, whatever day the run is for. A channel's trouble is
    # an outcome in the stage record, never a failure; a landing that cannot go on (a
    # service down) is retried. dbt reads the landings (their staging models follow the
    # group), so transform waits for them; the `owner` checkpoint (freshness per report
    # type, rows per day) runs beside dbt: a late report type fails its task, named, and
    # the run, but does not hold back the Data API's marts. The marts gate exempts the
    # owner's marts from the run day's rows (expectations.checkpoints.SPARSE_DAY_MARTS).
    with TaskGroup(group_id="owner_sources", tooltip="YouTube Reporting and Analytics APIs"):
        owner_landings = [
            owner_stage("land_owner_reports", outlets=[RAW_YOUTUBE_REPORTING]),
            owner_stage("land_owner_revenue", outlets=[RAW_YOUTUBE_ANALYTICS]),
        ]
        owner_landings >> owner_stage("validate_owner")
    owner_landings >> dag.get_task("validate_raw")

    # Downstream of every task, so any failure anywhere reaches it.
    every_task = list(dag.tasks)
    every_task >> fail_if_any_task_failed()
