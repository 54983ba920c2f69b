"""``ytempire simulate``: simulators of the systems the warehouse cannot reach locally."""

from __future__ import annotations

import contextlib
import signal
import threading
from datetime import date

import click


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
