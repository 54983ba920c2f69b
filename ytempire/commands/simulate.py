"""``ytempire simulate``: simulators of the systems the warehouse cannot reach locally."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from datetime import date

import click

from ytempire.simulation.ids import DEFAULT_CHANNELS, DEFAULT_SEED


@click.group()
def simulate() -> None:
    """Run a simulator."""


@simulate.command("youtube")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8085, show_default=True, type=int)
@click.option("--channels", default=250, show_default=True, type=int)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option(
    "--day",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Simulated current day (default: the network's epoch, 2025-01-01).",
)
@click.option("--daily-quota", default=10_000, show_default=True, type=int)
@click.option(
    "--register", is_flag=True, help="Also upsert the simulated channels into ytempire.channels."
)
def youtube(
    host: str, port: int, channels: int, seed: int, day: object, daily_quota: int, register: bool
) -> None:
    """Serve the YouTube Data API v3 simulator until interrupted."""
    from ytempire.simulation.network import Network
    from ytempire.simulation.youtube import YouTubeSimulator

    network = Network(seed=seed, channels=channels)
    if register:
        click.echo(f"registered {register_channels(network)} channels in ytempire.channels")
    start: date | None = day.date() if day is not None else None  # type: ignore[attr-defined]
    sim = YouTubeSimulator(network, day=start, daily_quota=daily_quota)
    url = sim.start(host, port)
    click.echo(f"YouTube API simulator on {url} ({channels} channels, seed {seed}, day {sim.day})")
    click.echo(f'set the day with: curl -X POST -d \'{{"day": "2025-01-02"}}\' {url}_sim/day')
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    sim.stop()
    click.echo("simulator stopped")


def register_channels(network: object) -> int:
    """Upsert the network's channels (id, title, niche) into ytempire.channels."""
    from ytempire.clients import pg_cursor

    rows = [(c.channel_id, c.title, c.niche) for c in network.channels]  # type: ignore[attr-defined]
    with pg_cursor("loader") as cur:
        cur.executemany(
            "insert into ytempire.channels (channel_id, title, niche) values (%s, %s, %s) "
            "on conflict (channel_id) do nothing",
            rows,
        )
    return len(rows)


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
