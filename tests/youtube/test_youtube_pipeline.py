"""End to end: simulator -> collector -> dlt -> raw_youtube in the real test database."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from ingestion.load_failures import LoadRetriesExhausted
from ingestion.youtube.landing import run_day
from simulation import ids
from simulation.network import Network, day_end, iso_duration
from simulation.youtube import Fault, YouTubeSimulator
from tests.pg_faults import locked_ending_its_waiters
from tests.youtube.conftest import DAY1, channel_ids

TABLES = ("channel_snapshots", "video_snapshots", "videos", "playlist_items", "collection_runs")


def fingerprint(pg_admin, table: str) -> tuple[int, str]:
    """Row count and a digest of every column of every row (dlt's own columns included)."""
    row = pg_admin.execute(
        f"select count(*), coalesce(md5(string_agg(t::text, '|' order by t::text)), '') "
        f"from raw_youtube.{table} as t"
    ).fetchone()
    return row[0], row[1]


def rows(pg_admin, query: str, *params) -> list[tuple]:
    return pg_admin.execute(query, params).fetchall()


def test_daily_run_stays_within_310_units_and_lands_what_was_served(
    yt_settings, simulator, redis_prefix, tmp_path, pg_admin
):
    report = run_day(
        DAY1,
        channel_ids(250),
        settings=yt_settings,
        pipelines_dir=tmp_path,
        redis_prefix=redis_prefix,
    )

    assert report.status == "complete"
    assert simulator.ledger.used(DAY1) <= 310  # the simulator's own count
    assert simulator.ledger.calls("search.list") == 0
    assert report.units_used == simulator.ledger.used(DAY1)
    chans = channel_ids(250)
    count = "select count(*) from raw_youtube.{} where channel_id = any(%s)"
    assert rows(pg_admin, count.format("channel_snapshots"), chans)[0][0] == 250
    # the default network's two channels without uploads have no videos to snapshot
    no_uploads = [c.channel_id for c in simulator.network.channels if c.real_world.no_uploads]
    assert len(no_uploads) == 2
    assert rows(pg_admin, count.format("video_snapshots"), chans)[0][0] == 2480
    run = rows(
        pg_admin,
        "select status, quota_units_used, channels_collected, videos_collected, "
        "channels_failed, channel_issues "
        "from raw_youtube.collection_runs where collection_date = %s",
        DAY1,
    )
    issues = {c: {"status": "no_uploads", "reason": "videoCount is 0"} for c in no_uploads}
    assert run == [("complete", report.units_used, 250, 2480, 0, issues)]
    _assert_rows_match_network(pg_admin, simulator.network, DAY1)


def test_same_day_rerun_changes_nothing(yt_settings, simulator, redis_prefix, tmp_path, pg_admin):
    day = date(2025, 3, 1)
    simulator.set_day(day)
    kwargs = {"settings": yt_settings, "pipelines_dir": tmp_path, "redis_prefix": redis_prefix}
    run_day(day, channel_ids(250), **kwargs)
    before = {t: fingerprint(pg_admin, t) for t in TABLES}
    used = simulator.ledger.used()

    again = run_day(day, channel_ids(250), **kwargs)
    # a fresh working folder too: dlt restores its state from the destination
    fresh = run_day(day, channel_ids(250), **{**kwargs, "pipelines_dir": tmp_path / "fresh"})

    assert again.status == fresh.status == "nothing-to-do"
    assert simulator.ledger.used() == used
    assert {t: fingerprint(pg_admin, t) for t in TABLES} == before


def test_quota_cut_lands_what_it_had_and_next_day_fills_the_gap(
    settings, redis_prefix, tmp_path, pg_admin
):
    day1, day2 = date(2025, 2, 1), date(2025, 2, 2)
    network = Network(seed=7, channels=60)
    chans = [ids.channel_id(i, 7) for i in range(60)]
    with YouTubeSimulator(network, day=day1) as sim:
        yt = replace(settings, youtube_api_url=sim.url)
        kwargs = {
            "settings": yt,
            "pipelines_dir": tmp_path,
            "redis_prefix": redis_prefix,
            "pipeline_name": "youtube_cut",
        }
        # 1 channels.list, then the 30th playlistItems.list call is refused
        sim.inject(Fault(403, "quotaExceeded", method="playlistItems.list", after=29))
        cut = run_day(day1, chans, **kwargs)

        assert cut.status == "partial"
        assert "quotaExceeded" in (cut.error or "")
        assert sim.ledger.calls("playlistItems.list") == 30
        assert sim.ledger.calls("videos.list") == 0  # nothing after the refusal
        landed = rows(
            pg_admin,
            "select count(*) from raw_youtube.channel_snapshots where channel_id = any(%s)",
            chans,
        )
        assert landed[0][0] == 50  # the first block's channels.list answer was kept
        discovered = rows(
            pg_admin,
            "select count(distinct channel_id) from raw_youtube.playlist_items "
            "where channel_id = any(%s)",
            chans,
        )
        assert discovered[0][0] == 29
        assert rows(
            pg_admin,
            "select status, error is not null from raw_youtube.collection_runs "
            "where collection_date = %s",
            day1,
        ) == [("partial", True)]

        sim.set_day(day2)
        full = run_day(day2, chans, **kwargs)

    assert full.status == "complete"
    assert full.channels_collected == 60
    assert full.videos_collected == 600
    # no gap: every upload of days 1 and 2 of every channel is known
    expected = set()
    for ch in network.channels:
        for n in range(network.uploads(ch, day_end(day2))):
            video = network.video(ch.index, n)
            if video.published_at.date() >= day1:
                expected.add(video.video_id)
    landed_ids = {
        r[0]
        for r in rows(
            pg_admin,
            "select video_id from raw_youtube.playlist_items where channel_id = any(%s)",
            chans,
        )
    }
    assert expected <= landed_ids
    _assert_rows_match_network(pg_admin, network, day2, chans)


def _assert_rows_match_network(pg_admin, network: Network, day: date, chans=None) -> None:
    """Every snapshot of ``day`` equals what the simulator's model says it served."""
    as_of = day_end(day)
    chans = chans or [c.channel_id for c in network.channels]
    for channel_id, views, subs, videos, hidden, playlist in rows(
        pg_admin,
        "select channel_id, view_count, subscriber_count, video_count, hidden_subscriber_count, "
        "uploads_playlist_id from raw_youtube.channel_snapshots "
        "where collection_date = %s and channel_id = any(%s)",
        day,
        chans,
    ):
        ch = network.channel(channel_id)
        exp_views, exp_subs, exp_videos = network.channel_totals(ch, as_of)
        assert (views, videos, playlist) == (exp_views, exp_videos, ch.uploads_playlist_id)
        assert subs == (None if ch.hidden_subscriber_count else exp_subs)
        assert hidden == ch.hidden_subscriber_count
    snaps = rows(
        pg_admin,
        "select s.video_id, s.channel_id, s.view_count, s.like_count, s.comment_count, "
        "v.duration_seconds, v.duration_iso, v.published_at, v.tags "
        "from raw_youtube.video_snapshots as s join raw_youtube.videos as v using (video_id) "
        "where s.collection_date = %s and s.channel_id = any(%s)",
        day,
        chans,
    )
    assert len(snaps) == sum(min(10, network.uploads(network.channel(c), as_of)) for c in chans)
    for vid, channel_id, views, likes, comments, seconds, iso, published, tags in snaps:
        ch_index, n = network.locate(vid, as_of)
        video = network.video(ch_index, n)
        counters = network.counters(video, as_of)
        assert network.channels[ch_index].channel_id == channel_id
        # hidden likes and disabled comments land as NULL, never 0
        traits = network.channels[ch_index].real_world
        assert (views, likes, comments) == (
            counters.views,
            None if traits.hides_like_count else counters.likes,
            None if traits.comments_disabled else counters.comments,
        )
        if video.broadcast_content(as_of) == "none":
            assert (seconds, iso) == (video.duration_seconds, iso_duration(video.duration_seconds))
        else:
            assert (seconds, iso) == (None, "P0D")
        assert published == video.published_at
        assert tags == list(video.tags)
    # the refresh set is each channel's 10 newest uploads
    for channel_id in chans[:5]:
        ch = network.channel(channel_id)
        count = network.uploads(ch, as_of)
        newest = {network.video(ch.index, n).video_id for n in range(max(0, count - 10), count)}
        got = {
            r[0]
            for r in rows(
                pg_admin,
                "select video_id from raw_youtube.video_snapshots "
                "where collection_date = %s and channel_id = %s",
                day,
                channel_id,
            )
        }
        assert got == newest


def test_a_package_kept_by_a_stopped_load_lands_before_the_next_day_is_collected(
    settings, redis_prefix, tmp_path, pg_admin
):
    """Day 2's load fails on every retry; the day-3 run lands day 2's package, then day 3.

    Before, dlt's ``run()`` loaded the kept package *instead of* collecting
    day 3 and the run said "nothing-to-do": day 3's snapshots were never taken.
    """
    days = [date(2025, 4, 1), date(2025, 4, 2), date(2025, 4, 3)]
    chans = [ids.channel_id(i, 12) for i in range(10)]
    with YouTubeSimulator(Network(seed=12, channels=10), day=days[0]) as sim:
        kwargs = {
            "settings": replace(settings, youtube_api_url=sim.url),
            "pipelines_dir": tmp_path,
            "redis_prefix": redis_prefix,
            "pipeline_name": "youtube_kept",
        }
        run_day(days[0], chans, **kwargs)  # the tables exist
        sim.set_day(days[1])
        with (
            locked_ending_its_waiters(settings, "raw_youtube.channel_snapshots", "exclusive"),
            pytest.raises(LoadRetriesExhausted),
        ):
            run_day(days[1], chans, **kwargs)
        sim.set_day(days[2])
        report = run_day(days[2], chans, **kwargs)

    assert (report.status, report.channels_collected) == ("complete", 10)
    landed = rows(
        pg_admin,
        "select collection_date, count(*), count(distinct channel_id) "
        "from raw_youtube.channel_snapshots where channel_id = any(%s) group by 1 order by 1",
        chans,
    )
    assert landed == [(day, 10, 10) for day in days]
    runs = "select collection_date from raw_youtube.collection_runs where collection_date = any(%s)"
    assert sorted(r[0] for r in rows(pg_admin, runs, days)) == days
