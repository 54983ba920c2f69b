"""The daily report's owner sections: watch time, and actual vs estimated revenue.

A database of the test's own whose owner marts hold crafted rows (the marts
themselves are built and tested from the landers in
``tests/youtube_owner/test_owner_marts.py``): three channels with hostile
titles over a window whose newest reported day is two days before the
report's day, as YouTube's ~48 h delay leaves it. The figures are computed
here from the crafted rows, independently of the report's queries; the
titles must stay data on the page and in the text; a window without owner
rows says why instead of showing zeros.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest

from reporting import render
from reporting.collect import OWNER_EMPTY, gather
from reporting.model import DailyReport
from tests.conftest import own_database
from ytempire.clients import pg_connect
from ytempire.settings import Settings
from ytempire.stage_runs import record_stage

pytestmark = pytest.mark.services

DAY = date(2025, 3, 10)
NEWEST = DAY - timedelta(days=2)  # the reports' delay
DAYS = [NEWEST - timedelta(days=n) for n in range(5)]
CHANNELS = {
    "UC" + "a" * 22: '<script>alert("x")</script> & co',
    "UC" + "b" * 22: "قناة الطبخ — ערוץ הבישול",
    "UC" + "c" * 22: "$$$ MONEY $$$\nsecond line",
}
# channel -> (views, minutes) per day: b watches most, a least
VIEWING = {"UC" + "a" * 22: (100, 300.0), "UC" + "b" * 22: (400, 2000.0), "UC" + "c" * 22: (0, 0.0)}
# channel -> (actual revenue, actual ad revenue, ad estimate or None) per day
REVENUE = {
    "UC" + "a" * 22: (12.0, 10.0, 11.0),  # estimate +10 %
    "UC" + "b" * 22: (30.0, 20.0, 15.0),  # estimate -25 %
}


def _marts(conn: Any) -> None:
    conn.execute(
        "create table marts.fct_channel_daily_watch_time (channel_id text, metric_date date, "
        "views bigint, engaged_views bigint, watch_time_minutes double precision)"
    )
    conn.execute(
        "create table marts.fct_channel_daily_revenue_actuals (channel_id text, "
        "metric_date date, estimated_revenue_usd numeric, estimated_ad_revenue_usd numeric, "
        "ad_revenue_estimate_usd numeric, is_settled boolean)"
    )
    conn.execute("create table marts.mv_channel_performance (channel_id text, channel_title text)")
    for channel, title in CHANNELS.items():
        conn.execute("insert into marts.mv_channel_performance values (%s, %s)", (channel, title))
        views, minutes = VIEWING[channel]
        for day in DAYS:
            conn.execute(
                "insert into marts.fct_channel_daily_watch_time values (%s, %s, %s, %s, %s)",
                (channel, day, views, views // 2, minutes),
            )
    for channel, (actual, ad, estimate) in REVENUE.items():
        for day in DAYS:
            # the newest day has no estimate yet for channel b: compared on the other days
            est = None if (day == NEWEST and channel.startswith("UCb")) else estimate
            conn.execute(
                "insert into marts.fct_channel_daily_revenue_actuals values "
                "(%s, %s, %s, %s, %s, %s)",
                (channel, day, actual, ad, est, day <= NEWEST - timedelta(days=3)),
            )
    for table in ("fct_channel_daily_watch_time", "fct_channel_daily_revenue_actuals"):
        conn.execute(f"grant select on marts.{table} to analyst, ytempire_transformer")
    conn.execute("grant select on marts.mv_channel_performance to analyst, ytempire_transformer")


@pytest.fixture(scope="module")
def owner_settings(test_database: str) -> Iterator[Settings]:
    with own_database("ownerreport") as scenario:
        with pg_connect("admin", autocommit=True, settings=scenario) as conn:
            _marts(conn)
        with record_stage("owner_reports", DAY, settings=scenario) as run:
            run.details = {"landed": 3, "outcomes": {"auth_revoked": 1, "no_credentials": 2}}
        yield scenario


@pytest.fixture(scope="module")
def report(owner_settings: Settings) -> DailyReport:
    return gather(DAY, settings=owner_settings, freshness=False)


def test_watch_time_is_the_newest_reported_day_and_the_window(report: DailyReport):
    newest = report.newest_watch_time()
    assert newest is not None
    assert newest.metric_date == NEWEST
    views = sum(v for v, _ in VIEWING.values())
    minutes = sum(m for _, m in VIEWING.values())
    assert (newest.views, newest.watch_time_minutes, newest.channels) == (views, minutes, 3)
    assert newest.average_view_duration_s == pytest.approx(minutes * 60 / views)
    text = render.text(report)
    assert f"watch time on {NEWEST} (the newest reported day): {minutes:,.0f} minutes" in text
    assert f"{minutes * len(DAYS):,.0f} minutes, {views * len(DAYS):,} views" in text
    # most watched first; a channel without views has no average, not a division by zero
    assert [c.channel_id[2] for c in report.top_watch_time] == ["b", "a", "c"]
    assert report.top_watch_time[-1].average_view_duration_s is None


def test_actual_vs_estimated_revenue_per_channel_and_over_the_network(report: DailyReport):
    by_channel = {r.channel_id[2]: r for r in report.revenue_actuals}
    assert by_channel["a"].error_pct == pytest.approx(10.0)
    assert by_channel["b"].error_pct == pytest.approx(-25.0)  # over the 4 days with both
    assert (by_channel["b"].days, by_channel["b"].settled_days) == (5, 2)
    estimate = 11.0 * 5 + 15.0 * 4
    compared = 10.0 * 5 + 20.0 * 4
    totals = render.owner_totals(report)
    assert totals["ad_error_pct"] == pytest.approx(100 * (estimate - compared) / compared)
    assert totals["actual_usd"] == pytest.approx((12.0 + 30.0) * 5)
    text = render.text(report)
    # the estimate stands beside the actual of the same days, never the window's whole actual
    assert (
        f"ad revenue estimate ${estimate:,.2f} against actual ${compared:,.2f}, "
        f"error {100 * (estimate - compared) / compared:+.1f}%"
    ) in text
    assert "estimate $60.00 against actual ad $80.00, error -25.0%" in text
    page = render.html(report)
    assert f"against the actual ${compared:,.2f}" in page
    outcomes = "channels by outcome: 1 auth_revoked, 2 no_credentials"
    assert f"landing owner_reports: success; {outcomes}" in text


def test_titles_stay_data_in_the_owner_sections(report: DailyReport):
    page = render.html(report)
    owner_part = page[page.index('id="owner"') : page.index('id="quality"')]
    assert "<script>" not in owner_part
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in owner_part
    assert owner_part.count("<bdi>") == len(report.top_watch_time) + len(report.revenue_actuals)
    text = render.text(report)
    assert "\u2068$$$ MONEY $$$ second line\u2069" in text  # isolated, one line
    assert f"\u2068{CHANNELS['UC' + 'b' * 22]}\u2069" in text  # right-to-left, isolated


def test_a_window_without_owner_rows_says_why(owner_settings: Settings):
    later = DAY + timedelta(days=60)
    empty = gather(later, settings=owner_settings, freshness=False)
    assert (empty.watch_time, empty.revenue_actuals) == ([], [])
    assert empty.notes["watch_time"] == OWNER_EMPTY
    assert "revenue, actual vs estimated: " + OWNER_EMPTY in render.text(empty)
    assert OWNER_EMPTY in render.html(empty)
