"""``ytempire ingest``: land a source in its raw schema (one subcommand per source)."""

from __future__ import annotations

import logging
from datetime import date

import click


@click.group()
def ingest() -> None:
    """Land raw data with dlt."""


@ingest.command("youtube")
@click.option(
    "--date",
    "day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Quota day (Pacific) to collect; default: today.",
)
def youtube(day: object) -> None:
    """Collect the channels' YouTube statistics for one day into raw_youtube."""
    from ingestion.youtube_pipeline import run_day

    logging.basicConfig(level=logging.INFO, format="[ytempire %(asctime)s] %(message)s")
    logging.getLogger("dlt").setLevel(logging.ERROR)
    collection_date: date | None = day.date() if day is not None else None  # type: ignore[attr-defined]
    report = run_day(collection_date)
    click.echo(
        f"youtube {report.collection_date}: {report.status}; {report.units_used} quota units, "
        f"{report.channels_collected} channel and {report.videos_collected} video snapshots"
    )
    if report.error:
        click.echo(f"warning: stopped early: {report.error}", err=True)
        click.echo("the next run resumes where this one stopped", err=True)
