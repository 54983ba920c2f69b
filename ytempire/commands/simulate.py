"""``ytempire simulate``: traffic of the simulated channel network."""

from __future__ import annotations

import time

import click

from ytempire.simulation.ids import DEFAULT_CHANNELS, DEFAULT_SEED


@click.group()
def simulate() -> None:
    """Generate traffic for the simulated network."""


@simulate.command("events")
@click.option("--rate", type=float, default=1_000.0, show_default=True, help="Events per second.")
@click.option("--count", type=int, default=10_000, show_default=True, help="Events to send.")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--channels", type=int, default=DEFAULT_CHANNELS, show_default=True)
@click.option("--first-upload", type=int, default=0, help="Upload index to start from.")
def events(rate: float, count: int, seed: int, channels: int, first_upload: int) -> None:
    """Seed ytempire.channels, then publish video, channel and user events at --rate."""
    from ytempire.clients import kafka_producer
    from ytempire.simulation.seed import seed_channels
    from ytempire.simulation.traffic import simulated_events
    from ytempire.topics import CHANNEL_EVENTS, USER_EVENTS, VIDEO_EVENTS

    seeded = seed_channels(channels, seed)
    click.echo(f"  {seeded} new channels in ytempire.channels ({channels} simulated)")
    topics = {"video": VIDEO_EVENTS.name, "channel": CHANNEL_EVENTS.name, "user": USER_EVENTS.name}
    producer = kafka_producer(compression_type="gzip", linger_ms=20)
    started = time.monotonic()
    sent = 0
    stream = simulated_events(count, seed=seed, channels=channels, first_upload=first_upload)
    for kind, key, value, _ in stream:
        producer.send(topics[kind], key=key.encode(), value=value)
        sent += 1
        ahead = sent / rate - (time.monotonic() - started)
        if ahead > 0.05:
            time.sleep(ahead)
        if sent % 10_000 == 0:
            click.echo(f"  {sent:,}/{count:,} events sent")
    producer.flush()
    producer.close()
    elapsed = time.monotonic() - started
    click.echo(f"sent {sent:,} events in {elapsed:.1f}s ({sent / elapsed:,.0f}/s)")
