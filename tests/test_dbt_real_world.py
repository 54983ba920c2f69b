"""Real-world YouTube values through the dbt warehouse (issue 15, items 2 and 4).

One module-scoped scenario lands four days of a small simulated network and
builds incrementally after each day, with values real channels send:

- a video whose likes and comments disappear for a day (likes hidden,
  comments turned off) while its views go down the day after;
- a channel whose subscriber count is hidden for two days, once omitted and
  once sent as a placeholder 0 next to ``hiddenSubscriberCount``;
- a 12-second Short, a 3-hour live replay, a live stream and an upcoming
  premiere (``P0D``), and a zero duration without a broadcast state;
- a raw table without the ``live_broadcast_content`` column for the first
  builds (a database landed before the YouTube lander declared it).

Then a full refresh of ``dim_videos+`` whose test fails must leave the
analyst views readable with their last good rows, and a counter column that
dlt never created must build as unknown.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from simulation import ids
from simulation.raw_history import NetworkSpec, land_days
from tests.conftest import own_database
from ytempire.clients import pg_connect
from ytempire.dbt_runner import run_dbt
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings
from ytempire_cli.warehouse import ANALYST_VIEWS

pytestmark = pytest.mark.services

SPEC = NetworkSpec(channels=2, videos_per_channel_per_day=1)
HIDDEN = ids.youtube_video_id(0, 0, SPEC.seed)  # the video, published on day 0
# (day, views, likes, comments): the days 1-3 after a first day.
HIDDEN_COUNTERS = ((0, 400, 200, 10), (1, 1000, 500, 40), (2, 1100, None, None), (3, 900, 520, 41))
CHANNEL = ids.channel_id(1, SPEC.seed)  # hides its subscriber count on days 1 and 2
# (channel, upload): the YouTube durations and broadcast states of five videos.
DURATIONS = {
    (1, 0): ("PT12S", 12, "none"),
    (1, 1): ("PT3H", 10_800, "none"),
    (0, 1): ("P0D", 0, "live"),
    (0, 2): ("P0D", 0, "upcoming"),
    (1, 2): ("PT0S", 0, None),
}


def _set_hidden_counters(conn: psycopg.Connection[Any], day: int) -> None:
    for number, views, likes, comments in HIDDEN_COUNTERS:
        if number == day:
            conn.execute(
                "update raw_youtube.video_snapshots set view_count = %s, like_count = %s, "
                "comment_count = %s where video_id = %s and collection_date = %s",
                (views, likes, comments, HIDDEN, SPEC.day_date(day)),
            )
    if day == 1:  # omitted, as the API does for a hidden count
        conn.execute(
            "update raw_youtube.channel_snapshots set subscriber_count = null, "
            "hidden_subscriber_count = true where channel_id = %s and collection_date = %s",
            (CHANNEL, SPEC.day_date(day)),
        )
    if day == 2:  # a placeholder 0 next to the flag
        conn.execute(
            "update raw_youtube.channel_snapshots set subscriber_count = 0, "
            "hidden_subscriber_count = true where channel_id = %s and collection_date = %s",
            (CHANNEL, SPEC.day_date(day)),
        )
    conn.commit()


def _set_durations(conn: psycopg.Connection[Any]) -> None:
    conn.execute("alter table raw_youtube.videos add column live_broadcast_content varchar")
    for (channel, upload), (iso, seconds, state) in DURATIONS.items():
        conn.execute(
            "update raw_youtube.videos set duration_iso = %s, duration_seconds = %s, "
            "live_broadcast_content = %s where video_id = %s",
            (iso, seconds, state, ids.youtube_video_id(channel, upload, SPEC.seed)),
        )
    conn.commit()


def _rows(dbt_settings: Settings, role: str, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with pg_connect(role, settings=dbt_settings) as conn:
        return conn.execute(query, params or None).fetchall()


def _analyst_views(dbt_settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    return {
        view: sorted(_rows(dbt_settings, "analyst", f"select * from marts.{view}"), key=repr)
        for view in ANALYST_VIEWS
    }


def _warehouse(dbt_settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    tables = ("fct_video_daily_metrics", "fct_channel_daily_metrics", "dim_videos")
    return {
        table: sorted(
            _rows(
                dbt_settings,
                "transformer",
                # Every column but built_at, the build's own time (the facts carry it).
                "select to_jsonb(t) - 'built_at' from marts." + table + " as t",
            ),
            key=repr,
        )
        for table in tables
    } | _analyst_views(dbt_settings)


@pytest.fixture(scope="module")
def dbt_settings(test_database: str) -> Iterator[Settings]:
    """A database of the scenario's own: the landers' tests fill the session's raw tables."""
    with own_database("dbt_real_world") as scenario:
        yield scenario


@pytest.fixture(scope="module")
def built(dbt_settings: Settings) -> dict[str, Any]:
    """Land and build day by day (incremental runs); return what the last build said."""
    with pg_connect("loader", settings=dbt_settings) as conn:
        for day in range(4):
            land_days(conn, SPEC, day, day)
            if day == 0:  # the older table: no live_broadcast_content yet
                conn.execute("alter table raw_youtube.videos drop column live_broadcast_content")
                conn.commit()
            _set_hidden_counters(conn, day)
            if day == 3:
                _set_durations(conn)
            result = run_dbt("build")
    return {
        "results": {r.node.name: r for r in result.result.results},
        "incremental": _warehouse(dbt_settings),
    }


def _video_days(dbt_settings: Settings) -> dict[int, tuple[Any, ...]]:
    rows = _rows(
        dbt_settings,
        "transformer",
        "select (metric_date - %s)::int, views_daily, likes_daily, comments_daily, "
        "is_restated, unknown_inputs, engagement_rate_pct, revenue_estimate_usd "
        "from marts.fct_video_daily_metrics where video_id = %s",
        SPEC.start_date,
        HIDDEN,
    )
    return {row[0]: row[1:] for row in rows}


def test_hidden_likes_and_comments_are_unknown_then_measured_from_the_last_known(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    days = _video_days(dbt_settings)
    # views, likes, comments, is_restated, unknown_inputs on days 2 and 3
    assert days[2][:5] == (100, None, None, False, ["likes", "comments"])
    assert days[3][:5] == (-200, 20, 1, True, [])  # views 1100 -> 900: a restatement
    assert days[1][:5] == (600, 300, 30, False, [])


def test_deltas_of_a_hidden_counter_still_sum_to_its_change(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    ((likes, comments),) = _rows(
        dbt_settings,
        "transformer",
        "select sum(likes_daily), sum(comments_daily) from marts.fct_video_daily_metrics "
        "where video_id = %s",
        HIDDEN,
    )
    assert (likes, comments) == (520, 41)  # counted from zero on day 0


def test_engagement_and_revenue_use_the_known_inputs_and_name_the_unknown(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    ((shares, engagement, revenue, cpm),) = _rows(
        dbt_settings,
        "transformer",
        "select shares_daily, engagement_rate_pct, revenue_estimate_usd, cpm_usd "
        "from marts.fct_video_daily_metrics where video_id = %s and metric_date = %s",
        HIDDEN,
        SPEC.day_date(2),
    )
    # Day 2: 100 views, likes and comments unknown -> (0 + 0 + shares) / 100 x 100.
    assert engagement == Decimal(shares)
    # 100 billable views at the channel's CPM, plus 10% affiliate.
    assert revenue == round(Decimal("0.1") * cpm * Decimal("1.1"), 2)
    assert revenue > 0


def test_channel_grain_names_videos_with_hidden_counters(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    rows = _rows(
        dbt_settings,
        "transformer",
        "select (metric_date - %s)::int, unknown_inputs from marts.fct_channel_daily_metrics "
        "where channel_id = %s order by 1",
        SPEC.start_date,
        ids.channel_id(0, SPEC.seed),
    )
    assert rows == [(0, []), (1, []), (2, ["likes", "comments"]), (3, [])]


def test_hidden_subscriber_count_is_unknown_never_zero(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    raw = dict(
        _rows(
            dbt_settings,
            "transformer",
            "select (collection_date - %s)::int, subscriber_count "
            "from raw_youtube.channel_snapshots where channel_id = %s",
            SPEC.start_date,
            CHANNEL,
        )
    )
    rows = _rows(
        dbt_settings,
        "transformer",
        "select (metric_date - %s)::int, subscribers, subscribers_daily, subscriber_growth_pct, "
        "unknown_inputs, is_restated from marts.fct_channel_daily_metrics "
        "where channel_id = %s order by 1",
        SPEC.start_date,
        CHANNEL,
    )
    by_day = {row[0]: row[1:] for row in rows}
    assert by_day[1] == (None, None, None, ["subscribers"], False)
    assert by_day[2] == (None, None, None, ["subscribers"], False)  # the placeholder 0 too
    assert by_day[3][1] == raw[3] - raw[0]  # measured from day 0, the last known
    assert by_day[3][3:] == ([], False)


def test_incremental_path_equals_a_full_refresh(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    run_dbt("build", "--full-refresh")
    assert _warehouse(dbt_settings) == built["incremental"]


def test_real_durations_and_broadcasts_are_flagged_and_the_build_goes_on(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    rows = dict(
        (row[0], row[1:])
        for row in _rows(
            dbt_settings,
            "transformer",
            "select video_id, duration_seconds, live_broadcast_content, duration_status "
            "from marts.dim_videos",
        )
    )
    expected = {
        (1, 0): (12, "none", "short"),
        (1, 1): (10_800, "none", "long"),
        (0, 1): (None, "live", "live"),
        (0, 2): (None, "upcoming", "upcoming"),
        (1, 2): (None, None, "unknown"),
    }
    for (channel, upload), values in expected.items():
        assert rows.pop(ids.youtube_video_id(channel, upload, SPEC.seed)) == values
    assert {status for _, _, status in rows.values()} == {"in_range"}
    flagged = built["results"]["dim_videos_duration_outside_platform_range"]
    assert (str(flagged.status), flagged.failures) == ("warn", 3)  # short, long, unknown
    analyst = _analyst_views(dbt_settings)["mv_video_analytics"]
    assert len(analyst) == SPEC.channels * 4  # every video, the flagged ones included


def _retired(dbt_settings: Settings) -> list[tuple[Any, ...]]:
    return _rows(
        dbt_settings,
        "transformer",
        "select relname from pg_class where relname like '%\\_\\_dbt\\_retired\\_%'",
    )


def test_a_failed_full_refresh_leaves_the_last_good_analyst_views_readable(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    before = _analyst_views(dbt_settings)
    with pg_connect("loader", settings=dbt_settings) as conn:
        conn.execute(  # an id dim_videos' test rejects: the view's build is skipped
            "insert into raw_youtube.videos (video_id, channel_id, first_seen_date, "
            "_dlt_load_id, _dlt_id) select 'not a valid id', channel_id, first_seen_date, "
            "_dlt_load_id, 'bad' from raw_youtube.videos where video_id = %s",
            (HIDDEN,),
        )
        conn.commit()
    with pytest.raises(YTEmpireError, match="failed"):
        run_dbt("build", "--full-refresh", "-s", "dim_videos+")
    assert _analyst_views(dbt_settings) == before  # readable, and the last good rows
    # The old dim_videos, kept while the view that still reads it was not rebuilt.
    ((retired,),) = _retired(dbt_settings)
    assert retired.startswith("dim_videos__dbt_retired_")

    with pg_connect("loader", settings=dbt_settings) as conn:
        conn.execute("delete from raw_youtube.videos where video_id = 'not a valid id'")
        conn.commit()
    run_dbt("build", "--full-refresh", "-s", "dim_videos+")
    assert _analyst_views(dbt_settings) == before
    assert _retired(dbt_settings) == []  # freed once the view was rebuilt


def test_a_counter_column_dlt_never_created_builds_as_unknown(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    # A raw table whose loads never brought a comment count: no column at all.
    with pg_connect("transformer", settings=dbt_settings) as conn:
        conn.execute("drop view staging.stg_youtube__video_snapshots")
        conn.commit()
    with pg_connect("loader", settings=dbt_settings) as conn:
        conn.execute("alter table raw_youtube.video_snapshots drop column comment_count")
        conn.commit()
    run_dbt("build", "--full-refresh")
    ((known, total),) = _rows(
        dbt_settings,
        "transformer",
        "select count(comments_daily), count(*) from marts.fct_video_daily_metrics",
    )
    assert known == 0
    assert total > 0
    assert all(_analyst_views(dbt_settings).values())
