"""``ytempire report daily``: build, write and deliver one day's report (thin runner)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click


@click.group()
def report() -> None:
    """Reports on the network and the pipeline."""


@report.command("daily")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Business day (Pacific) to report; default: the newest day with a recorded stage run.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the HTML page and text summary (default: $YTEMPIRE_LOCAL_DIR/reports).",
)
@click.option("--no-freshness", is_flag=True, help="Skip `dbt source freshness` (faster).")
@click.option("--no-email", is_flag=True, help="Write the files only, even if SMTP is set.")
def daily(day: object, out_dir: Path | None, no_freshness: bool, no_email: bool) -> None:
    """Write the day's report (HTML page and text summary) and mail it if SMTP is configured.

    Reports failed stages too: it exits 0 whenever the report was written, and
    is the stage `report` of the day in analytics.pipeline_stage_runs.
    """
    from reporting.daily import write_daily_report

    the_day: date = day.date() if day is not None else default_day()  # type: ignore[attr-defined]
    outcome = write_daily_report(the_day, out_dir, email=not no_email, freshness=not no_freshness)
    click.echo(f"report summary: {outcome.files.text}")
    click.echo(outcome.email)
    click.echo(outcome.headline)
    click.echo(f"report: {outcome.files.html}")  # last: the path the DAG's log and the demo show


def default_day() -> date:
    """The newest business day with a recorded stage run, else today's Pacific quota day."""
    from ytempire.clients import pg_connect
    from ytempire.quota import quota_day

    with pg_connect("transformer") as conn:
        row = conn.execute("select max(run_date) from analytics.pipeline_stage_runs").fetchone()
    return row[0] if row and row[0] else quota_day()
