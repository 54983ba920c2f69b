"""``ytempire ingest``: land a source in its raw schema (one subcommand per source)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import click

from ytempire_cli.options import ISO_DATE, run_date_option, stage_day


@click.group()
def ingest() -> None:
    """Land raw data with dlt."""


@ingest.command("youtube")
@click.option(
    "--date",
    "day",
    type=ISO_DATE,
    default=None,
    help="Quota day (Pacific) to collect; default: today.",
)
@click.option(
    "--pipelines-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="dlt working folder (default: $YTEMPIRE_LOCAL_DIR/dlt).",
)
def youtube(day: object, pipelines_dir: Path | None) -> None:
    """Collect the channels' YouTube statistics for one day into raw_youtube."""
    from ingestion.youtube.landing import run_day
    from ytempire.quota import quota_day
    from ytempire.stage_runs import as_details, record_stage

    collection_date: date = day.date() if day is not None else quota_day()  # type: ignore[attr-defined]
    with record_stage("collection", collection_date) as run:
        report = run_day(collection_date, pipelines_dir=pipelines_dir)
        run.details.update(as_details(report))
    click.echo(
        f"youtube {report.collection_date}: {report.status}; {report.units_used} quota units, "
        f"{report.channels_collected} channel and {report.videos_collected} video snapshots"
        + (
            f"; {report.items_rejected} malformed item(s) set aside in raw_youtube.rejected_items"
            if report.items_rejected
            else ""
        )
    )
    for channel_id, issue in sorted(report.channel_issues.items()):
        click.echo(f"  {issue.status:<14} {channel_id}: {issue.reason}", err=True)
    if report.error:
        click.echo(f"warning: {report.error}", err=True)
        click.echo("the next run resumes where this one stopped", err=True)


_CHANNEL = click.option(
    "--channel",
    "channels",
    multiple=True,
    help="Channel id to land (repeatable; default: YTEMPIRE_YOUTUBE_CHANNELS, else the active "
    "channels of ytempire.channels).",
)
_PIPELINES_DIR = click.option(
    "--pipelines-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="dlt working folder (default: $YTEMPIRE_LOCAL_DIR/dlt).",
)


def _echo_outcomes(outcomes: Mapping[str, Sequence[Any]]) -> None:
    """Each channel's outcomes (``ChannelOutcome``: status, reason), one line each, on stderr."""
    for channel_id, items in sorted(outcomes.items()):
        for outcome in items:
            click.echo(f"  {outcome.status:<22} {channel_id}: {outcome.reason}", err=True)


@ingest.command("youtube-reporting")
@_CHANNEL
@_PIPELINES_DIR
def youtube_reporting(channels: tuple[str, ...], pipelines_dir: Path | None) -> None:
    """Land the channels' new YouTube Reporting API reports into raw_youtube_reporting."""
    from ingestion.youtube_reporting.landing import land_reports
    from ytempire.progress import progress_bar

    with progress_bar("landing reports", None, "channels") as advance:
        result = land_reports(
            list(channels) or None,
            pipelines_dir=pipelines_dir,
            progress=lambda done, total: advance(done=done, total=total),
        )
    click.echo(
        f"youtube-reporting: {result.status}; {result.reports_landed} reports landed "
        f"({result.rows:,} rows), {result.reports_no_data} days without data, "
        f"{result.api_calls} API calls for {result.channels} channels in {result.seconds:.1f}s "
        f"({result.reports_per_minute:,.0f} reports/min)"
    )
    _echo_outcomes(result.outcomes)
    if result.error:
        click.echo(f"warning: {result.error}", err=True)
        click.echo("the next run resumes where this one stopped", err=True)


@ingest.command("youtube-analytics")
@_CHANNEL
@_PIPELINES_DIR
def youtube_analytics(channels: tuple[str, ...], pipelines_dir: Path | None) -> None:
    """Land the channels' revenue per day and per video-day into raw_youtube_analytics."""
    from ingestion.youtube_analytics.landing import land_revenue
    from ytempire.progress import progress_bar

    with progress_bar("landing revenue", None, "channels") as advance:
        result = land_revenue(
            list(channels) or None,
            pipelines_dir=pipelines_dir,
            progress=lambda done, total: advance(done=done, total=total),
        )
    click.echo(
        f"youtube-analytics: {result.status}; {result.channel_days} channel-days and "
        f"{result.video_days:,} video-days, {result.api_calls} API calls for "
        f"{result.channels} channels in {result.seconds:.1f}s"
    )
    _echo_outcomes(result.outcomes)
    if result.error:
        click.echo(f"warning: {result.error}", err=True)
        click.echo("the next run resumes where this one stopped", err=True)


@ingest.command("events")
@click.option(
    "--topic",
    "topics",
    multiple=True,
    help="Topic to land (repeatable; default: video-events, channel-events, user-events).",
)
@click.option("--dead-letter-topic", default=None, help="Where invalid messages go.")
@click.option(
    "--pipelines-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="dlt working folder (default: $YTEMPIRE_LOCAL_DIR/dlt).",
)
@click.option(
    "--pipeline-name",
    default=None,
    help="dlt pipeline name (default: kafka_events); one pipelines dir per name.",
)
@click.option("--chunk-size", default=None, type=int, help="Messages per dlt load.")
@click.option("--page-size", default=None, type=int, help="Messages per parsed page.")
@click.option("--readers", default=None, type=int, help="Kafka reader processes (default: 2).")
@click.option(
    "--load-workers", default=None, type=int, help="COPY jobs of a load at once (default: 2)."
)
@run_date_option
def events(
    topics: tuple[str, ...],
    dead_letter_topic: str | None,
    pipelines_dir: Path | None,
    pipeline_name: str | None,
    chunk_size: int | None,
    page_size: int | None,
    readers: int | None,
    load_workers: int | None,
    run_date: date | None,
) -> None:
    """Land Kafka events in raw_events up to the high-water marks of now, then stop."""
    from ingestion.kafka_events.landing import DEFAULT_TOPICS, dead_letters_since, land_events
    from ytempire.progress import progress_bar
    from ytempire.stage_runs import as_details, record_stage

    options: dict[str, object] = {"pipelines_dir": pipelines_dir}
    if pipeline_name:
        options["pipeline_name"] = pipeline_name
    if dead_letter_topic:
        options["dead_letter_topic"] = dead_letter_topic
    if chunk_size:
        options["chunk_size"] = chunk_size
    if page_size:
        options["page_size"] = page_size
    if readers:
        options["readers"] = readers
    if load_workers:
        options["load_workers"] = load_workers
    with (
        record_stage("events_landing", stage_day(run_date)) as run,
        progress_bar("landing events", None, "messages") as advance,
    ):
        started = datetime.now(UTC)

        def on_landed(landed: int, total: int) -> None:
            advance(done=landed, total=total)

        summary = land_events(
            list(topics) or list(DEFAULT_TOPICS),
            on_landed=on_landed,
            **options,  # type: ignore[arg-type]
        )
        run.details.update(as_details(summary), dead_lettered=dead_letters_since(started))
    click.echo(
        f"ingest events: landed {summary.messages:,} messages in {summary.loads} loads, "
        f"{summary.seconds:.1f}s ({summary.rate:,.0f} messages/s)"
    )
