"""The revenue estimate calibrated from the channels' actuals, on the simulated network.

The smallest network that shows it: 8 channels (seed 4242), four of them in
tech (three earning with actuals landed, one earning whose owner granted no
revenue access: a channel *without* actuals), one earning channel alone in
sports and one in gaming (too few actuals: the seed's tier stays), two
outside the Partner Program. Nine days of the Data API's counters are
collected from the simulator (the public side the estimate prices), then
the Analytics API's revenue is landed once every day has settled, and
``dbt build`` builds the revenue marts.

The simulator earns a niche RPM the seed does not know (and little on Shorts
and on audiences abroad, which the estimate prices like any view), so a
calibrated CPM must bring the estimate closer: the median
absolute percentage error printed by ``ytempire revenue calibration-error``
falls, evaluated by leaving each channel out of its own calibration.
"""

from __future__ import annotations

import re
import statistics
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from ingestion.raw_tables import create_raw_tables
from ingestion.youtube.landing import run_day
from ingestion.youtube_analytics.landing import land_revenue
from ingestion.youtube_owner.tokens import (
    ANALYTICS_SCOPE,
    MONETARY_SCOPE,
    ChannelToken,
    OAuthClient,
    TokenStore,
)
from simulation.network import Network
from simulation.owner_apis import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, owner_grants
from simulation.owner_model import owner_traits
from simulation.seed import seed_channels
from simulation.youtube import YouTubeSimulator
from tests.cli import run_ytempire
from tests.conftest import own_database
from tests.youtube_owner.conftest import NO_WAIT, at
from ytempire.clients import pg_connect, redis_client
from ytempire.dbt_runner import run_dbt, target_dir
from ytempire.settings import Settings

pytestmark = pytest.mark.services

NETWORK = Network(seed=4242, channels=8)
FIRST = date(2025, 2, 1)
DAYS = [FIRST + timedelta(days=n) for n in range(9)]  # 8 priced days after the baseline
TECH_WITHOUT_ACTUALS = 5  # earns, but its owner granted no revenue access
ALONE = {6: ("default", Decimal("2.0000")), 7: ("niche", Decimal("1.6000"))}  # sports, gaming


@dataclass(frozen=True)
class Built:
    settings: Settings
    earning: list[str]  # channels whose actuals landed


def _niche(index: int) -> str:
    return NETWORK.channels[index].niche


@pytest.fixture(scope="module")
def built(test_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    tmp: Path = tmp_path_factory.mktemp("calibration")
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    monetized = [c.index for c in NETWORK.channels if owner_traits(NETWORK, c.index).monetized]
    tech = [i for i in monetized if _niche(i) == "tech"]
    # the network this module describes (a change to the simulator must keep it)
    assert (len(tech), TECH_WITHOUT_ACTUALS in tech) == (4, True)
    assert {_niche(i) for i in ALONE} == {"sports", "gaming"}
    assert set(ALONE) <= set(monetized)
    earning = [NETWORK.channels[i].channel_id for i in monetized if i != TECH_WITHOUT_ACTUALS]
    channels = [c.channel_id for c in NETWORK.channels]
    with own_database("calibration") as scenario, YouTubeSimulator(NETWORK, day=FIRST) as sim:
        with pg_connect("loader", settings=scenario) as conn:
            create_raw_tables(conn, scenario)
            conn.commit()
        public = replace(scenario, youtube_api_url=sim.url)
        for day in DAYS:
            sim.set_day(day)
            report = run_day(
                day, channels, settings=public, pipelines_dir=tmp / "dlt", redis_prefix=prefix
            )
            assert report.status == "complete", report
        seed_channels(NETWORK, settings=scenario)

        store = TokenStore(tmp / "tokens.json")
        store.set_client(OAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        store.put(
            [
                ChannelToken(c, t, (ANALYTICS_SCOPE, MONETARY_SCOPE) if m else (ANALYTICS_SCOPE,))
                for c, t, m in owner_grants(NETWORK)
            ]
        )
        for c, _, m in owner_grants(NETWORK):
            sim.owner.oauth.grant(c, m)
        sim.set_now(at(DAYS[-1] + timedelta(days=4)))  # every collected day has settled
        owner = replace(
            scenario,
            youtube_analytics_api_url=sim.url,
            youtube_oauth_token_uri=f"{sim.url}token",
            youtube_token_store=str(store.path),
        )
        run = land_revenue(
            earning,
            settings=owner,
            pipelines_dir=tmp / "dlt",
            redis_prefix=prefix,
            retry=NO_WAIT,
            now=sim.now,
            # the collected days and the settled days after them, not a first run's 30
            first_run_days=(sim.now.date() - FIRST).days,
        )
        assert run.status == "complete", run
        assert run.channel_days > 0, run
        assert run.video_days > 0, run

        run_dbt(
            "build",
            "--select",
            "+fct_channel_daily_revenue_actuals+",
            "+fct_video_daily_revenue_actuals+",
            "+fct_niche_cpm_calibration+",
            "--indirect-selection",
            "cautious",
            quiet=True,
        )
        run_dbt("compile", "--select", "revenue_actual_vs_estimated_by_niche", quiet=True)
        try:
            yield Built(scenario, earning)
        finally:
            client = redis_client(settings=scenario)
            keys = list(client.scan_iter(f"{prefix}*"))
            if keys:
                client.delete(*keys)


def _rows(settings: Settings, sql: str) -> list[dict[str, Any]]:
    with pg_connect("analyst", settings=settings) as conn, conn.cursor() as cur:
        cur.execute(sql)
        names = [column.name for column in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _qualifying(built: Built) -> list[dict[str, Any]]:
    return _rows(
        built.settings,
        "select * from fct_channel_daily_revenue_actuals where is_settled "
        "and estimated_ad_revenue_usd > 0 and ad_revenue_estimate_abs_pct_error is not null",
    )


def test_calibration_lowers_the_estimates_median_error(built: Built) -> None:
    done = run_ytempire("revenue", "calibration-error")
    assert done.returncode == 0, done.stderr
    print(done.stdout)  # the figures (pytest -s shows them)
    figures = dict(re.findall(r"error (before|after) calibration:\s+([\d.]+) %", done.stdout))
    before, after = float(figures["before"]), float(figures["after"])
    assert after < before, done.stdout
    # ... the medians of the mart's own rows, before and after, leave one channel out
    rows = _qualifying(built)
    assert {r["channel_id"] for r in rows} == set(built.earning)
    seed = statistics.median(float(r["seed_ad_revenue_estimate_abs_pct_error"]) for r in rows)
    calibrated = statistics.median(float(r["ad_revenue_estimate_abs_pct_error"]) for r in rows)
    assert (round(seed, 1), round(calibrated, 1)) == (before, after)
    assert f"{len(rows)} settled channel-days of {len(built.earning)} channels" in done.stdout
    # the tech channels it calibrated improve on their own, not only on the median
    tech = [r for r in rows if r["niche"] == "tech"]
    assert {r["cpm_source"] for r in tech} == {"calibrated"}
    assert statistics.median(float(r["ad_revenue_estimate_abs_pct_error"]) for r in tech) < (
        statistics.median(float(r["seed_ad_revenue_estimate_abs_pct_error"]) for r in tech)
    )


def test_each_channel_reads_its_niches_other_channels_or_the_seed(built: Built) -> None:
    cpm = {
        r["channel_id"]: r
        for r in _rows(
            built.settings,
            "select channel_id, base_cpm_usd, cpm_source, count(*) as days "
            "from fct_channel_daily_metrics group by 1, 2, 3",
        )
    }
    assert len(cpm) == len(NETWORK.channels)  # one CPM per channel over the days
    rows = _qualifying(built)
    by_channel: dict[str, tuple[Decimal, Decimal]] = {}
    for r in rows:  # actual ad revenue and what 1 USD of base CPM prices, per channel
        revenue, priced = by_channel.get(r["channel_id"], (Decimal(0), Decimal(0)))
        by_channel[r["channel_id"]] = (
            revenue + r["estimated_ad_revenue_usd"],
            priced + r["ad_revenue_estimate_usd"] / r["base_cpm_usd"],
        )
    tech = [c.channel_id for c in NETWORK.channels if c.niche == "tech"]
    without = NETWORK.channels[TECH_WITHOUT_ACTUALS].channel_id
    for channel in tech:
        others = [c for c in tech if c != channel and c in by_channel]
        want = sum((by_channel[c][0] for c in others), Decimal(0)) / sum(
            (by_channel[c][1] for c in others), Decimal(0)
        )
        assert cpm[channel]["cpm_source"] == "calibrated"
        # the calibration prices a day as the estimate does (to the estimate's rounding)
        assert abs(cpm[channel]["base_cpm_usd"] - want) <= Decimal("0.002") * want, channel
    niche = _rows(built.settings, "select * from fct_niche_cpm_calibration where niche = 'tech'")
    assert niche[0]["cpm_source"] == "calibrated"
    assert niche[0]["channels_with_actuals"] == 3
    assert niche[0]["base_cpm_usd"] == cpm[without]["base_cpm_usd"]  # all three, none left out
    # the tech tier is 3.00 on every view; the simulated tech channels earn far less on
    # their Shorts and their audiences abroad, which the calibrated CPM has learnt
    assert niche[0]["seed_base_cpm_usd"] == Decimal("3.0000")
    assert abs(niche[0]["base_cpm_usd"] - niche[0]["seed_base_cpm_usd"]) > Decimal("0.5")
    for index, (source, tier) in ALONE.items():
        alone = cpm[NETWORK.channels[index].channel_id]
        assert (alone["cpm_source"], alone["base_cpm_usd"]) == (source, tier)


def test_video_day_revenue_beside_the_tracked_videos_estimate(built: Built) -> None:
    videos = _rows(
        built.settings,
        "select v.channel_id, v.metric_date, sum(v.estimated_ad_revenue_usd) as ad, "
        "count(*) as videos, count(v.ad_revenue_estimate_usd) as estimated, "
        "max(c.estimated_ad_revenue_usd) as channel_ad "
        "from fct_video_daily_revenue_actuals as v join fct_channel_daily_revenue_actuals as c "
        "using (channel_id, metric_date) group by 1, 2",
    )
    assert {v["channel_id"] for v in videos} == set(built.earning)
    # the videos' ad revenue is the channel's, less what deleted videos earned
    assert all(v["ad"] <= v["channel_ad"] + Decimal("0.01") for v in videos)
    assert sum(v["ad"] for v in videos) >= Decimal("0.9") * sum(v["channel_ad"] for v in videos)
    # the tracked videos on the collected days carry the estimate beside the actual
    assert sum(v["estimated"] for v in videos if v["metric_date"] in DAYS[1:]) > 0


def test_revenue_actual_vs_estimated_by_niche_answers_from_the_marts(built: Built) -> None:
    compiled = target_dir() / "compiled/ytempire/analyses/revenue_actual_vs_estimated_by_niche.sql"
    code = compiled.read_text()
    assert len(re.findall(r"\bjoin\b", re.sub(r"--[^\n]*", "", code), re.IGNORECASE)) <= 2
    answer = {r["niche"]: r for r in _rows(built.settings, code)}
    rows = _qualifying(built)
    assert set(answer) == {"tech", "sports", "gaming"}
    for niche, got in answer.items():
        mine = [r for r in rows if r["niche"] == niche]
        actual = sum(r["estimated_ad_revenue_usd"] for r in mine)
        estimate = sum(r["ad_revenue_estimate_usd"] for r in mine)
        seed = sum(r["seed_ad_revenue_estimate_usd"] for r in mine)
        assert got["channels"] == len({r["channel_id"] for r in mine})
        assert got["channel_days"] == len(mine)
        assert got["actual_ad_revenue_usd"] == round(actual, 2)
        assert got["estimated_ad_revenue_usd"] == round(estimate, 2)
        assert got["seed_bias_pct"] == round(100 * (seed / actual - 1), 1)
        assert float(got["mdape_pct"]) == pytest.approx(
            statistics.median(float(r["ad_revenue_estimate_abs_pct_error"]) for r in mine),
            abs=0.051,
        )
    assert answer["tech"]["cpm_source"] == "calibrated"
    assert answer["tech"]["mdape_pct"] < answer["tech"]["seed_mdape_pct"]
    # a niche alone keeps its tier: the same estimate before and after
    assert answer["gaming"]["cpm_source"] == "seed"
    assert answer["gaming"]["mdape_pct"] == answer["gaming"]["seed_mdape_pct"]
