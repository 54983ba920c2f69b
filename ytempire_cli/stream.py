"""`ytempire stream ...`: run the channel-windows job and read its real-time stats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click

from streaming.channel_windows import windows_command
from ytempire import topics


@click.group()
def stream() -> None:
    """Spark Structured Streaming: sliding-window channel stats."""


stream.add_command(windows_command)


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
    from streaming.sample_events import generate, produce

    start = datetime.now(UTC) - timedelta(minutes=minutes)
    events = generate(
        count, start=start, span=timedelta(minutes=minutes), channels=channels, seed=seed
    )
    sent = produce(events, video_topic=video_topic, channel_topic=channel_topic)
    click.echo(f"produced {sent} events over the last {minutes} minutes for {channels} channels")
