"""Quota units per channel: our collector vs the reference's search-based design.

Both run against the same simulator (250 channels, 10,000 units a day, one
Pacific day each) and the simulator's own ledger is the judge. The reference
design (data-engineering-guide.md) calls, per channel, ``channels.list``,
``search.list`` (100 units) for the 10 latest uploads and ``videos.list``.
Ours batches 50 channels / 50 videos per call and reads the uploads playlist.

The reference is written as a working implementation of that design would be,
to the real API's rules: a channel ``channels.list`` no longer returns
(terminated) is skipped, and ``videos.list`` is not called with an empty
``id`` for a channel whose search found no upload (the API answers 400).

    uv run python bench/youtube_quota.py [--channels 250] [--days 3]
    uv run python bench/youtube_quota.py --smoke   # 120 channels, 2 days

The smoke network still holds every real-world case (a network of 100 channels or
more does) and is large enough for the reference to run out of quota.
"""

from __future__ import annotations

import argparse
import uuid
from datetime import date, timedelta

from benchlib import Figures, add_smoke_flag
from googleapiclient.errors import HttpError

from ingestion.youtube.api import YouTubeApi, build_client
from ingestion.youtube.collector import Collector, Known
from simulation.network import Network
from simulation.youtube import YouTubeSimulator
from ytempire.clients import redis_client
from ytempire.quota import QuotaBudget

DAY = date(2025, 1, 1)
DAILY_QUOTA = 10_000
API_KEY = "bench"  # the one key the simulator accepts; every call carries it


def ours(sim: YouTubeSimulator, channels: list[str], days: int) -> list[tuple[int, int]]:
    """(units, channels collected) per day; the collector's state carries over."""
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    client = redis_client(check=True)
    state: dict = {}
    known = Known()
    out = []
    for offset in range(days):
        day = DAY + timedelta(days=offset)
        sim.set_day(day)
        before = sim.ledger.used()
        budget = QuotaBudget(client, DAILY_QUOTA, prefix)
        known.snapshotted_channels, known.snapshotted_videos = set(), set()
        api = YouTubeApi(build_client(sim.url, API_KEY), budget, day)
        result = Collector(api, day, known, state).run(channels)
        out.append((sim.ledger.used() - before, len(result.tables["channel_snapshots"])))
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    return out


def reference(sim: YouTubeSimulator, channels: list[str]) -> tuple[int, int, int]:
    """(units, channels collected, channels gone) of the search-based design, to quotaExceeded."""
    sim.set_day(DAY + timedelta(days=10))
    youtube = build_client(sim.url, API_KEY)
    before, done, gone = sim.ledger.used(), 0, 0
    for channel_id in channels:
        try:
            channel = (
                youtube.channels()
                .list(part="statistics,snippet,contentDetails", id=channel_id)
                .execute()
            )
            if not channel.get("items"):  # terminated: nothing to collect
                gone += 1
                continue
            found = (
                youtube.search()
                .list(
                    part="id,snippet",
                    channelId=channel_id,
                    maxResults=10,
                    order="date",
                    type="video",
                )
                .execute()
            )
            ids = ",".join(i["id"]["videoId"] for i in found.get("items", []))
            if ids:  # a channel with no upload has no statistics to ask for
                youtube.videos().list(part="statistics,contentDetails", id=ids).execute()
        except HttpError as exc:
            if exc.status_code == 403:
                break
            raise
        done += 1
    return sim.ledger.used() - before, done, gone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=250)
    parser.add_argument("--days", type=int, default=3)
    add_smoke_flag(parser)
    args = parser.parse_args()
    if args.smoke:
        args.channels, args.days = 120, 2
    figures = Figures("youtube_quota", smoke=args.smoke)
    network = Network(channels=args.channels)
    channels = [c.channel_id for c in network.channels]
    with YouTubeSimulator(network, day=DAY, api_key=API_KEY, daily_quota=DAILY_QUOTA) as sim:
        mine = ours(sim, channels, args.days)
        ref_units, ref_done, ref_gone = reference(sim, channels)
    print(f"{args.channels} channels, 10 tracked videos each, {DAILY_QUOTA} units/day")
    print(f"{'design':<34} {'units':>6} {'channels':>9} {'units/channel':>14}")
    for offset, (units, done) in enumerate(mine):
        label = f"ours, day {offset + 1}" + (" (first run)" if offset == 0 else "")
        print(f"{label:<34} {units:>6} {done:>9} {units / max(done, 1):>14.2f}")
    print(
        f"{'reference (search.list per channel)':<34} {ref_units:>6} {ref_done:>9} "
        f"{ref_units / max(ref_done, 1):>14.2f}"
    )
    print(
        f"reference covers {ref_done} of {args.channels} channels before quotaExceeded "
        f"({ref_gone} terminated channels skipped on the way)"
    )
    steady_units, steady_done = mine[-1]
    figures.add(
        f"units/channel, ours (day {len(mine)})",
        steady_units / max(steady_done, 1),
        "units",
        "reference (search.list per channel)",
        ref_units / max(ref_done, 1),
        digits=2,
    )
    figures.add(
        f"channels collected, ours (day {len(mine)})",
        steady_done,
        "channels",
        "reference, on a whole quota day",
        ref_done,
    )
    figures.print()


if __name__ == "__main__":
    main()
