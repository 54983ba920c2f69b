"""A snapshot that lands later than the lookback window reaches every model in the daily run.

The history up to day 5 is built, then day 6 by an ordinary incremental ``dbt
build``. Channel 1 is not collected on day 2: its channel and video snapshots
are missing, its platform events are not. Day 2's snapshots of channel 1 land
five days late, with day 7, when day 2 lies before the window (var
lookback_days, 3) of every incremental model. The next daily build must
give what a full refresh gives, for every incremental model; the channel's
daily views must sum to its counter's change (the issue's example: 6,000
summed against a change of 7,000 on main, the late day's own delta never
written); and the warehouse's own conservation tests, run by every ``dbt
build``, must fail when a fact loses a day.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulation import ids
from simulation.raw_history import NetworkSpec, land_days
from tests.conftest import own_database
from tests.dbt_models import incremental_models, relations_rows
from ytempire.clients import pg_connect
from ytempire.dbt_runner import run_dbt
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings

pytestmark = pytest.mark.services

SPEC = NetworkSpec(channels=3, videos_per_channel_per_day=1)
LATE_CHANNEL, LATE_DAY = 1, 2
LAST_DAY = 7  # the late snapshot lands with this day, 5 days late
CHANNEL = ids.channel_id(LATE_CHANNEL, SPEC.seed)


@pytest.fixture(scope="module")
def scenario(test_database: str) -> Iterator[Settings]:
    """A database of the scenario's own (the session database is built first: conftest)."""
    with own_database("late") as settings:
        yield settings


def _drop_late_snapshots(conn: Any) -> None:
    """Channel 1's day-2 snapshots were never collected (its events were)."""
    when = SPEC.day_date(LATE_DAY)
    for table in ("channel_snapshots", "video_snapshots"):
        conn.execute(
            f"delete from raw_youtube.{table} where channel_id = %s and collection_date = %s",
            (CHANNEL, when),
        )
    conn.commit()


@pytest.fixture(scope="module")
def built(scenario: Settings) -> dict[str, Any]:
    """Build the history, then the next day, then the day the late snapshot lands."""
    models = incremental_models()
    with pg_connect("loader", settings=scenario) as conn:
        land_days(conn, SPEC, 0, LAST_DAY - 2)
        _drop_late_snapshots(conn)
        run_dbt("build")
        land_days(conn, SPEC, LAST_DAY - 1, LAST_DAY - 1)
        run_dbt("build")  # a daily run: day 2 of channel 1 is still missing
        others = [(index, LATE_DAY) for index in range(SPEC.channels) if index != LATE_CHANNEL]
        land_days(
            conn,
            SPEC,
            LATE_DAY,
            LATE_DAY,
            skip=others,
            load_number=1,
            lateness_days=LAST_DAY - LATE_DAY,
        )
        land_days(conn, SPEC, LAST_DAY, LAST_DAY)
    result = run_dbt("build")  # the daily run the late snapshot lands before
    return {
        "models": models,
        "results": {r.node.name: str(r.status) for r in result.result.results},
        "incremental": relations_rows(scenario, models),
    }


def _query(settings: Settings, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with pg_connect("transformer", settings=settings) as conn:
        return conn.execute(sql, params or None).fetchall()


def test_channel_views_sum_to_the_counters_change(
    built: dict[str, Any], scenario: Settings
) -> None:
    ((summed, change),) = _query(
        scenario,
        "select (select sum(views_daily) from marts.fct_channel_daily_metrics"
        "  where channel_id = %s),"
        " (select max(view_count) - min(view_count) from raw_youtube.channel_snapshots"
        "  where channel_id = %s)",
        CHANNEL,
        CHANNEL,
    )
    assert summed == change  # the channel's first day is its baseline (0)


def test_the_late_day_reaches_both_facts(built: dict[str, Any], scenario: Settings) -> None:
    late, next_day = SPEC.day_date(LATE_DAY), SPEC.day_date(LATE_DAY + 1)
    channel_days = dict(
        _query(
            scenario,
            "select metric_date, days_since_previous from marts.fct_channel_daily_metrics"
            " where channel_id = %s and metric_date in (%s, %s)",
            CHANNEL,
            late,
            next_day,
        )
    )
    assert channel_days == {late: 1, next_day: 1}
    ((video_rows, raw_rows),) = _query(
        scenario,
        "select (select count(*) from marts.fct_video_daily_metrics"
        "  where channel_id = %s and metric_date = %s),"
        " (select count(*) from raw_youtube.video_snapshots"
        "  where channel_id = %s and collection_date = %s)",
        CHANNEL,
        late,
        CHANNEL,
        late,
    )
    assert video_rows == raw_rows > 0


def test_conservation_tests_ran_in_the_daily_build(built: dict[str, Any]) -> None:
    conserved = {name: status for name, status in built["results"].items() if "conserv" in name}
    assert len(conserved) >= 2, built["results"]  # one per fact, at least
    assert set(conserved.values()) == {"pass"}


def test_each_incremental_model_equals_its_full_refresh(
    built: dict[str, Any], scenario: Settings
) -> None:
    run_dbt("build", "--full-refresh")
    refreshed = relations_rows(scenario, built["models"])
    assert [name for name in built["models"] if refreshed[name] != built["incremental"][name]] == []


@pytest.mark.parametrize("fact", ["fct_channel_daily_metrics", "fct_video_daily_metrics"])
def test_a_fact_that_loses_a_day_fails_its_conservation_test(
    built: dict[str, Any], scenario: Settings, fact: str
) -> None:
    """The test can be false: without day 2, day 3's delta no longer follows from the counters."""
    with pg_connect("transformer", settings=scenario) as conn:
        conn.execute(
            f"delete from marts.{fact} where channel_id = %s and metric_date = %s",
            (CHANNEL, SPEC.day_date(LATE_DAY)),
        )
        conn.execute(f"update marts.{fact} set built_at = now()")
        conn.commit()
    try:
        with pytest.raises(YTEmpireError, match="failed"):
            run_dbt("test", "--select", f"{fact},test_name:counters_conserved")
    finally:
        run_dbt("build", "--select", f"{fact}+", "--full-refresh")


@pytest.mark.parametrize(
    "model", ["int_channel_snapshots_differenced", "int_video_snapshots_differenced"]
)
def test_a_late_snapshot_left_out_fails_its_guard_and_the_documented_command_heals_it(
    built: dict[str, Any], scenario: Settings, model: str
) -> None:
    """The guard can be false: the late load's rows gone from the model fail
    every_landed_snapshot_built, and the command the docs name (late_snapshots)
    rebuilds them."""
    relation = built["models"][model]
    with pg_connect("transformer", settings=scenario) as conn:
        gone = conn.execute(
            f"delete from {relation} where channel_id = %s and collection_date = %s",
            (CHANNEL, SPEC.day_date(LATE_DAY)),
        ).rowcount
        conn.execute(f"update {relation} set built_at = now()")  # as if the newest build left it
        conn.commit()
    assert gone > 0
    guard = ("test", "--select", f"{model},test_name:every_landed_snapshot_built")
    try:
        with pytest.raises(YTEmpireError, match="failed"):
            run_dbt(*guard)
    finally:
        run_dbt("build", "--select", f"{model}+", "--full-refresh")
    run_dbt(*guard)
    assert relations_rows(scenario, {model: relation}) == {model: built["incremental"][model]}
