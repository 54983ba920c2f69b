"""`ytempire stream ...`: run the channel-windows job and read its real-time stats."""

from __future__ import annotations

import signal
import threading
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from types import FrameType
from typing import Any

import click

from streaming.channel_windows import run
from streaming.config import StreamConfig
from ytempire import topics
from ytempire.stage_runs import record_stage
from ytempire_cli.options import run_date_option, stage_day


@click.group()
def stream() -> None:
    """Spark Structured Streaming: sliding-window channel stats."""


@stream.command("latest")
@click.option("--channel", "channel_id", help="One channel's newest windows (default: all).")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1))
def latest_command(channel_id: str | None, limit: int) -> None:
    """Print the newest windows of one channel, or each channel's newest window."""
    from streaming.queries import latest_windows

    rows = latest_windows(channel_id, limit)
    if not rows:
        click.echo("no windows yet" + (f" for channel {channel_id}" if channel_id else ""))
        return
    click.echo(
        f"{'window (UTC)':<23} {'channel':<24} {'events':>7} {'videos':>6} "
        f"{'avg views':>11} {'revenue $':>12} {'last event':>10}"
    )
    for r in rows:
        avg = f"{r['avg_views']:.1f}" if r["avg_views"] is not None else "-"
        click.echo(
            f"{r['window_start']:%m-%d %H:%M}-{r['window_end']:%H:%M}      "
            f"{r['channel_id']:<24} {r['event_count']:>7} {r['video_count']:>6} "
            f"{avg:>11} {r['revenue_usd']:>12.2f} {r['last_event_at']:%H:%M:%S}"
        )


@stream.command("sample-events")
@click.option("--events", "count", default=5000, show_default=True, type=click.IntRange(min=1))
@click.option("--minutes", default=10, show_default=True, type=click.IntRange(min=1))
@click.option("--channels", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=7, show_default=True)
@click.option("--video-topic", default=topics.VIDEO_EVENTS.name, show_default=True)
@click.option("--channel-topic", default=topics.CHANNEL_EVENTS.name, show_default=True)
def sample_events_command(
    count: int, minutes: int, channels: int, seed: int, video_topic: str, channel_topic: str
) -> None:
    """Produce a burst of envelope events covering the last MINUTES (demo traffic)."""
    from simulation.bursts import generate, produce

    start = datetime.now(UTC) - timedelta(minutes=minutes)
    events = generate(
        count, start=start, span=timedelta(minutes=minutes), channels=channels, seed=seed
    )
    sent = produce(events, video_topic=video_topic, channel_topic=channel_topic)
    click.echo(f"produced {sent} events over the last {minutes} minutes for {channels} channels")


def _stop_on_sigterm() -> threading.Event:
    """An event that SIGTERM sets: :func:`run` then stops its queries and ends."""
    stop = threading.Event()

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    return stop


def window_options(func: Any) -> Any:
    """The options of `ytempire stream windows` (StreamConfig overrides)."""
    options = [
        click.option(
            "--available-now", is_flag=True, help="Process what is in the topics, then stop."
        ),
        click.option("--window", help="Window length (default 5 minutes; YTEMPIRE_STREAM_WINDOW)."),
        click.option("--slide", help="Slide (default 1 minute; YTEMPIRE_STREAM_SLIDE)."),
        click.option("--watermark", help="Allowed lateness (default 1 minute)."),
        click.option("--trigger", help="Micro-batch interval (default 10 seconds)."),
        click.option(
            "--topics", help="Comma-separated topics (default video-events,channel-events)."
        ),
        click.option(
            "--checkpoint-root", help="Checkpoint folder (default LOCAL_DIR/checkpoints)."
        ),
        click.option("--starting-offsets", type=click.Choice(["earliest", "latest"])),
        click.option("--max-offsets-per-trigger", type=int, help="Cap on events per batch."),
        click.option("--query-prefix", help="Prefix of query names and checkpoint folders."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@stream.command("windows")
@window_options
@run_date_option
def windows_command(available_now: bool, run_date: date | None, **overrides: Any) -> None:
    """Sliding-window channel stats from Kafka into streaming.channel_window_stats.

    A bounded run (--available-now) is the day's `streaming_windows` stage.
    """
    try:
        config = StreamConfig.from_env(**overrides)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    stop = _stop_on_sigterm()
    try:
        with ExitStack() as stack:  # an interrupted bounded run is recorded as failed
            stage = (
                stack.enter_context(record_stage("streaming_windows", stage_day(run_date)))
                if available_now
                else None
            )
            result = run(config, available_now=available_now, stop=stop)
            if stage is not None:
                stage.details.update(batches=result.batches, input_rows=result.input_rows)
    except KeyboardInterrupt:
        click.echo("stopped; the next run resumes from the checkpoint")
        return
    click.echo(f"{result.batches} micro-batches, {result.input_rows} events read")
