"""Stage attempts are recorded for the daily report, failures included."""

from __future__ import annotations

from datetime import date

import pytest

from ytempire.stage_runs import record_stage


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
