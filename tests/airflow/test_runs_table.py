"""The dates and the table of ``ytempire airflow run`` / ``runs`` (pure: no service, no Airflow)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from click.testing import CliRunner

from orchestration.daily import quota_day_of_interval
from orchestration.runs import (
    DagRunResult,
    TaskResult,
    interval_start_for,
    logical_date_for,
    runs_table,
)
from ytempire.quota import PACIFIC
from ytempire_cli.airflow import airflow


@pytest.mark.parametrize("day", [date(2025, 1, 3), date(2025, 7, 3)])  # PST and PDT
def test_a_quota_day_is_the_interval_a_scheduled_run_starts_and_a_manual_run_ends(
    day: date,
) -> None:
    start = interval_start_for(day)
    assert start == datetime(day.year, day.month, day.day, 2, tzinfo=PACIFIC)
    assert quota_day_of_interval(start) == day
    assert (logical_date_for(day) - start).days == 1


def _run(state: str, *tasks: TaskResult) -> DagRunResult:
    return DagRunResult("run", state, 100.0, list(tasks), "")


def test_the_table_has_a_row_per_task_and_a_column_per_day() -> None:
    first = _run(
        "success",
        TaskResult("collect_youtube", "success", 11.94, 1),
        TaskResult("transform.dim_videos_model_build", "success", 4.0, 1),
    )
    second = _run(
        "failed",
        TaskResult("collect_youtube", "success", 5.0, 1),
        TaskResult("transform.dim_videos_model_build", "failed", 3.0, 3),
        TaskResult("transform.relationships_" + "x" * 80 + "_test", "upstream_failed", None, 0),
    )
    lines = runs_table([(date(2025, 1, 1), first), (date(2025, 1, 2), second)]).splitlines()
    assert lines[0].split() == ["task", "2025-01-01", "2025-01-02"]
    assert lines[1].split() == ["collect_youtube", "success", "11.9s", "success", "5.0s"]
    assert lines[2].split() == ["transform.dim_videos", "success", "4.0s", "failed", "x3", "3.0s"]
    assert lines[3].split()[1:] == ["-", "upstream_failed"]
    assert lines[3].split()[0].endswith("…")
    assert lines[4].split() == ["the", "run", "success", "100s", "failed", "100s"]


def test_run_wants_days_and_a_whole_range() -> None:
    runner = CliRunner()
    assert "name the quota days" in runner.invoke(airflow, ["run"]).output
    assert "go together" in runner.invoke(airflow, ["run", "--from", "2025-01-01"]).output
    backwards = runner.invoke(airflow, ["run", "--from", "2025-01-03", "--to", "2025-01-01"])
    assert "before --from" in backwards.output
