"""``ytempire process``: real-time consumers."""

from __future__ import annotations

import logging

import click


@click.group()
def process() -> None:
    """Run the real-time consumers."""


@process.command("events")
@click.option("--group-id", default="ytempire-event-processor", show_default=True)
@click.option(
    "--idle-timeout",
    type=float,
    default=None,
    help="Stop after this many seconds without messages (default: run until SIGTERM/Ctrl-C).",
)
@click.option("--redis-prefix", default="", help="Prefix of the Redis keys written.")
def events(group_id: str, idle_timeout: float | None, redis_prefix: str) -> None:
    """Process video, channel and user events: operational tables, Redis dashboards, alerts."""
    from streaming.processor import EventProcessor

    logging.basicConfig(level=logging.WARNING)
    processor = EventProcessor(group_id=group_id, redis_prefix=redis_prefix)
    try:
        counts = processor.run(
            idle_timeout_s=idle_timeout, progress=lambda msg: click.echo(f"  {msg}")
        )
    except KeyboardInterrupt:
        counts = processor.counts
    finally:
        processor.close()
    click.echo(f"processed: {dict(sorted(counts.items()))}")
