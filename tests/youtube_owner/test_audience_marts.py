"""The owner's audience, traffic, device, playback-location and reach marts, and the
three analyses that read the owner's marts, built by plain ``dbt build`` from what the
Reporting lander landed, against what the simulated API served.

One scenario for the module (landing and building are the cost): a database of its own,
two channels of a young simulated network (uploads from 34 days before the job, so
about 80 videos and ~70k report rows) whose 30 days of report history straddle
YouTube's 2026-08-27 views break. Channel 0 publishes; channel 1 never does, so every
report of it is header-only. The oracle is the newest report of each channel-day as
the simulator serves it (its CSV, parsed here, not the warehouse's rows) and the
network's own publication times.
"""

from __future__ import annotations

import re
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from ingestion.raw_tables import create_raw_tables
from ingestion.youtube_owner.tokens import (
    ANALYTICS_SCOPE,
    MONETARY_SCOPE,
    ChannelToken,
    OAuthClient,
    TokenStore,
)
from ingestion.youtube_reporting.collector import read_report
from simulation.network import Network, RealWorld
from simulation.owner_apis import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, owner_grants
from simulation.youtube import YouTubeSimulator
from tests.conftest import own_database
from tests.youtube_owner.conftest import Owners, at
from ytempire.clients import pg_connect, redis_client
from ytempire.dbt_runner import run_dbt, target_dir
from ytempire.settings import Settings

pytestmark = pytest.mark.services

DAY = date(2026, 9, 10)  # the jobs are created on this day: history from 2026-08-11
VIEWS_BREAK = date(2026, 8, 27)  # every format's views count plays from this day
SEED = 3027  # a small channel 0 (about 70k report rows) that YouTube reports demographics of
PACIFIC = ZoneInfo("America/Los_Angeles")
NEW_VIDEO_DAYS = 7
ANALYSES = (
    "average_watch_time_per_video",
    "views_new_vs_catalog",
    "first_day_views_vs_channel_median",
)
BREAKDOWNS = {  # mart: (report type, its code columns)
    "fct_channel_daily_traffic_sources": ("channel_traffic_source_a3", ("traffic_source_type",)),
    "fct_channel_daily_devices": ("channel_device_os_a3", ("device_type", "operating_system")),
    "fct_channel_daily_playback_locations": (
        "channel_playback_location_a3",
        ("playback_location_type",),
    ),
}
OWNER_MARTS = (
    *BREAKDOWNS,
    "fct_channel_daily_demographics",
    "fct_channel_daily_demographics_pivoted",
    "fct_channel_daily_reach",
    "fct_video_daily_reach",
    "fct_channel_daily_watch_time",
    "fct_video_daily_watch_time",
)


@dataclass
class Scenario:
    own: Owners
    settings: Settings  # the scenario's database
    busy: str
    quiet: str

    def _reports(self, report_type: str, channel: str) -> dict[date, Any]:
        """The newest report of each day of a channel's job, as the simulator serves them."""
        sim = self.own.sim
        job = next(
            j
            for j in sim.owner.jobs.values()
            if (j.channel_id, j.report_type_id) == (channel, report_type)
        )
        newest: dict[date, Any] = {}
        for r in sim.owner.reports(job):
            if r.day not in newest or r.create_time > newest[r.day].create_time:
                newest[r.day] = r
        return newest

    def report_days(self, report_type: str, channel: str | None = None) -> set[date]:
        return set(self._reports(report_type, channel or self.busy))

    def served(self, report_type: str, day: date) -> list[dict[str, Any]]:
        """The rows of the newest report of a day of the busy channel, parsed."""
        report = self._reports(report_type, self.busy)[day]
        return read_report(self.own.sim.owner.csv(report)).to_pylist()

    def days(self) -> list[date]:
        return [r[0] for r in self.query(
            "select metric_date from fct_channel_daily_watch_time where channel_id = %s "
            "order by 1", (self.busy,)
        )]  # fmt: skip

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with pg_connect("analyst", settings=self.settings) as conn:  # the analyst's own psql
            return conn.execute(sql, params).fetchall()

    def analysis(self, name: str) -> list[dict[str, Any]]:
        """The rows of a compiled analysis, run as the analyst."""
        with pg_connect("analyst", settings=self.settings) as conn, conn.cursor() as cur:
            cur.execute(_compiled(name))
            names = [c.name for c in cur.description or []]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _compiled(name: str) -> str:
    return (target_dir() / "compiled" / "ytempire" / "analyses" / f"{name}.sql").read_text()


def _owners(settings: Settings, redis_prefix: str, folder: Path) -> Owners:
    """The conftest's ``owners`` setup, for a module: a young network served on loopback."""
    quiet = {1: RealWorld(no_uploads=True)}
    network = Network(seed=SEED, channels=2, epoch=DAY, history_days=34, real_world=quiet)
    sim = YouTubeSimulator(network, day=DAY)
    sim.start()
    store = TokenStore(folder / "tokens.json")
    store.set_client(OAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
    grants = owner_grants(network)
    store.put(
        [
            ChannelToken(c, t, (ANALYTICS_SCOPE, MONETARY_SCOPE) if m else (ANALYTICS_SCOPE,))
            for c, t, m in grants
        ]
    )
    for c, _, m in grants:
        sim.owner.oauth.grant(c, m)
    own = replace(
        settings,
        youtube_reporting_api_url=sim.url,
        youtube_analytics_api_url=sim.url,
        youtube_oauth_token_uri=f"{sim.url}token",
        youtube_token_store=str(store.path),
    )
    return Owners(sim, own, store, folder / "dlt", redis_prefix, f"aud{SEED}")


@pytest.fixture(scope="module")
def scenario(
    test_database: str, settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Scenario]:
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    own = _owners(settings, prefix, tmp_path_factory.mktemp("audience"))
    try:
        with own_database("audience") as db:
            with pg_connect("loader", settings=db) as conn:
                create_raw_tables(conn, db)
                conn.commit()
            own.settings = replace(own.settings, pg_database=db.pg_database)
            own.reporting()  # the jobs
            # history (48 h after the jobs) and its regenerated days (2-4 days later) are in
            own.sim.set_now(at(DAY + timedelta(days=8)))
            run = own.reporting()
            assert run.status == "complete", run
            assert run.reports_landed + run.reports_no_data >= 2 * 6 * 30, run
            # what these marts and the analyses read, and only the tests whose every parent
            # is built (not the revenue mart: it reads the Data API's whole lineage)
            run_dbt(
                "build",
                "--select",
                *(f"+{mart}" for mart in (*OWNER_MARTS, "dim_reported_videos")),
                "--indirect-selection",
                "cautious",
                quiet=True,
            )
            analyses = (f"path:analyses/{a}.sql" for a in ANALYSES)
            run_dbt("compile", "--select", *analyses, quiet=True)
            yield Scenario(own, db, own.channels[0], own.channels[1])
    finally:
        own.sim.stop()
        client = redis_client(settings=settings)
        keys = list(client.scan_iter(f"{prefix}*"))
        if keys:
            client.delete(*keys)


# --- the marts -------------------------------------------------------------------------------


@pytest.mark.parametrize("mart", list(BREAKDOWNS))
def test_breakdown_marts_hold_every_views_of_the_served_reports(scenario, mart):
    """Per channel-day and code, the views the newest report served; every day's codes add
    up to the day's views in channel_basic (deleted videos included); names for the codes."""
    report_type, codes = BREAKDOWNS[mart]
    rows = scenario.query(
        f"select metric_date, {', '.join(codes)}, views, views_share_pct, deleted_video_views, "
        f"{codes[0]}_name from {mart} where channel_id = %s",
        (scenario.busy,),
    )
    got: dict[date, dict[tuple[int, ...], int]] = defaultdict(dict)
    for r in rows:
        got[r[0]][tuple(r[1 : 1 + len(codes)])] = r[1 + len(codes)]
    assert not any(name.startswith("unknown") for *_, name in rows)
    totals = dict(scenario.query(
        "select metric_date, views from fct_channel_daily_watch_time where channel_id = %s",
        (scenario.busy,),
    ))  # fmt: skip
    deleted_days = 0
    report_days = scenario.report_days(report_type)
    assert set(got) <= report_days
    for day in sorted(report_days):
        table = scenario.served(report_type, day)
        want: dict[tuple[int, ...], int] = defaultdict(int)
        for row in table:
            want[tuple(row[c] for c in codes)] += row["views"]
        assert got.get(day, {}) == {k: v for k, v in want.items()}, day
        if totals.get(day):
            # a preliminary report may count up to 3 % more views than channel_basic's final
            assert abs(sum(want.values()) - totals[day]) <= 0.03 * totals[day], day
            deleted_days += any(row["video_id"] is None for row in table)
    assert deleted_days > 0, "no deleted videos' rows: the test proves nothing about them"
    shares: dict[date, Decimal] = defaultdict(Decimal)
    for r in rows:
        shares[r[0]] += r[2 + len(codes)]
    assert all(abs(s - 100) <= Decimal("0.01") * len(codes) * 20 for s in shares.values())


def test_demographics_long_is_the_groups_weighted_by_their_views(scenario):
    long_rows = scenario.query(
        "select metric_date, age_group, gender, views_pct, views_with_demographics "
        "from fct_channel_daily_demographics where channel_id = %s",
        (scenario.busy,),
    )
    got = {(r[0], r[1], r[2]): r[3] for r in long_rows}
    weights = {r[0]: r[4] for r in long_rows}
    checked = 0
    both = scenario.report_days("channel_demographics_a1")
    both &= scenario.report_days("channel_basic_a3")
    for day in sorted(both):
        basic = scenario.served("channel_basic_a3", day)
        groups = scenario.served("channel_demographics_a1", day)
        key = ("video_id", "live_or_on_demand", "subscribed_status", "country_code")
        views = {tuple(r[k] for k in key): r["views"] for r in basic}
        reported = {tuple(r[k] for k in key) for r in groups}
        if not reported:
            assert not any(k[0] == day for k in got), day
            continue
        whole = sum(views[g] for g in reported)
        want: dict[tuple[str, str], float] = defaultdict(float)
        for r in groups:
            want[(r["age_group"], r["gender"])] += (
                r["views_percentage"] * views[tuple(r[k] for k in key)] / whole
            )
        assert weights[day] == whole, day
        assert {k[1:]: v for k, v in got.items() if k[0] == day} == pytest.approx(
            {k: Decimal(str(round(v, 3))) for k, v in want.items()}, abs=Decimal("0.0011")
        ), day
        checked += 1
    assert checked >= 10, "too few days with demographics to prove the weighting"


def test_demographics_pivoted_sums_the_long_form_and_keeps_every_reported_day(scenario):
    pivoted = scenario.query(
        "select channel_id, metric_date, report_status, "
        "age_13_17_views_pct + age_18_24_views_pct + age_25_34_views_pct + age_35_44_views_pct"
        " + age_45_54_views_pct + age_55_64_views_pct + age_65_plus_views_pct, "
        "female_views_pct + male_views_pct + gender_other_views_pct, reported_views_pct, "
        "male_views_pct from fct_channel_daily_demographics_pivoted"
    )
    males = dict(scenario.query(
        "select metric_date, sum(views_pct) from fct_channel_daily_demographics "
        "where channel_id = %s and gender = 'MALE' group by 1", (scenario.busy,)
    ))  # fmt: skip
    quiet = [r for r in pivoted if r[0] == scenario.quiet]
    assert len(quiet) >= 30
    assert {r[2:] for r in quiet} == {("no_data", None, None, None, None)}
    busy = [r for r in pivoted if r[0] == scenario.busy]
    assert {r[1] for r in busy} == scenario.report_days("channel_demographics_a1")
    basic_days = scenario.report_days("channel_basic_a3")
    # a day whose channel_basic report is not out yet has no weights: its shares stay null
    waiting = [r for r in busy if r[2] == "landed" and r[1] not in basic_days]
    assert {r[3:] for r in waiting} <= {(None, None, None, None)}
    landed = [r for r in busy if r[2] == "landed" and r[1] in basic_days]
    assert len(landed) >= 10
    for _, day, _, ages, genders, reported, male in landed:
        assert ages == genders == reported, day  # every cell once by age, once by gender
        assert 90 <= reported <= 100, day  # YouTube leaves out cells under 1 % of a group
        assert male == males[day], day


def test_reach_marts_hold_the_served_impressions_and_weigh_the_rate(scenario):
    videos = scenario.query(
        "select metric_date, video_id, video_thumbnail_impressions, "
        "video_thumbnail_impressions_ctr from fct_video_daily_reach where channel_id = %s",
        (scenario.busy,),
    )
    by_day: dict[date, dict[str, tuple[int, Decimal]]] = defaultdict(dict)
    for day, video, impressions, ctr in videos:
        by_day[day][video] = (impressions, ctr)
    channel = {r[1]: r[2:] for r in scenario.query(
        "select channel_id, metric_date, report_status, video_thumbnail_impressions, "
        "video_thumbnail_impressions_ctr from fct_channel_daily_reach where channel_id = %s",
        (scenario.busy,),
    )}  # fmt: skip
    for day in sorted(scenario.report_days("channel_reach_basic_a1")):
        served = scenario.served("channel_reach_basic_a1", day)
        want = {
            r["video_id"]: (r["video_thumbnail_impressions"], r["video_thumbnail_impressions_ctr"])
            for r in served
        }
        assert {v: (i, float(c)) for v, (i, c) in by_day[day].items()} == want, day
        impressions = sum(i for i, _ in want.values())
        status, total, ctr = channel[day]
        assert (status, total) == ("landed" if want else "no_data", impressions), day
        if impressions:
            weighted = sum(i * c for i, c in want.values()) / impressions
            assert float(ctr) == pytest.approx(weighted, abs=1e-6), day
    quiet = scenario.query(
        "select distinct report_status, video_thumbnail_impressions "
        "from fct_channel_daily_reach where channel_id = %s",
        (scenario.quiet,),
    )
    assert quiet == [("no_data", 0)]


@pytest.mark.parametrize("mart", OWNER_MARTS)
def test_every_day_of_every_owner_mart_carries_its_views_methodology(scenario, mart):
    """Both sides of the 2026-08-27 break are in the history, and each row says which."""
    rows = scenario.query(
        f"select metric_date < %s, views_methodology, count(*) from {mart} group by 1, 2",
        (VIEWS_BREAK,),
    )
    assert {(before, m) for before, m, _ in rows} == {
        (True, "shorts_count_plays"),
        (False, "all_count_plays"),
    }


# --- the analyses ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ANALYSES)
def test_each_analysis_uses_at_most_two_joins(scenario, name):
    code = re.sub(r"--[^\n]*", "", _compiled(name))
    assert "select" in code
    assert len(re.findall(r"\bjoin\b", code, re.IGNORECASE)) <= 2


def _video_days(scenario: Scenario) -> dict[date, dict[str | None, tuple[int, float]]]:
    """Per day, each video's (views, minutes) in the newest served channel_basic report."""
    out: dict[date, dict[str | None, tuple[int, float]]] = {}
    for day in scenario.days():
        videos: dict[str | None, list[float]] = defaultdict(lambda: [0, 0.0])
        for row in scenario.served("channel_basic_a3", day):
            videos[row["video_id"]][0] += row["views"]
            videos[row["video_id"]][1] += row["watch_time_minutes"]
        out[day] = {v: (int(s[0]), s[1]) for v, s in videos.items()}
    return out


def _published(scenario: Scenario) -> dict[str, date]:
    """Each video's Pacific publication day, from the network itself."""
    network = scenario.own.sim.network
    channel = network.channel(scenario.busy)
    assert channel is not None
    count = network.uploads(channel, at(DAY + timedelta(days=9)))
    return {
        v.video_id: v.published_at.astimezone(PACIFIC).date()
        for v in (network.video(channel.index, n) for n in range(count))
    }


def _first_viewed(days: dict[date, dict[str | None, tuple[int, float]]]) -> dict[str, date]:
    """The publication day the marts can know of an untracked video (none is tracked here):
    the first day the served reports count a view of it, if after the channel's first day."""
    seen: dict[str, date] = {}
    for day in sorted(days):
        for video, (views, _) in days[day].items():
            if video is not None and views > 0:
                seen.setdefault(video, day)
    return {v: d for v, d in seen.items() if d > min(days)}


def test_publication_day_of_an_untracked_video_is_its_first_viewed_day(scenario):
    """dim_reported_videos' rule, held to the network's truth: the day is exact, or the day
    after one on which the video (published late) had no view."""
    days, published = _video_days(scenario), _published(scenario)
    rule = _first_viewed(days)
    rows = {r[0]: r[1:] for r in scenario.query(
        "select video_id, published_date, published_date_source, first_day_views "
        "from dim_reported_videos where channel_id = %s", (scenario.busy,)
    )}  # fmt: skip
    assert {v: r[0] for v, r in rows.items() if r[0] is not None} == rule
    assert {r[1] for v, r in rows.items() if v in rule} == {"first_report"}
    assert {v for v, r in rows.items() if r[0] is None} == {
        v for v in rows if v not in rule
    }  # watched on the first reported day: published before the reports, day unknown
    late = {v for v, d in rule.items() if d != published[v]}
    for v in late:
        assert rule[v] == published[v] + timedelta(days=1), v
        assert days[published[v]].get(v, (0, 0.0))[0] == 0, v
    assert len(late) <= len(rule) // 5, "the rule misses the day of too many videos"
    assert len(rule) - len(late) >= 20


def test_average_watch_time_per_video(scenario):
    days = _video_days(scenario)
    last = max(days)
    window = [d for d in days if d > last - timedelta(days=28)]
    videos = {v for d in window for v in days[d] if v is not None}
    minutes = sum(m for d in window for v, (_, m) in days[d].items() if v is not None)
    views = sum(n for d in window for v, (n, _) in days[d].items() if v is not None)
    (row,) = [r for r in scenario.analysis("average_watch_time_per_video")
              if r["channel_id"] == scenario.busy]  # fmt: skip
    assert (row["first_date"], row["last_date"]) == (min(window), last)
    assert row["videos_watched"] == len(videos)
    assert row["video_views"] == views
    # the mart keeps each video-day's minutes to 0.01
    assert float(row["watch_time_minutes"]) == pytest.approx(minutes, abs=0.005 * 28 * len(videos))
    per_video = minutes / len(videos)
    assert float(row["watch_time_minutes_per_video"]) == pytest.approx(per_video, abs=0.6)
    assert float(row["average_view_duration_seconds"]) == pytest.approx(
        minutes * 60 / views, abs=0.11
    )


def test_views_new_vs_catalog_counts_every_video_and_the_deleted_ones(scenario):
    days = _video_days(scenario)
    published = _first_viewed(days)  # held to the network's truth by the test above
    first = min(days)
    rows = {r["metric_date"]: r for r in scenario.analysis("views_new_vs_catalog")
            if r["channel_id"] == scenario.busy}  # fmt: skip
    # answered from the day every new video's publication is inside the reports
    assert set(rows) == {d for d in days if d >= first + timedelta(days=NEW_VIDEO_DAYS)}
    untracked = 0
    for day, row in rows.items():
        new = sum(
            n for v, (n, _) in days[day].items()
            if v in published and (day - published[v]).days < NEW_VIDEO_DAYS
        )  # fmt: skip
        total = sum(n for n, _ in days[day].values())
        deleted = days[day].get(None, (0, 0.0))[0]
        assert (row["views"], row["new_video_views"], row["catalog_video_views"]) == (
            total,
            new,
            total - new,
        ), day
        assert row["deleted_video_views"] == deleted, day
        untracked += deleted
    assert untracked > 0, "no deleted videos' views: the test proves nothing about them"
    assert any(r["new_video_views"] for r in rows.values())
    assert any(r["catalog_video_views"] > r["deleted_video_views"] for r in rows.values())


def test_first_day_views_against_the_channel_median(scenario):
    days = _video_days(scenario)
    published = _first_viewed(days)  # every video published inside the reports
    first_day = {v: days[p][v][0] for v, p in published.items()}
    rows = {r["video_id"]: r for r in scenario.analysis("first_day_views_vs_channel_median")
            if r["channel_id"] == scenario.busy}  # fmt: skip
    assert {v: r["first_day_views"] for v, r in rows.items()} == first_day
    for methodology, before in (("shorts_count_plays", True), ("all_count_plays", False)):
        group = [v for v in first_day if (published[v] < VIEWS_BREAK) == before]
        assert group, methodology
        median = statistics.median(first_day[v] for v in group)
        for v in group:
            row = rows[v]
            assert row["views_methodology"] == methodology
            assert float(row["channel_median_first_day_views"]) == median, v
            assert row["videos_in_median"] == len(group)
            if median:
                assert float(row["first_day_views_vs_median"]) == pytest.approx(
                    first_day[v] / median, abs=0.005
                ), v
