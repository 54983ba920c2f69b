"""Benchmark: the owner's APIs' landers, reports landed per minute and API calls per channel-day.

A simulated network of ``--channels`` channels whose owners made their
reporting jobs three days ago, served on loopback with the owners' grants in
a token store of the run's own, landed into a database of its own
(``<base>_bench_owner_test``: ``_test`` so it may be dropped, at the end). It prints:

- the Reporting API backfill (the 30 days of history and the days since,
  every family): reports and rows landed per minute, beside the same
  reports downloaded and parsed with nothing landed (the ceiling the
  simulator, HTTP and parsing leave the landing), and API calls per
  channel-day;
- the next day's run (steady state): its calls per channel-day;
- the Analytics API: the first run (30 days) and the next day's (re-fetching
  the unsettled days), calls per channel-day each.

``--smoke`` runs two channels and the ``channel_basic`` family only;
``tests/test_bench_smoke.py`` runs it so the script cannot rot. Run::

    uv run python bench/youtube_owner.py [--channels 20] [--smoke]
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from benchlib import Figures, add_smoke_flag

from ingestion.youtube_analytics.landing import land_revenue
from ingestion.youtube_owner.calls import OwnerApi, RetryPolicy, build_client
from ingestion.youtube_owner.tokens import (
    ANALYTICS_SCOPE,
    MONETARY_SCOPE,
    ChannelToken,
    OAuthClient,
    TokenStore,
    credentials,
)
from ingestion.youtube_reporting import FAMILIES
from ingestion.youtube_reporting.collector import Listed, read_report
from ingestion.youtube_reporting.landing import land_reports, reporting_budget
from simulation.network import Network
from simulation.owner_apis import (
    CATALOGUE,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    owner_grants,
)
from simulation.youtube import YouTubeSimulator
from ytempire.db import drop_database, init_database
from ytempire.quota import quota_day
from ytempire.settings import get_settings

DAY = date(2025, 3, 1)


def _current_types(families: tuple[str, ...]) -> list[str]:
    return [t.id for t in CATALOGUE if t.family in families and t.deprecate_time is None]


def _ceiling(
    sim: YouTubeSimulator, settings, tokens, families: tuple[str, ...]
) -> tuple[int, float]:
    """Download and parse every report of every job, landing nothing: (reports, seconds)."""
    client_ = OAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)
    api = OwnerApi(reporting_budget(settings, "bench-ceiling:"), quota_day(), RetryPolicy())
    count, started = 0, time.monotonic()
    for channel_id, token in tokens.items():
        client = build_client(
            "youtubereporting", "v1", sim.url, credentials(token, client_, f"{sim.url}token")
        )
        for job in [j for j in sim.owner.jobs.values() if j.channel_id == channel_id]:
            family = job.report_type_id.rsplit("_", 1)[0]
            if family not in families:
                continue
            body = client.jobs().reports().list(jobId=job.id, pageSize=1000).execute()
            for item in body.get("reports", []):
                listed = Listed.parse(item, family, job.report_type_id)
                request = client.media().download_media(resourceName=listed.resource_name)
                read_report(api.execute("media.download", request, channel_id))
                count += 1
    return count, time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--channels", type=int, default=20)
    add_smoke_flag(parser)  # 2 channels, channel_basic only
    args = parser.parse_args()
    figures = Figures("youtube_owner", smoke=args.smoke)
    logging.basicConfig(level=logging.WARNING)
    channels = 2 if args.smoke else args.channels
    families = ("channel_basic",) if args.smoke else FAMILIES
    base = get_settings()
    # a database of its own: a bench beside a test session never shares the tests' tables
    name = base.pg_database.removesuffix("_test") + "_bench_owner_test"
    scratch = replace(base, pg_database=name)
    drop_database(name, settings=scratch)
    init_database(name, settings=scratch)
    network = Network(seed=77, channels=channels)
    sim = YouTubeSimulator(network, day=DAY)
    sim.start()
    made = datetime(DAY.year, DAY.month, DAY.day, 12, tzinfo=UTC) - timedelta(days=3)
    for channel in network.channels:
        for type_id in _current_types(families):
            sim.owner.create_job(channel.channel_id, type_id, made)
    sim.set_now(made + timedelta(days=3, hours=1))
    with tempfile.TemporaryDirectory(prefix="bench-owner-") as folder:
        store = TokenStore(Path(folder) / "tokens.json")
        store.set_client(OAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        grants = owner_grants(network)
        store.put(
            [
                ChannelToken(c, t, (ANALYTICS_SCOPE, MONETARY_SCOPE) if m else (ANALYTICS_SCOPE,))
                for c, t, m in grants
            ]
        )
        s = replace(
            scratch,
            youtube_reporting_api_url=sim.url,
            youtube_analytics_api_url=sim.url,
            youtube_oauth_token_uri=f"{sim.url}token",
            youtube_token_store=str(store.path),
        )
        ids = [c.channel_id for c in network.channels]
        prefix = f"bench-owner-{time.time_ns()}:"
        common: dict[str, Any] = {
            "settings": s,
            "pipelines_dir": Path(folder) / "dlt",
            "redis_prefix": prefix,
        }
        try:
            ceiling_reports, ceiling_s = _ceiling(sim, s, store.channels(), families)
            backfill = land_reports(ids, now=sim.now, families=families, alert_topic=None, **common)
            days = (sim.now.date() - (made.date() - timedelta(days=30))).days
            print(f"{channels} channels, {len(families)} families, reports of {days} days each")
            print(f"{'run':<42} {'reports':>8} {'rows':>10} {'seconds':>8} {'reports/min':>12}")
            print(
                f"{'ceiling: download + parse, no landing':<42} {ceiling_reports:>8} {'-':>10} "
                f"{ceiling_s:>8.1f} {60 * ceiling_reports / ceiling_s:>12,.0f}"
            )
            landed = backfill.reports_landed + backfill.reports_no_data
            print(
                f"{'Reporting backfill (land_reports)':<42} {landed:>8} {backfill.rows:>10,} "
                f"{backfill.seconds:>8.1f} {backfill.reports_per_minute:>12,.0f}"
            )
            share = backfill.reports_per_minute / (60 * ceiling_reports / ceiling_s)
            print(
                f"  rows/s {backfill.rows / backfill.seconds:,.0f}; {share:.0%} of the ceiling; "
                f"API calls per channel-day {backfill.api_calls / (channels * days):.2f}"
            )
            figures.add(
                "Reporting backfill, reports landed",
                backfill.reports_per_minute,
                "/min",
                "download + parse, no landing",
                60 * ceiling_reports / ceiling_s,
            )
            sim.set_now(sim.now + timedelta(days=1))
            daily = land_reports(ids, now=sim.now, families=families, alert_topic=None, **common)
            next_day = daily.reports_landed + daily.reports_no_data
            print(
                f"{'Reporting, the next day':<42} {next_day:>8} {daily.rows:>10,} "
                f"{daily.seconds:>8.1f}    calls per channel-day {daily.api_calls / channels:.2f}"
            )
            first = land_revenue(ids, now=sim.now, **common)
            sim.set_now(sim.now + timedelta(days=1))
            nxt = land_revenue(ids, now=sim.now, **common)
            print(
                f"Analytics, first run: {first.channel_days} channel-days, {first.video_days:,} "
                f"video-days in {first.seconds:.1f}s, {first.api_calls} calls = "
                f"{first.api_calls / max(first.channel_days, 1):.2f} per landed channel-day"
            )
            print(
                f"Analytics, the next day: {nxt.channel_days} channel-days (re-fetched until "
                f"settled) in {nxt.seconds:.1f}s, {nxt.api_calls} calls = "
                f"{nxt.api_calls / channels:.2f} per channel-day"
            )
            # calls per channel-day beside the fewest a run can make: one reports.list and
            # one download per report of the day (Reporting), one query per day (Analytics)
            figures.add(
                "Reporting backfill, API calls per channel-day",
                backfill.api_calls / (channels * days),
                "calls",
                "reports.list + media.download per report",
                (channels * len(families) + landed) / (channels * days),
                digits=2,
            )
            figures.add(
                "Analytics first run, API calls per channel-day",
                first.api_calls / max(first.channel_days, 1),
                "calls",
                "one day query + one top-videos page",
                (first.channel_days + len(ids)) / max(first.channel_days, 1),
                digits=2,
            )
        finally:
            sim.stop()
            drop_database(name, settings=scratch)
    figures.print()


if __name__ == "__main__":
    main()
