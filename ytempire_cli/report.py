"""``ytempire report daily``: build, write and deliver one day's report (thin runner)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from ytempire_cli.options import ISO_DATE


@click.group()
def report() -> None:
    """Reports on the network and the pipeline."""


@report.command("daily")
@click.option(
    "--date",
    "day",
    type=ISO_DATE,
    default=None,
    help="Business day (Pacific) to report, up to today; default: the newest day a pipeline "
    "stage (other than `report`) ran.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the HTML page and text summary (default: $YTEMPIRE_REPORTS_DIR).",
)
@click.option("--no-freshness", is_flag=True, help="Skip `dbt source freshness` (faster).")
@click.option("--no-email", is_flag=True, help="Write the files only, even if SMTP is set.")
def daily(day: object, out_dir: Path | None, no_freshness: bool, no_email: bool) -> None:
    """Write the day's report (HTML page and text summary) and mail it if SMTP is configured.

    Reports failed stages too: it exits 0 whenever the report was written, and
    is the stage `report` of the day in analytics.pipeline_stage_runs.
    """
    from reporting.daily import default_day, write_daily_report

    the_day: date = day.date() if day is not None else default_day()  # type: ignore[attr-defined]
    outcome = write_daily_report(the_day, out_dir, email=not no_email, freshness=not no_freshness)
    click.echo(f"report summary: {outcome.files.text}")
    click.echo(outcome.email)
    click.echo(outcome.headline)
    click.echo(f"report: {outcome.files.html}")  # last: the path the DAG's log and the demo show
