"""The Analytics API lander against the simulated YouTube and the real PostgreSQL.

Revenue per channel-day and video-day lands as YouTube reports it, unsettled
days are fetched again until they settle (and only they), and a channel
outside the Partner Program or with a revoked grant is its own outcome.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from ingestion.youtube_owner.tokens import ANALYTICS_SCOPE, ChannelToken
from simulation.owner_model import owner_traits, settled_share, video_days, video_revenue
from tests.youtube_owner.conftest import at

DAY = date(2025, 2, 20)


def _channel_days(pg, channel: str) -> dict[date, tuple]:
    rows = pg.execute(
        "select day, views, estimated_revenue, is_settled from raw_youtube_analytics.channel_days "
        "where channel_id = %s",
        (channel,),
    ).fetchall()
    return {r[0]: r[1:] for r in rows}


def _monetized(own) -> list[str]:
    net = own.sim.network
    return [c.channel_id for c in net.channels if owner_traits(net, c.index).monetized]


def _expected(own, channel: str, day: date) -> tuple[int, float]:
    """(views, estimated revenue) of a channel-day as the model has them, at the simulator's now."""
    net = own.sim.network
    index = net.channel(channel).index
    share = settled_share(day, own.sim.now) or 0.0
    days = video_days(net, index, day)
    revenue = sum(video_revenue(net, index, vd, day).scaled(share).estimated_revenue for vd in days)
    return sum(v.views for v in days), revenue


def test_revenue_per_day_and_video_day_as_youtube_reports_it(owners, pg_admin):
    own = owners(channels=5, day=DAY)
    own.sim.set_now(at(DAY))
    run = own.analytics()
    assert run.status == "complete"
    channel = _monetized(own)[0]
    landed = _channel_days(pg_admin, channel)
    # 30 days back to yesterday, but YouTube has no row for the day before yet (< 24 h)
    assert min(landed) == DAY - timedelta(days=30)
    assert max(landed) == DAY - timedelta(days=2)
    for day, (views, revenue, settled) in landed.items():
        want_views, want_revenue = _expected(own, channel, day)
        assert views == want_views
        assert revenue == pytest.approx(want_revenue, abs=1e-3)
        assert settled == (settled_share(day, own.sim.now) == 1.0)
    unsettled = sorted(d for d, (*_, s) in landed.items() if not s)
    assert unsettled == [DAY - timedelta(days=3), DAY - timedelta(days=2)]
    videos = pg_admin.execute(
        "select day, count(*), sum(estimated_revenue), count(distinct video_id) "
        "from raw_youtube_analytics.video_days where channel_id = %s group by day",
        (channel,),
    ).fetchall()
    assert {v[0] for v in videos} == set(landed)
    for day, rows, revenue, distinct in videos:
        assert rows == distinct  # one row per video and day
        assert revenue <= landed[day][1] + 0.01  # the deleted videos' share is the channel's only


def test_unsettled_days_are_fetched_again_until_they_settle(owners, pg_admin):
    own = owners(channels=3, day=DAY)
    own.sim.set_now(at(DAY))
    own.analytics()
    channel = _monetized(own)[0]
    first = _channel_days(pg_admin, channel)
    unsettled = sorted(d for d, (*_, s) in first.items() if not s)
    calls = own.sim.owner.ledger.count("reports.query", channel)

    own.sim.set_now(at(DAY + timedelta(days=1)))
    own.analytics()
    second = _channel_days(pg_admin, channel)
    # the settled days are not asked for again: one day query, one top-videos query per day
    # that is still unsettled or new
    asked = own.sim.owner.ledger.count("reports.query", channel) - calls
    videos = dict(
        pg_admin.execute(
            "select day, count(*) from raw_youtube_analytics.video_days "
            "where channel_id = %s group by day",
            (channel,),
        ).fetchall()
    )
    pages = [videos.get(d, 0) // 200 + 1 for d in second if d >= unsettled[0]]
    assert asked == 1 + sum(pages)
    for day in unsettled:
        assert second[day][1] > first[day][1]  # the partial revenue grew
    for day in set(first) - set(unsettled):
        assert second[day] == first[day]

    own.sim.set_now(at(DAY + timedelta(days=4)))
    own.analytics()
    final = _channel_days(pg_admin, channel)
    assert all(final[day][2] for day in unsettled)  # settled now
    assert [d for d, (*_, s) in final.items() if not s] == [  # the days a few days old now
        DAY + timedelta(days=1),
        DAY + timedelta(days=2),
    ]
    for day in unsettled:
        assert final[day][1] == pytest.approx(_expected(own, channel, day)[1], abs=0.05)
    count = pg_admin.execute(
        "select count(*), count(distinct (channel_id, day)) "
        "from raw_youtube_analytics.channel_days "
        "where channel_id = %s",
        (channel,),
    ).fetchone()
    assert count[0] == count[1]


def test_not_monetized_and_revoked_channels_are_theirs_alone(owners, pg_admin):
    own = owners(channels=8, day=DAY)
    net = own.sim.network
    outside = [c.channel_id for c in net.channels if not owner_traits(net, c.index).monetized]
    earning = _monetized(own)
    revoked = earning[0]
    own.sim.owner.oauth.revoke(revoked)
    # one left the Partner Program after granting the monetary scope
    left = earning[1]
    own.sim.owner.monetized[left] = False
    # one earns but its owner granted yt-analytics.readonly only
    unscoped = earning[2]
    grant = own.sim.owner.oauth.grant(unscoped, monetary=False)
    own.store.put([ChannelToken(unscoped, grant, (ANALYTICS_SCOPE,))])
    outside.append(unscoped)
    own.sim.set_now(at(DAY))
    run = own.analytics()
    statuses = {c: [o.status for o in items] for c, items in run.outcomes.items()}
    assert statuses[revoked] == ["auth_revoked"]
    assert statuses[left] == ["not_monetized"]
    for channel in outside:
        assert statuses[channel] == ["not_monetized"]
    landed = {
        r[0]
        for r in pg_admin.execute(
            "select distinct channel_id from raw_youtube_analytics.channel_days "
            "where channel_id = any(%s)",
            (own.channels,),
        ).fetchall()
    }
    assert landed == set(earning[3:])
