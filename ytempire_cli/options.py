"""Options shared by the commands that are stages of the daily pipeline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import click

F = Callable[..., Any]


class IsoDate(click.ParamType):
    """A day option: ISO 8601 ``YYYY-MM-DD`` only (``ytempire.dates``), as a ``datetime``.

    ``2025-1-3`` is refused with an example; the value is midnight of the day,
    like ``click.DateTime`` gave, so commands read ``.date()`` as before.
    """

    name = "YYYY-MM-DD"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day)
        from ytempire.dates import parse_iso_date

        try:
            day = parse_iso_date(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)
        return datetime(day.year, day.month, day.day)


ISO_DATE = IsoDate()


def run_date_option(func: F) -> F:
    """``--run-date D``: the business day the stage's run is recorded under."""
    return click.option(
        "--run-date",
        type=ISO_DATE,
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
