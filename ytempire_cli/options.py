"""Options shared by the commands that are stages of the daily pipeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import click

F = Callable[..., Any]


def run_date_option(func: F) -> F:
    """``--run-date D``: the business day the stage's run is recorded under."""
    return click.option(
        "--run-date",
        type=click.DateTime(formats=["%Y-%m-%d"]),
        default=None,
        help="Business day (Pacific) this run is recorded under in "
        "analytics.pipeline_stage_runs; default: today.",
    )(func)


def stage_day(run_date: datetime | date | None) -> date:
    """The option's day, or today's Pacific quota day (the YouTube collector's day)."""
    from ytempire.quota import quota_day

    if run_date is None:
        return quota_day()
    return run_date.date() if isinstance(run_date, datetime) else run_date
