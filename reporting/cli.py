"""``ytempire report daily``: build, write and deliver one day's report (thin runner)."""

from __future__ import annotations

import logging
from contextlib import ExitStack
from datetime import date
from pathlib import Path

import click

log = logging.getLogger("ytempire.report")


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
    from reporting.collect import gather
    from reporting.delivery import recipients_of, send_email, write_files
    from reporting.render import headline, html, text
    from ytempire.errors import ServiceUnavailable
    from ytempire.settings import get_settings
    from ytempire.stage_runs import record_stage

    settings = get_settings()
    the_day: date = day.date() if day is not None else default_day()  # type: ignore[attr-defined]
    folder = out_dir or Path(settings.local_dir) / "reports"
    with ExitStack() as stack:
        try:
            run = stack.enter_context(record_stage("report", the_day, settings=settings))
        except ServiceUnavailable as exc:
            log.warning("not recording the report stage: %s", exc)
            run = None
        report = gather(the_day, settings=settings, freshness=not no_freshness)
        files = write_files(folder, the_day, html(report), text(report))
        click.echo(f"report summary: {files.text}")
        outcome = (
            "email: skipped (--no-email)"
            if no_email
            else send_email(
                the_day, headline(report), files, recipients_of(settings.report_email_to)
            )
        )
        click.echo(outcome)
        if run is not None:
            run.details.update(
                html=str(files.html),
                failed_stages=len(report.failed_stages),
                anomalies=len(report.anomalies),
                email=outcome,
            )
    click.echo(headline(report))
    click.echo(f"report: {files.html}")  # last: the path the DAG's log and the demo show


def default_day() -> date:
    """The newest business day with a recorded stage run, else today's Pacific quota day."""
    from ytempire.clients import pg_connect
    from ytempire.quota import quota_day

    with pg_connect("transformer") as conn:
        row = conn.execute("select max(run_date) from analytics.pipeline_stage_runs").fetchone()
    return row[0] if row and row[0] else quota_day()
