"""Stage attempts are recorded for the daily report, failures included."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date

import pytest

from ytempire import stage_runs
from ytempire.stage_runs import abandon_stale_stages, record_stage


def _rows(pg_admin, day):
    return pg_admin.execute(
        "select stage, status, error, details, finished_at >= started_at "
        "from analytics.pipeline_stage_runs where run_date = %s order by stage_run_id",
        (day,),
    ).fetchall()


def test_success_and_failure_are_both_recorded(settings, pg_admin):
    day = date(2031, 3, 4)
    with record_stage("collection", day, settings=settings) as run:
        run.details["channels_collected"] = 249
    with (
        pytest.raises(RuntimeError, match="quota exhausted"),
        record_stage("dbt_build", day, settings=settings),
    ):
        raise RuntimeError("quota exhausted")
    assert _rows(pg_admin, day) == [
        ("collection", "success", None, {"channels_collected": 249}, True),
        ("dbt_build", "failed", "RuntimeError: quota exhausted", {}, True),
    ]


def test_unknown_stage_is_refused(settings):
    with pytest.raises(ValueError, match="unknown pipeline stage 'colection'"):
        record_stage("colection", date(2031, 3, 4), settings=settings).__enter__()


# --- abandoned stages (issue 27): a killed process is not "still running" -----------------


_HOLD_A_STAGE = """
import sys, time
from datetime import date
from ytempire.stage_runs import record_stage
with record_stage("collection", date.fromisoformat(sys.argv[1])) as run:
    print(run.stage_run_id, flush=True)
    time.sleep(3600)
"""


def _status(pg_admin, stage_run_id: int) -> tuple:
    row = pg_admin.execute(
        "select status, error, finished_at = heartbeat_at from analytics.pipeline_stage_runs "
        "where stage_run_id = %s",
        (stage_run_id,),
    ).fetchone()
    assert row is not None
    return row


def test_a_stage_whose_process_was_killed_is_abandoned_once_its_heartbeat_is_stale(
    settings, pg_admin
):
    day = date(2031, 3, 5)
    child = subprocess.Popen(
        [sys.executable, "-c", _HOLD_A_STAGE, day.isoformat()],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "YTEMPIRE_PG_DATABASE": settings.pg_database},
    )
    stage_run_id = int(child.stdout.readline())  # the row exists and its process holds it
    child.kill()  # SIGKILL: no outcome is written
    child.wait()
    child.stdout.close()
    assert _status(pg_admin, stage_run_id)[0] == "running"  # within its timeout: unknowable

    # two days pass without a heartbeat
    pg_admin.execute(
        "update analytics.pipeline_stage_runs set started_at = started_at - interval '2 days', "
        "heartbeat_at = heartbeat_at - interval '2 days' where stage_run_id = %s",
        (stage_run_id,),
    )
    with record_stage("report", day, settings=settings):  # any stage's start sweeps
        pass
    status, error, finished_at_last_beat = _status(pg_admin, stage_run_id)
    assert status == "abandoned"
    assert error.startswith("abandoned: no heartbeat since ")
    assert "(its timeout is 600 s)" in error
    assert finished_at_last_beat

    from reporting.collect import gather
    from reporting.render import headline

    report = gather(day, settings=settings, freshness=False)
    assert [s.status for s in report.stages if s.stage == "collection"] == ["abandoned"]
    assert headline(report) == f"PIPELINE FAILED on {day}: collection"


def test_a_stage_that_beats_is_not_abandoned(settings, pg_admin, monkeypatch):
    monkeypatch.setattr(stage_runs, "HEARTBEAT_S", 0.05)
    day = date(2031, 3, 6)
    with record_stage("dbt_build", day, settings=settings) as run:
        first = pg_admin.execute(
            "select heartbeat_at from analytics.pipeline_stage_runs where stage_run_id = %s",
            (run.stage_run_id,),
        ).fetchone()[0]
        # the row looks two days old, but its process is alive and beats
        pg_admin.execute(
            "update analytics.pipeline_stage_runs set started_at = started_at - interval "
            "'2 days', heartbeat_at = heartbeat_at - interval '2 days' where stage_run_id = %s",
            (run.stage_run_id,),
        )
        while True:  # wait for the next beat (observed, not timed)
            beat = pg_admin.execute(
                "select heartbeat_at from analytics.pipeline_stage_runs where stage_run_id = %s",
                (run.stage_run_id,),
            ).fetchone()[0]
            if beat >= first:
                break
            time.sleep(0.02)
        assert abandon_stale_stages(pg_admin) == 0
        assert _status(pg_admin, run.stage_run_id)[0] == "running"
    assert _status(pg_admin, run.stage_run_id)[0] == "success"


def test_an_abandoned_stage_that_finishes_after_all_records_its_outcome(settings, pg_admin):
    day = date(2031, 3, 7)
    with record_stage("quality_scores", day, settings=settings) as run:
        pg_admin.execute(
            "update analytics.pipeline_stage_runs set heartbeat_at = heartbeat_at - interval "
            "'1 hour' where stage_run_id = %s",
            (run.stage_run_id,),
        )
        assert abandon_stale_stages(pg_admin) == 1
        assert _status(pg_admin, run.stage_run_id)[0] == "abandoned"
    assert _status(pg_admin, run.stage_run_id)[:2] == ("success", None)


def test_stage_errors_are_stored_redacted(settings, pg_admin):
    day = date(2031, 3, 8)
    with (
        pytest.raises(ConnectionError),
        record_stage("collection", day, settings=settings),
    ):
        raise ConnectionError("Error connecting to redis://:stage-row-secret@127.0.0.1:1/0")
    (error,) = [r[2] for r in _rows(pg_admin, day)]
    assert error == "ConnectionError: Error connecting to redis://:***@127.0.0.1:1/0"
