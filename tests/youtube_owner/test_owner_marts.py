"""The owner marts built by plain ``dbt build`` from what the landers landed.

A database of the test's own: the raw tables as a fresh warehouse has them,
then two channels' channel_basic reports (one channel without uploads, so
every day of it is header-only, and one day of the other regenerated after
it landed) and one earning channel's revenue from the simulated APIs. The
marts must answer what the newest reports say: each channel-day once, the
header-only days as zeros marked no_data, the video grain adding up to the
channel's, the averages recomputed from minutes and views, revenue as
YouTube reported it.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ingestion.raw_tables import create_raw_tables
from simulation.network import RealWorld
from simulation.owner_model import owner_traits
from tests.conftest import own_database
from tests.youtube_owner.conftest import at
from tests.youtube_owner.test_reporting import _csv_views
from ytempire.clients import pg_connect
from ytempire.dbt_runner import run_dbt

DAY = date(2025, 2, 1)
FAMILY = ("channel_basic",)


def test_owner_marts_answer_from_the_newest_reports(owners):
    with own_database("ownermarts") as scenario:
        with pg_connect("loader", settings=scenario) as conn:
            create_raw_tables(conn, scenario)
            conn.commit()
        quiet = RealWorld(no_uploads=True)
        own = owners(channels=3, day=DAY, real_world={2: quiet})
        own.settings = replace(own.settings, pg_database=scenario.pg_database)
        net = own.sim.network
        earning = [c.channel_id for c in net.channels[:2] if owner_traits(net, c.index).monetized]
        assert earning, "the test's network has no earning channel: change its seed"
        busy, empty = own.channels[0], own.channels[2]
        channels = [busy, empty]
        own.reporting(channels=channels, families=FAMILY)  # the jobs
        own.sim.set_now(at(DAY + timedelta(days=3)))
        own.reporting(channels=channels, families=FAMILY)  # 30 days of history
        regenerated = DAY - timedelta(days=4)
        own.sim.set_now(at(DAY + timedelta(days=3), hour=18))
        own.sim.owner.regenerate(busy, "channel_basic_a3", regenerated)
        assert own.reporting(channels=channels, families=FAMILY).reports_landed == 1
        assert own.analytics(channels=earning[:1]).channel_days

        # what the owner marts read, and only the tests whose every parent is built
        run_dbt(
            "build",
            "--select",
            "+path:models/marts/owner",
            "--indirect-selection",
            "cautious",
            quiet=True,
        )

        with pg_connect("analyst", settings=scenario) as conn:  # the analyst's own psql
            days = conn.execute(
                "select channel_id, metric_date, report_status, views, watch_time_minutes, "
                "average_view_duration_seconds, deleted_video_views, views_methodology, "
                "reports_landed from fct_channel_daily_watch_time order by 1, 2"
            ).fetchall()
            videos = {
                (r[0], r[1]): r[2:]
                for r in conn.execute(
                    "select channel_id, metric_date, sum(views), count(*), "
                    # the average is of the unrounded minutes (shown to 0.01 min) and is
                    # shown to 0.1 s: it is within those roundings of the shown minutes'
                    "bool_and(views = 0 or abs(average_view_duration_seconds "
                    "- watch_time_minutes * 60 / views) <= 0.05 + 0.3 / views) "
                    "from fct_video_daily_watch_time group by 1, 2"
                )
            }
            revenue = conn.execute(
                "select channel_id, metric_date, estimated_revenue_usd, is_settled, "
                "ad_revenue_estimate_usd from fct_channel_daily_revenue_actuals order by 1, 2"
            ).fetchall()
        with pg_connect("loader", settings=scenario) as conn:
            raw_revenue = conn.execute(
                "select channel_id, day, round(estimated_revenue::numeric, 4), is_settled "
                "from raw_youtube_analytics.channel_days order by 1, 2"
            ).fetchall()

    by_channel = {c: [d for d in days if d[0] == c] for c in channels}
    # the channel without uploads: every day reported, every day no_data and zeros
    assert len(by_channel[empty]) >= 30
    assert {(d[2], d[3], d[4]) for d in by_channel[empty]} == {("no_data", 0, 0)}
    # the busy channel: each day once, its views the newest report's, every day pre-break
    assert len(by_channel[busy]) == len({d[1] for d in by_channel[busy]}) >= 30
    assert {d[7] for d in days} == {"threshold"}
    for day_row in by_channel[busy]:
        _, day, status, views, minutes, average, deleted, _, landed = day_row
        _, _, want_views = _csv_views(own.sim, busy, "channel_basic_a3", day)
        assert (status, views) == ("landed", want_views), day
        assert landed == (2 if day == regenerated else 1), day
        assert abs(average - minutes * 60 / views) <= Decimal("0.05") + Decimal("0.3") / views
        video_views, _, averages_hold = videos[(busy, day)]
        assert video_views + deleted == views  # the video grain adds up to the channel's
        assert averages_hold
    assert revenue
    assert [r[:4] for r in revenue] == [tuple(r) for r in raw_revenue]
    # no public counters landed for these channels: no estimate to compare with
    assert {r[4] for r in revenue} == {None}


@pytest.fixture(autouse=True)
def _services(test_database: str) -> None:
    """The session database exists (the owners fixture's landers use its roles)."""
