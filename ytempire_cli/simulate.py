"""``ytempire simulate``: simulators of the systems the warehouse cannot reach locally."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from itertools import islice

import click

from simulation.ids import DEFAULT_CHANNELS, DEFAULT_SEED
from ytempire_cli.options import ISO_DATE

# `--owner-channels`: how long before the simulated day their owners made the reporting jobs
# (a month of daily reports; the 30 days of history a new job brings have expired by then)
OWNER_JOBS_AGE_DAYS = 33


@click.group()
def simulate() -> None:
    """Run a simulator."""


@simulate.command("youtube")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option(
    "--port",
    default=8085,
    show_default=True,
    type=int,
    envvar="YTEMPIRE_YOUTUBE_SIM_PORT",
    show_envvar=True,
)
@click.option("--channels", default=250, show_default=True, type=int)
@click.option("--seed", default=42, show_default=True, type=int)
@click.option(
    "--day",
    type=ISO_DATE,
    default=None,
    help="Simulated current day (default: the network's epoch, 2025-01-01).",
)
@click.option("--daily-quota", default=10_000, show_default=True, type=int)
@click.option(
    "--register", is_flag=True, help="Also upsert the simulated channels into ytempire.channels."
)
@click.option(
    "--owner-tokens",
    is_flag=True,
    help="Also write every channel owner's OAuth grant (and the simulator's OAuth client) into "
    "the token store, for the Reporting and Analytics APIs.",
)
@click.option(
    "--owner-channels",
    type=click.IntRange(min=0),
    default=None,
    help="With --owner-tokens: only the first N channels' owners granted access, a month ago: "
    f"their reporting jobs were made {OWNER_JOBS_AGE_DAYS} days before the simulated day, so "
    "the first landing finds their month of daily reports (default: every channel, jobs made "
    "by the first landing, reports 48 h later).",
)
def youtube(
    host: str,
    port: int,
    channels: int,
    seed: int,
    day: object,
    daily_quota: int,
    register: bool,
    owner_tokens: bool,
    owner_channels: int | None,
) -> None:
    """Serve the simulated YouTube (Data, Reporting, Analytics APIs, OAuth) until interrupted."""
    from simulation.network import Network
    from simulation.youtube import YouTubeSimulator

    if owner_channels is not None and not owner_tokens:
        raise click.UsageError("--owner-channels needs --owner-tokens")
    network = Network(seed=seed, channels=channels)
    if register:
        from simulation.seed import seed_channels

        click.echo(f"registered {seed_channels(network)} channels in ytempire.channels")
    granted = [c.channel_id for c in network.channels][:owner_channels]
    if owner_tokens:
        written = _write_owner_tokens(network, set(granted))
        click.echo(f"wrote {written} channels' grants into the token store")
    start: date | None = day.date() if day is not None else None  # type: ignore[attr-defined]
    sim = YouTubeSimulator(network, day=start, daily_quota=daily_quota)
    if owner_channels is not None:
        made = sim.owner.backdate_jobs(granted, sim.now - timedelta(days=OWNER_JOBS_AGE_DAYS))
        click.echo(
            f"{owner_channels} channels' owners made {made} reporting jobs "
            f"{OWNER_JOBS_AGE_DAYS} days ago"
        )
    url = sim.start(host, port)
    click.echo(f"YouTube API simulator on {url} ({channels} channels, seed {seed}, day {sim.day})")
    click.echo(f'set the day with: curl -X POST -d \'{{"day": "2025-01-02"}}\' {url}_sim/day')
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.suppress(KeyboardInterrupt):
        stop.wait()
    sim.stop()
    click.echo("simulator stopped")


def _write_owner_tokens(network: object, channels: set[str]) -> int:
    """The grants of ``channels``' simulated owners and the simulator's OAuth client, into the
    token store."""
    from ingestion.youtube_owner.tokens import (
        ANALYTICS_SCOPE,
        MONETARY_SCOPE,
        ChannelToken,
        OAuthClient,
        TokenStore,
    )
    from simulation.owner_apis import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, owner_grants
    from ytempire.settings import get_settings

    store = TokenStore(get_settings().youtube_token_store_path)
    store.set_client(OAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
    grants = [g for g in owner_grants(network) if g[0] in channels]
    store.put(
        [
            ChannelToken(c, token, (ANALYTICS_SCOPE, MONETARY_SCOPE) if m else (ANALYTICS_SCOPE,))
            for c, token, m in grants
        ]
    )
    return len(grants)


@simulate.command("events")
@click.option(
    "--from",
    "first_day",
    type=ISO_DATE,
    default=None,
    help="First day of uploads to generate (default: the oldest of the videos the YouTube "
    "collector tracks on the network's first day, so every tracked video has its events).",
)
@click.option(
    "--to",
    "last_day",
    type=ISO_DATE,
    default=None,
    help="Last day of uploads to generate (default: the network's epoch, 2025-01-01).",
)
@click.option("--count", type=int, default=None, help="Stop after this many events.")
@click.option("--rate", type=float, default=None, help="Events per second (default: no limit).")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--channels", type=int, default=DEFAULT_CHANNELS, show_default=True)
@click.option(
    "--tracked-videos",
    type=int,
    default=10,
    show_default=True,
    help="Videos per channel the YouTube collector tracks (YTEMPIRE_YOUTUBE_REFRESH_LAST_N); "
    "sets the default --from.",
)
def events(
    first_day: datetime | None,
    last_day: datetime | None,
    count: int | None,
    rate: float | None,
    seed: int,
    channels: int,
    tracked_videos: int,
) -> None:
    """Publish the platform's events for the simulated network's uploads of --from .. --to.

    The videos, channels and counters are the ones `ytempire simulate youtube`
    serves for the same --seed and --channels. The channels are registered in
    ytempire.channels first.
    """
    from simulation.network import Network
    from simulation.seed import seed_channels
    from simulation.traffic import network_events, tracked_since
    from ytempire.clients import kafka_producer
    from ytempire.progress import progress_bar
    from ytempire.topics import CHANNEL_EVENTS, USER_EVENTS, VIDEO_EVENTS

    network = Network(seed=seed, channels=channels)
    last = last_day.date() if last_day else network.epoch
    first = first_day.date() if first_day else tracked_since(network, network.epoch, tracked_videos)
    if first > last:
        raise click.BadParameter(f"--from {first} is after --to {last}", param_hint="--from")
    stream = list(islice(network_events(network, first, last), count))
    seeded = seed_channels(network)
    topics = {"video": VIDEO_EVENTS.name, "channel": CHANNEL_EVENTS.name, "user": USER_EVENTS.name}
    producer = kafka_producer(linger_ms=20)
    started = time.monotonic()
    sent: Counter[str] = Counter()
    with progress_bar("sending events", len(stream), "events") as advance:
        for kind, key, value, _ in stream:
            producer.send(topics[kind], key=key.encode(), value=value)
            sent[kind] += 1
            advance()
            if rate and (ahead := sum(sent.values()) / rate - (time.monotonic() - started)) > 0.05:
                time.sleep(ahead)
        producer.flush()
    producer.close()
    elapsed = time.monotonic() - started
    total = sum(sent.values())
    click.echo(
        f"simulate events {first}..{last}: {total:,} events in {elapsed:.1f}s "
        f"({total / elapsed:,.0f}/s): {sent['video']:,} video, {sent['channel']:,} channel, "
        f"{sent['user']:,} user; {seeded} channels registered or updated"
    )


@simulate.command("next-day")
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True)
@click.option("--channels", type=int, default=DEFAULT_CHANNELS, show_default=True)
@click.option(
    "--tracked-videos",
    type=int,
    default=10,
    show_default=True,
    help="As for `simulate events`: sets the day the platform stream began.",
)
def next_day(seed: int, channels: int, tracked_videos: int) -> None:
    """Make the next simulated quota day for both sources, consistent with the days before it.

    Steps the YouTube simulator (YTEMPIRE_YOUTUBE_API_URL) from its day D to
    D+1 and publishes the platform's events of D+1 as the stream that `simulate
    events` began sends them (updates of the videos published in the days
    before included). Prints the new day; then run it:
    `ytempire airflow run --date D+1`. (`simulate events --from D+1 --to D+1`
    would start a new stream instead: no updates of earlier videos, and the raw
    checks fail the run.)
    """
    import json
    import urllib.request
    from datetime import timedelta

    from simulation.network import Network
    from simulation.traffic import stream_day_events, tracked_since
    from ytempire.clients import kafka_producer
    from ytempire.redaction import redact_url
    from ytempire.settings import get_settings
    from ytempire.topics import CHANNEL_EVENTS, USER_EVENTS, VIDEO_EVENTS

    api = get_settings().youtube_api_url.rstrip("/")
    shown = redact_url(api)  # the URL may carry a key
    try:
        with urllib.request.urlopen(f"{api}/_sim/state", timeout=30) as answer:  # noqa: S310
            current = date.fromisoformat(json.loads(answer.read())["day"])
    except OSError as error:
        raise click.ClickException(
            f"no YouTube simulator at {shown} ({error}). Next: start it "
            "(`ytempire simulate youtube --register`) or set YTEMPIRE_YOUTUBE_API_URL."
        ) from None
    day = current + timedelta(days=1)
    network = Network(seed=seed, channels=channels)
    first = tracked_since(network, network.epoch, tracked_videos)
    topics = {"video": VIDEO_EVENTS.name, "channel": CHANNEL_EVENTS.name, "user": USER_EVENTS.name}
    producer = kafka_producer(linger_ms=20)
    sent: Counter[str] = Counter()
    for kind, key, value, _ in stream_day_events(network, day, first):
        producer.send(topics[kind], key=key.encode(), value=value)
        sent[kind] += 1
    producer.flush()
    producer.close()
    request = urllib.request.Request(  # noqa: S310 (the local simulator)
        f"{api}/_sim/day", data=json.dumps({"day": day.isoformat()}).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass
    click.echo(
        f"simulated quota day {day}: YouTube simulator at {shown} moved from {current}; "
        f"{sum(sent.values()):,} platform events ({sent['video']:,} video, "
        f"{sent['user']:,} user) of the stream begun {first}"
    )
    click.echo(f"next: uv run ytempire airflow run --date {day}")
