"""The stages of the daily run, one function per Airflow task of ``ytempire_daily``.

Each function takes the quota day the run is for (a Pacific date, see
:func:`quota_day_of_interval`), records its attempt with
:func:`ytempire.stage_runs.record_stage`, and is idempotent: a retry or a
re-run of the day converges to the same rows (the landings are exactly-once
by key and offset, the Spark sinks upsert, dbt's incremental models rewrite
the days they touch). The same functions can be called without Airflow.

A stage that finds bad data (failed expectations) raises an error whose
exit status is 3 (:func:`is_data_problem`): the DAG fails that task without
retrying it, and the tasks that read its data do not run.

Configuration (each with one default; the landings' own settings stay in
:mod:`ytempire.settings` and :mod:`streaming.config`):

* ``YTEMPIRE_EVENTS_TOPICS``: topics the events landing reads (comma-separated;
  default video-events, channel-events, user-events);
* ``YTEMPIRE_EVENTS_DEAD_LETTER_TOPIC``: where invalid messages go (default
  dead-letter);
* ``YTEMPIRE_DLT_PIPELINES_DIR``: dlt working folders (default
  ``$YTEMPIRE_LOCAL_DIR/dlt``);
* ``YTEMPIRE_ALERTS_TOPIC``: where failed expectations and low quality scores
  are sent (default alerts);
* ``YTEMPIRE_ANOMALY_ALERTS_TOPIC``: where new anomaly episodes are sent
  (default anomaly-alerts).
"""

from __future__ import annotations

import logging
import os
from datetime import date, datetime
from pathlib import Path
from typing import Any

from ytempire.errors import YTEmpireError
from ytempire.quota import PACIFIC
from ytempire.settings import get_settings
from ytempire.stage_runs import record_stage

log = logging.getLogger(__name__)

DATA_PROBLEM_EXIT_CODE = 3  # the CLI's exit status for bad data (``ytempire quality validate``)
ALERTS_TOPIC_VARIABLE = "YTEMPIRE_ALERTS_TOPIC"
ANOMALY_ALERTS_TOPIC_VARIABLE = "YTEMPIRE_ANOMALY_ALERTS_TOPIC"


def quota_day_of_interval(data_interval_start: datetime) -> date:
    """The YouTube quota day (Pacific date) a daily run's data interval covers.

    ``ytempire_daily`` runs at 02:00 Pacific for the interval that started at
    02:00 Pacific the day before, so the Pacific date of the interval's start
    is the quota day that just ended. Raises ``ValueError`` on a naive datetime.
    """
    if data_interval_start.tzinfo is None:
        raise ValueError(f"data interval start {data_interval_start!r} has no time zone")
    return data_interval_start.astimezone(PACIFIC).date()


QUOTA_DAY_PARAM = "quota_day"


def parse_quota_day(value: str) -> date:
    """An ISO 8601 calendar date (``YYYY-MM-DD``) as a quota day; ``ValueError`` otherwise.

    Only the extended form with both dashes and zero-padded fields is accepted
    (``2025-01-03``, not ``2025-1-3`` or ``20250103``), so a day means the same
    in the CLI, the trigger form, run ids and the logs.
    """
    from ytempire.dates import parse_iso_date

    return parse_iso_date(value)


def quota_day_of_run(data_interval_start: datetime | None, params: Any = None) -> date:
    """The quota day a run of ``ytempire_daily`` works on.

    The run's ``quota_day`` param when the trigger gave one (the trigger form,
    ``ytempire airflow run``), else the Pacific date of its data interval's
    start (:func:`quota_day_of_interval`: scheduled runs and backfills).
    Raises ``ValueError`` for a malformed ``quota_day`` or a run with neither.
    """
    given = (params or {}).get(QUOTA_DAY_PARAM)
    if given:
        return parse_quota_day(str(given))
    if data_interval_start is None:
        raise ValueError(f"the run has no data interval and no {QUOTA_DAY_PARAM} param")
    return quota_day_of_interval(data_interval_start)


def quota_day_note(day: date) -> str:
    """The note every run of ``ytempire_daily`` carries: which quota day it works on."""
    return f"quota day {day.isoformat()}"


def _pipelines_dir() -> Path:
    return Path(os.environ.get("YTEMPIRE_DLT_PIPELINES_DIR") or get_settings().dlt_pipelines_dir)


def _event_topics() -> list[str]:
    from ingestion.kafka_events.landing import DEFAULT_TOPICS

    raw = os.environ.get("YTEMPIRE_EVENTS_TOPICS", "")
    return [t.strip() for t in raw.split(",") if t.strip()] or list(DEFAULT_TOPICS)


def _alerts_topic(variable: str) -> str | None:
    """The topic named by ``variable``, or ``None`` for the checks' own default."""
    return os.environ.get(variable) or None


def _complete_collection(day: date) -> str | None:
    """The run id of a complete collection of ``day`` in ``raw_youtube``, if one landed."""
    from ytempire.clients import pg_connect

    with pg_connect("loader") as conn:
        if conn.execute("select to_regclass('raw_youtube.collection_runs')").fetchone() == (None,):
            return None
        row = conn.execute(
            "select run_id from raw_youtube.collection_runs "
            "where collection_date = %s and status = 'complete' "
            "order by finished_at desc nulls last limit 1",
            (day,),
        ).fetchone()
    return None if row is None else str(row[0])


def collect_youtube(day: date) -> dict[str, Any]:
    """Collect the channels' YouTube statistics of quota ``day`` into ``raw_youtube``.

    Returns the run report as a dict (status, units used, snapshots landed).
    A partial run (quota exhausted, channels failing) records its error and
    succeeds: the next attempt resumes where it stopped. A day whose collection
    already completed is left as it is (status ``already_complete``, no API
    call): the API serves today's statistics only, so collecting a past day
    again would label today's counters, and videos published since, with that
    day. A re-run or a backfill of the day therefore changes no raw row.
    """
    from ingestion.youtube.landing import run_day

    with record_stage("collection", day) as run:
        done = _complete_collection(day)
        if done is not None:
            run.details = {"status": "already_complete", "units_used": 0, "run_id": done}
            log.info("collection of %s already complete (run %s): nothing collected", day, done)
            return run.details
        report = run_day(day, pipelines_dir=_pipelines_dir())
        run.details = {
            "status": report.status,
            "units_used": report.units_used,
            "channels": report.channels_collected,
            "videos": report.videos_collected,
            "error": report.error,
        }
    return run.details


def land_kafka_events(day: date) -> dict[str, Any]:
    """Land the event topics into ``raw_events`` up to their high-water marks, then stop.

    Exactly once (offsets are committed with the load), so a retry lands only
    what the failed attempt did not. Returns messages and loads landed.
    """
    from ingestion.kafka_events.landing import land_events

    options: dict[str, Any] = {"pipelines_dir": _pipelines_dir(), "progress": log.info}
    dead_letter = os.environ.get("YTEMPIRE_EVENTS_DEAD_LETTER_TOPIC")
    if dead_letter:
        options["dead_letter_topic"] = dead_letter
    with record_stage("events_landing", day) as run:
        summary = land_events(_event_topics(), **options)
        run.details = {"messages": summary.messages, "loads": summary.loads}
    return run.details


def catch_up_windows(day: date) -> dict[str, Any]:
    """Run the Spark channel-windows job with ``availableNow``: what the topics hold, then stop.

    It resumes from the same checkpoints as the continuous service (only one
    of the two may run at a time on one checkpoint folder), and its sink
    upserts, so a retry converges. Returns micro-batches and events read.
    """
    from streaming.channel_windows import run
    from streaming.config import StreamConfig

    with record_stage("streaming_windows", day) as run_record:
        result = run(StreamConfig.from_env(), available_now=True)
        run_record.details = {"batches": result.batches, "events": result.input_rows}
    return run_record.details


def _validate(checkpoint: str, day: date) -> dict[str, Any]:
    from expectations.checkpoints import ValidationFailed, validate

    try:
        run = validate(checkpoint, day, alerts_topic=_alerts_topic(ALERTS_TOPIC_VARIABLE))
    except ValidationFailed as failed:
        # One short line per failed expectation: a log viewer does not wrap the
        # exception's one long line.
        log.error(
            "checkpoint %s for %s: %d of %d expectations failed",
            checkpoint,
            day,
            len(failed.run.failed),
            len(failed.run.outcomes),
        )
        for outcome in failed.run.failed:
            column = f" column {outcome.column}" if outcome.column else ""
            log.error(
                "  failed: %s %s%s: %s unexpected",
                outcome.suite_name,
                outcome.expectation_type,
                column,
                outcome.unexpected_count,
            )
        raise
    log.info(
        "checkpoint %s for %s: all %d expectations passed (Data Docs %s)",
        checkpoint,
        day,
        len(run.outcomes),
        run.docs_index,
    )
    return {
        "run_id": run.run_id,
        "evaluated": len(run.outcomes),
        "data_docs": str(run.docs_index),
    }


def validate_raw(day: date) -> dict[str, Any]:
    """Great Expectations checkpoint ``raw`` on the day's landings and operational tables.

    Stage ``validation_raw``. Every outcome is stored in
    ``analytics.validation_results``, summarised in Redis and each failure sent
    to the alerts topic. Returns the run id and the number of expectations
    evaluated; raises ``expectations.checkpoints.ValidationFailed`` (a data
    problem, see :func:`is_data_problem`) naming the failed count when any
    expectation failed, so dbt does not build on bad raw data.
    """
    return _validate("raw", day)


def validate_marts(day: date) -> dict[str, Any]:
    """Great Expectations checkpoint ``marts`` on the public marts dbt just built.

    Stage ``validation_marts``; stores, summarises and alerts like
    :func:`validate_raw`, and raises ``ValidationFailed`` when any expectation
    failed, so the analyst views are not refreshed from failing marts.
    """
    return _validate("marts", day)


def score_quality(day: date) -> dict[str, Any]:
    """The six-dimension quality scores per table and overall (``monitoring.scores``).

    Stage ``quality_scores``. Stored in the warehouse; an overall score below
    85 is sent to the alerts topic but does not fail the task (a score is a
    measure, the checkpoints are the gate). Returns the run id, the overall
    score (0-100, ``None`` when nothing could be measured) and the alert's
    severity if one was sent.
    """
    from monitoring.scores import compute

    run = compute(day, topic=_alerts_topic(ALERTS_TOPIC_VARIABLE))
    return {
        "run_id": run.run_id,
        "overall": run.overall,
        "alert": run.alert["severity"] if run.alert else None,
    }


def detect_anomalies(day: date) -> dict[str, Any]:
    """Collect the day's metric series from the warehouse and flag anomalies.

    ``monitoring.anomalies.detect``, stage ``anomaly_detection``. Each new
    anomaly episode is sent once to the anomaly alerts topic; a re-run of the
    day sends nothing new. Returns the series scored and the anomalies found;
    an anomaly is a finding, not a task failure.
    """
    from monitoring.anomalies import detect

    run = detect(day, topic=_alerts_topic(ANOMALY_ALERTS_TOPIC_VARIABLE), progress=log.info)
    return {
        "series_scored": run.series_scored,
        "series_short_history": run.series_short,
        "anomalies": len(run.detections),
        "alerts": run.alerts_sent,
    }


def is_data_problem(error: BaseException) -> bool:
    """Is ``error`` bad data (exit status 3, e.g. failed expectations) rather than a fault?

    A retry cannot fix bad data, so the DAG fails such a task at once instead
    of retrying it; a service that is down (exit status 2) or any other error
    is retried.
    """
    return isinstance(error, YTEmpireError) and error.exit_code == DATA_PROBLEM_EXIT_CODE


def daily_report(day: date) -> dict[str, Any]:
    """Write the day's report (HTML page and text summary; mail when SMTP is configured).

    Runs whatever the other tasks did (the DAG's ``all_done``) and says what
    failed; records itself as the ``report`` stage. Returns the files' paths.
    """
    from reporting.daily import write_daily_report

    outcome = write_daily_report(day)
    log.info(
        "daily report for %s: %s (%s); %s", day, outcome.files, outcome.headline, outcome.email
    )
    return {"files": str(outcome.files), "headline": outcome.headline, "email": outcome.email}


class DbtBuildFailed(YTEmpireError):
    """A dbt build in the DAG had failed models or tests (recorded, not raised to Airflow)."""


def record_dbt_build(project_dir: str, context: Any = None, **_: Any) -> None:
    """Cosmos callback of the ``transform`` group: record the day's dbt build as ``dbt_build``.

    Cosmos calls it after every dbt invocation of the group, with the
    temporary project folder (its ``target/run_results.json``) and the task's
    Airflow context, whether or not dbt failed; Cosmos then fails the task
    itself. The group's producer runs one ``dbt build`` over every node; a
    retried or cleared model task runs dbt for its one node. So each call
    merges its nodes into the day's build (:func:`merge_dbt_build`): the
    recorded stage is always the whole build, each node at its latest result,
    whatever retries happened, and counts the dbt invocations in ``attempts``.
    Its status is ``failed`` while a model or test is failed. Without this
    the daily report would say dbt did not run, since Cosmos, not ``ytempire
    warehouse build``, ran it.
    """
    import json

    from ytempire.clients import pg_connect
    from ytempire.dbt_runner import TASK_DBT_TARGET, run_results_summary

    mask_secrets_in_airflow()
    day = quota_day_of_run(context["data_interval_start"], context.get("params"))
    results = Path(project_dir) / TASK_DBT_TARGET / "run_results.json"  # the task's own copy
    # One writer at a time per day: retried model tasks run side by side.
    with pg_connect("loader", autocommit=True) as lock:
        lock.execute("select pg_advisory_lock(hashtext(%s))", (f"dbt_build:{day}",))
        try:
            previous = _latest_stage_details("dbt_build", day, lock)
            with record_stage("dbt_build", day) as run:
                if not results.is_file():
                    run.details.update(previous)
                    raise DbtBuildFailed(f"dbt wrote no run_results.json in {project_dir}")
                merged = merge_dbt_build(previous, json.loads(results.read_text()))
                run.details.update(merged)
                summary = run_results_summary(
                    {"results": _node_results(merged), "elapsed_time": merged["elapsed_s"]}
                )
                if summary["failures"]:
                    names = ", ".join(f["node"] for f in summary["failures"])
                    raise DbtBuildFailed(f"dbt build failed: {names}")
        except DbtBuildFailed as failed:
            log.warning("%s (recorded as the dbt_build stage of %s)", failed, day)
        finally:
            lock.execute("select pg_advisory_unlock(hashtext(%s))", (f"dbt_build:{day}",))


def merge_dbt_build(previous: dict[str, Any], run_results: dict[str, Any]) -> dict[str, Any]:
    """The day's build after one more dbt invocation (pure).

    ``previous`` is the last recorded ``dbt_build`` details (``{}`` for none);
    ``run_results`` a dbt ``run_results.json``. Returns the details of the
    whole build: ``nodes`` (each ``unique_id`` -> ``{"status", "message"}``,
    this invocation's result replacing an earlier one), the counts and
    failures of :func:`ytempire.dbt_runner.run_results_summary` over every
    node, ``elapsed_s`` (summed over invocations) and ``attempts`` (how many).
    """
    from ytempire.dbt_runner import run_results_summary

    nodes: dict[str, dict[str, str]] = dict(previous.get("nodes") or {})
    for result in run_results.get("results", []):
        message = str(result.get("message") or "").strip()
        nodes[str(result["unique_id"])] = {"status": str(result["status"]), "message": message}
    elapsed = float(previous.get("elapsed_s") or 0.0) + float(
        run_results.get("elapsed_time") or 0.0
    )
    merged = {"nodes": nodes}
    summary = run_results_summary({"results": _node_results(merged), "elapsed_time": elapsed})
    return {
        **summary,
        "nodes": nodes,
        "attempts": int(previous.get("attempts") or 0) + 1,
    }


def _node_results(details: dict[str, Any]) -> list[dict[str, str]]:
    return [
        {"unique_id": unique_id, "status": node["status"], "message": node.get("message", "")}
        for unique_id, node in sorted(details["nodes"].items())
    ]


def _latest_stage_details(stage: str, day: date, conn: Any) -> dict[str, Any]:
    row = conn.execute(
        "select details from analytics.pipeline_stage_runs where stage = %s and run_date = %s "
        "and details is not null order by stage_run_id desc limit 1",
        (stage, day),
    ).fetchone()
    return dict(row[0]) if row and row[0] else {}


def generate_dbt_docs(target: Path | None = None) -> str:
    """Regenerate the dbt docs site that the Airflow UI serves, in ``target``.

    ``target`` is dbt's target folder as the DAG file resolved it when parsed (the
    installation's ``$DBT_TARGET_PATH``, by default ``dbt_project/target``: the folder
    ``orchestration.airflow_local`` points the UI's docs link at); default
    :func:`ytempire.dbt_runner.target_dir` now. The DAG passes it because the process
    environment cannot be trusted at run time: under ``airflow dags test`` every task
    runs in one process, and Cosmos leaves each dbt task's environment (its
    ``DBT_TARGET_PATH=target``) in ``os.environ`` after the task (the OpenLineage step
    of ``cosmos.operators.local``), which sent these docs into the checkout's target.

    dbt rewrites ``manifest.json`` in place; the DAG reads only the copy published
    whole after it (``ytempire.dbt_runner.publish_manifest``). Returns the folder.
    Raises ``YTEmpireError`` when ``dbt docs generate`` fails.
    """
    from ytempire.dbt_runner import PUBLISHED_MANIFEST, publish_manifest, run_dbt, target_dir

    mask_secrets_in_airflow()
    folder = (target or target_dir()).resolve()
    run_dbt("docs generate", "--target-path", str(folder), quiet=True)
    publish_manifest(folder / "manifest.json", folder / PUBLISHED_MANIFEST)
    return str(folder)


STAGE_FUNCTIONS = {
    f.__name__: f
    for f in (
        collect_youtube,
        land_kafka_events,
        catch_up_windows,
        validate_raw,
        validate_marts,
        score_quality,
        detect_anomalies,
        daily_report,
    )
}


def mask_secrets_in_airflow() -> None:
    """Register every configured secret with Airflow's secrets masker (task logs, XComs,
    rendered fields): the values :func:`ytempire.redaction.configured_secrets` finds.

    Airflow masks its own connections and sensitive variables, not this project's
    ``YTEMPIRE_*`` variables; a driver's traceback in a task log (a Google client
    error quoting its request URL and ``key=``) would otherwise print them. Does
    nothing outside Airflow.
    """
    from ytempire.redaction import configured_secrets

    try:
        from airflow.sdk.log import mask_secret
    except ImportError:  # not in an Airflow process
        return
    for secret in configured_secrets(get_settings()):
        mask_secret(secret)


def run_for_interval(
    function: str, data_interval_start: datetime | None, params: Any = None
) -> dict[str, Any]:
    """Run the stage function named ``function`` for the run's quota day (:func:`quota_day_of_run`).

    What an Airflow task calls (after masking the project's secrets in its log).
    Raises ``KeyError`` naming the known stages for an unknown name, ``ValueError``
    for a malformed ``quota_day``.
    """
    mask_secrets_in_airflow()
    if function not in STAGE_FUNCTIONS:
        raise KeyError(f"no stage function {function!r}; known: {', '.join(STAGE_FUNCTIONS)}")
    day = quota_day_of_run(data_interval_start, params)
    log.info("%s for %s", function, quota_day_note(day))
    return STAGE_FUNCTIONS[function](day)
