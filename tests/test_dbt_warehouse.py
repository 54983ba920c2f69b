"""The dbt warehouse end to end on a simulated network, against the test database.

One module-scoped scenario lands several days of raw data with the anomalies
the marts must handle -- a missing day (channel 1, day 3), a late snapshot
(channel 2's day 4 lands after day 5 was built), a restatement (channel 0's
views go down on day 5) -- building incrementally after each landing. The
tests then check the numbers against the raw counters, the second run, a
full refresh, the docs site and the analyst's privileges.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from simulation import ids
from simulation.raw_history import NetworkSpec, land_days, restate_channel_views
from tests.conftest import own_database
from ytempire.clients import pg_connect
from ytempire.dbt_runner import run_dbt, target_dir
from ytempire.settings import Settings
from ytempire_cli.warehouse import ANALYST_VIEWS

pytestmark = pytest.mark.services

SPEC = NetworkSpec(channels=6, videos_per_channel_per_day=2)
MISSING = (1, 3)  # (channel, day) never collected
LATE = (2, 4)  # (channel, day) collected two days late
RESTATED = (0, 5)  # (channel, day) whose view count goes down
MARTS = (
    "fct_channel_daily_metrics",
    "fct_video_daily_metrics",
    "fct_revenue_estimates",
    "fct_video_lifecycle",
    "dim_videos",
    *ANALYST_VIEWS,
)


def _relation_rows(conn: psycopg.Connection[Any], relation: str) -> list[tuple[Any, ...]]:
    """The relation's rows without built_at: when a row was written, not what it says."""
    cursor = conn.execute(f"select * from {relation}")
    names = [column.name for column in cursor.description or []]
    kept = [index for index, name in enumerate(names) if name != "built_at"]
    return sorted((tuple(row[index] for index in kept) for row in cursor), key=repr)


def _marts(dbt_settings: Settings) -> dict[str, list[tuple[Any, ...]]]:
    with pg_connect("transformer", settings=dbt_settings) as conn:
        conn.execute("set search_path = marts, marts_internal")
        return {name: _relation_rows(conn, name) for name in MARTS}


@pytest.fixture(scope="module")
def dbt_settings(test_database: str) -> Iterator[Settings]:
    """A database of the scenario's own: the landers' tests fill the session's raw tables."""
    with own_database("dbt") as scenario:
        yield scenario


@pytest.fixture(scope="module")
def built(dbt_settings: Settings) -> dict[str, Any]:
    """Land and build day by day; return the marts after each stage."""
    stages: dict[str, Any] = {}
    with pg_connect("loader", settings=dbt_settings) as conn:
        land_days(conn, SPEC, 0, 4, skip=[MISSING, LATE])
        run_dbt("build")
        land_days(conn, SPEC, 5, 5)
        restate_channel_views(conn, SPEC, *RESTATED, removed=50_000)
        run_dbt("build")
        land_days(conn, SPEC, LATE[1], LATE[1], load_number=1, lateness_days=2)
        land_days(conn, SPEC, 6, 6)
        run_dbt("build")
    stages["incremental"] = _marts(dbt_settings)
    stages["stamps"] = _newest_stamps(dbt_settings)
    run_dbt("build")
    stages["second_run"] = _marts(dbt_settings)
    stages["second_run_stamps"] = _newest_stamps(dbt_settings)
    return stages


def _newest_stamps(dbt_settings: Settings) -> list[tuple[Any, ...]]:
    """The newest built_at of each stamped model: it moves only when the model rewrites rows."""
    with pg_connect("transformer", settings=dbt_settings) as conn:
        return [
            conn.execute(f"select max(built_at) from {relation}").fetchone() or (None,)
            for relation in (
                "intermediate.int_video_snapshots_differenced",
                "intermediate.int_video_shares_differenced",
                "marts.fct_video_daily_metrics",
            )
        ]


def _channel_days(dbt_settings: Settings, channel_index: int) -> dict[int, dict[str, Any]]:
    with pg_connect("transformer", settings=dbt_settings) as conn, conn.cursor() as cur:
        cur.execute(
            "select (metric_date - %s)::int as day, days_since_previous, views_daily, "
            "subscribers_daily, is_restated, revenue_estimate_usd, tracked_revenue_usd, "
            "untracked_revenue_usd "
            "from marts.fct_channel_daily_metrics where channel_id = %s",
            (SPEC.start_date, ids.channel_id(channel_index, SPEC.seed)),
        )
        names = [c.name for c in cur.description or []]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}


def test_build_passes_and_second_run_changes_nothing(built: dict[str, Any]) -> None:
    assert built["incremental"]["fct_channel_daily_metrics"], "no channel-day rows were built"
    assert built["second_run"] == built["incremental"]


def test_second_run_rewrites_no_stamped_rows(built: dict[str, Any]) -> None:
    """With nothing landed, the stamped models find no changed day and write nothing."""
    assert all(stamp is not None for (stamp,) in built["stamps"])
    assert built["second_run_stamps"] == built["stamps"]


def test_channel_deltas_sum_to_counter_differences_for_every_channel_and_day(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    # Running sums of the daily deltas against the raw cumulative counters:
    # with signed deltas they telescope to (counter on the day - first counter).
    query = """
        with raw as (
            select channel_id, collection_date, view_count, subscriber_count,
                first_value(view_count) over by_channel as first_views,
                first_value(subscriber_count) over by_channel as first_subscribers
            from raw_youtube.channel_snapshots
            window by_channel as (partition by channel_id order by collection_date)
        ),
        summed as (
            select channel_id, metric_date,
                sum(views_daily) over by_channel as views_sum,
                sum(subscribers_daily) over by_channel as subscribers_sum
            from marts.fct_channel_daily_metrics
            window by_channel as (partition by channel_id order by metric_date)
        )
        select raw.channel_id, raw.collection_date,
            raw.view_count - raw.first_views, summed.views_sum,
            raw.subscriber_count - raw.first_subscribers, summed.subscribers_sum
        from raw
        full outer join summed
            on raw.channel_id = summed.channel_id and raw.collection_date = summed.metric_date
    """
    with pg_connect("transformer", settings=dbt_settings) as conn:
        rows = conn.execute(query).fetchall()
    assert len(rows) == SPEC.channels * 7 - 1  # one channel-day was never collected
    mismatches = [r for r in rows if r[2] != r[3] or r[4] != r[5]]
    assert mismatches == []


def test_video_deltas_sum_to_counters_per_channel_and_day(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    # Every video was published inside the period, so it counts from zero: the
    # running sum of its channel's daily deltas equals the sum of the counters.
    query = """
        with raw as (
            select channel_id, collection_date,
                sum(view_count) as views, sum(like_count) as likes,
                sum(comment_count) as comments
            from raw_youtube.video_snapshots group by 1, 2
        ),
        deltas as (
            select channel_id, metric_date,
                sum(views_daily) as views, sum(likes_daily) as likes,
                sum(comments_daily) as comments
            from marts.fct_video_daily_metrics group by 1, 2
        ),
        running as (
            select channel_id, metric_date,
                sum(views) over by_channel as views,
                sum(likes) over by_channel as likes,
                sum(comments) over by_channel as comments
            from deltas
            window by_channel as (partition by channel_id order by metric_date)
        )
        select raw.channel_id, raw.collection_date
        from raw
        inner join running
            on raw.channel_id = running.channel_id
            and raw.collection_date = running.metric_date
        where (raw.views, raw.likes, raw.comments)
            is distinct from (running.views, running.likes, running.comments)
    """
    with pg_connect("transformer", settings=dbt_settings) as conn:
        assert conn.execute(query).fetchall() == []
        compared = conn.execute(
            "select count(distinct (channel_id, metric_date)) from marts.fct_video_daily_metrics"
        ).fetchone()
    assert compared is not None
    assert compared[0] == SPEC.channels * 7 - 1


def test_missing_day_is_attributed_to_the_next_observed_day(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    channel, day = MISSING
    days = _channel_days(dbt_settings, channel)
    assert day not in days
    assert days[day + 1]["days_since_previous"] == 2


def test_late_snapshot_is_picked_up_by_the_incremental_run(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    channel, day = LATE
    days = _channel_days(dbt_settings, channel)
    assert days[day]["days_since_previous"] == 1
    assert days[day + 1]["days_since_previous"] == 1  # recomputed against the late day


def test_restatement_gives_a_negative_flagged_delta_and_no_negative_revenue(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    channel, day = RESTATED
    days = _channel_days(dbt_settings, channel)
    assert days[day]["is_restated"] is True
    assert days[day]["views_daily"] < 0
    # The lost views earn nothing back: the catalog's share is 0, not negative,
    # and the day's revenue is its tracked videos' own.
    assert days[day]["untracked_revenue_usd"] == 0
    assert days[day]["revenue_estimate_usd"] == days[day]["tracked_revenue_usd"] >= 0
    assert days[day + 1]["views_daily"] > 0  # the counter recovers the next day
    assert not any(d["is_restated"] for other, d in days.items() if other != day)


def test_full_refresh_equals_the_incremental_path(
    built: dict[str, Any], dbt_settings: Settings
) -> None:
    run_dbt("build", "--full-refresh")
    assert _marts(dbt_settings) == built["incremental"]


def test_docs_generate_succeeds(built: dict[str, Any]) -> None:

    run_dbt("docs generate")
    assert (target_dir() / "catalog.json").stat().st_size > 0


def test_docs_site_describes_every_macro_and_its_arguments() -> None:
    """Each of the project's macros has a description and each argument one (macros yml)."""

    run_dbt("parse")
    manifest = json.loads((target_dir() / "manifest.json").read_text())
    macros = [m for m in manifest["macros"].values() if m["package_name"] == "ytempire"]
    undocumented = [macro["name"] for macro in macros if not macro["description"].strip()]
    undocumented += [
        f"{macro['name']}({argument['name']})"
        for macro in macros
        if not macro["name"].startswith("materialization_")  # its arguments are dbt's
        for argument in macro["arguments"]
        if not (argument.get("description") or "").strip()
    ]
    assert len(macros) > 30
    assert undocumented == []


@pytest.mark.parametrize("view", ANALYST_VIEWS)
def test_analyst_can_read_each_materialized_view(
    built: dict[str, Any], dbt_settings: Settings, view: str
) -> None:
    with pg_connect("analyst", settings=dbt_settings) as conn:
        row = conn.execute(f"select count(*) from marts.{view}").fetchone()
    assert row is not None
    assert row[0] > 0


@pytest.mark.parametrize(
    "relation",
    [
        "marts_internal.fct_video_settled_totals",
        "marts_internal.fct_revenue_estimates",
        "marts_internal.fct_video_lifecycle",
        "intermediate.int_video_snapshots_differenced",
        "staging.stg_youtube__channel_snapshots",
        "seeds.channel_cpm_overrides",
        "snapshots.snap_channels",
        "raw_youtube.channel_snapshots",
    ],
)
def test_analyst_cannot_read_internal_marts_or_anything_upstream(
    built: dict[str, Any], dbt_settings: Settings, relation: str
) -> None:
    with (
        pg_connect("analyst", settings=dbt_settings) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(f"select 1 from {relation} limit 1")
