"""Great Expectations checkpoints against the real PostgreSQL, Redis and Kafka.

One module-scoped scenario lands a simulated network and builds the marts with
dbt in a database of its own (the good batch), then crafts copies of the
validated tables with one bad row per expectation and points the suites at
them: every rule must fail on its row, and the stored result and the alert
must name the rule and the row.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from expectations.checkpoints import RUN_DAY_GRAINS, ValidationFailed, validate
from simulation.raw_history import NetworkSpec, land_days
from tests.conftest import own_database
from ytempire.clients import pg_connect, redis_client
from ytempire.dbt_runner import run_dbt
from ytempire.settings import Settings

SPEC = NetworkSpec(channels=4, videos_per_channel_per_day=2)
LAST_DAY = 9
RUN_DATE = SPEC.day_date(LAST_DAY)


@pytest.fixture(scope="module")
def gx_settings() -> Iterator[Settings]:
    """A database of the scenario's own, landed and built once."""
    with own_database("gx") as scenario:
        with pg_connect("loader", settings=scenario) as conn:
            land_days(conn, SPEC, 0, LAST_DAY)
        run_dbt("build")
        yield scenario


def _stored(settings: Settings, run_id: str) -> list[tuple[Any, ...]]:
    with pg_connect("loader", settings=settings) as conn:
        return conn.execute(
            "select suite_name, expectation_type, column_name, success, unexpected_rows "
            "from analytics.validation_results where run_id = %s order by suite_name, "
            "expectation_index",
            (run_id,),
        ).fetchall()


@pytest.mark.slow
def test_a_good_batch_passes_every_suite(gx_settings, new_topic, read_topic, redis_prefix):
    topic = new_topic("alerts")
    for checkpoint in ("raw", "marts"):
        run = validate(
            checkpoint,
            RUN_DATE,
            settings=gx_settings,
            alerts_topic=topic,
            redis_prefix=redis_prefix,
        )
        assert run.success, [
            (o.suite_name, o.expectation_type, o.exception_message, o.unexpected_rows[:2])
            for o in run.failed
        ]
        stored = _stored(gx_settings, run.run_id)
        assert len(stored) == len(run.outcomes) > 0
        assert all(success for _, _, _, success, _ in stored)
    assert read_topic(topic) == []
    summary = redis_client(settings=gx_settings).hgetall(
        f"{redis_prefix}quality:validation:{RUN_DATE.isoformat()}"
    )
    assert set(summary) == {
        "raw:raw_youtube_landing",
        "raw:raw_events_landing",
        "raw:raw_youtube_videos",
        "raw:video_data_quality",
        "raw:channel_data_quality",
        "marts:marts_channel_daily",
        "marts:marts_dim_videos",
        "marts:marts_run_day",
    }
    assert all(json.loads(v)["failed"] == 0 for v in summary.values())
    with pg_connect("loader", settings=gx_settings) as conn:
        stages = conn.execute(
            "select stage, status from analytics.pipeline_stage_runs where run_date = %s "
            "order by stage",
            (RUN_DATE,),
        ).fetchall()
    assert stages == [("validation_marts", "success"), ("validation_raw", "success")]
    assert run.docs_index is not None
    assert run.docs_index.exists()


@pytest.mark.slow
def test_a_run_day_without_rows_fails_the_marts_gate_at_every_grain(
    gx_settings, new_topic, read_topic, redis_prefix
):
    """The day after the last landing: every table holds rows, none of them the run day's."""
    topic = new_topic("alerts")
    with pytest.raises(ValidationFailed) as failure:
        validate(
            "marts",
            RUN_DATE + timedelta(days=1),
            settings=gx_settings,
            alerts_topic=topic,
            redis_prefix=redis_prefix,
        )
    [missing] = failure.value.run.failed  # the whole-table rules still pass
    assert (missing.suite_name, missing.expectation_type, missing.column) == (
        "marts_run_day",
        "expect_column_values_to_be_between",
        "day_rows",
    )
    assert {row["relation"] for row in missing.unexpected_rows} == set(RUN_DAY_GRAINS)
    [alert] = read_topic(topic)
    assert {row["relation"] for row in alert["unexpected_rows"]} == set(RUN_DAY_GRAINS)


# --- crafted bad rows ---------------------------------------------------------------------

CRAFTED = "crafted_gx"


def _copy(conn: Any, relation: str) -> str:
    """A constraint-free copy of ``relation`` with its rows, in the crafted schema."""
    table = f"{CRAFTED}.{relation.replace('.', '__')}"
    conn.execute(f"create table {table} as select * from {relation}")
    return table


def _insert(conn: Any, table: str, row: dict[str, Any]) -> None:
    columns = ", ".join(row)
    marks = ", ".join(["%s"] * len(row))
    conn.execute(f"insert into {table} ({columns}) values ({marks})", list(row.values()))


def _good_row(conn: Any, table: str) -> dict[str, Any]:
    cursor = conn.execute(f"select * from {table} limit 1")
    names = [c.name for c in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def _bad_youtube_id(n: int) -> str:
    return f"bad{n:08d}"


@pytest.fixture(scope="module")
def crafted(gx_settings) -> dict[str, Any]:
    """Copies of the validated tables plus one bad row per expectation; returns the plan."""
    plan: dict[str, Any] = {"relations": {}, "cases": []}
    with pg_connect("admin", autocommit=True, settings=gx_settings) as conn:
        conn.execute(f"drop schema if exists {CRAFTED} cascade")
        conn.execute(f"create schema {CRAFTED}")
        # video_data_quality: one row per rule, each breaking that rule only.
        videos = _copy(conn, "ytempire.videos")
        plan["relations"]["ytempire.videos"] = videos
        good = _good_row(conn, videos)
        cases = [
            ("expect_column_values_to_not_be_null", "video_id", {"video_id": None}),
            ("expect_column_values_to_not_be_null", "channel_id", {"channel_id": None}),
            (
                "expect_column_values_to_match_regex",
                "youtube_video_id",
                {"youtube_video_id": "not a video id"},
            ),
            ("expect_column_values_to_be_in_set", "status", {"status": "deleted"}),
            ("expect_column_values_to_be_between", "quality_score", {"quality_score": 101}),
            (
                "expect_column_values_to_be_between",
                "generation_cost_usd",
                {"generation_cost_usd": 3.5},
            ),
            ("expect_column_values_to_be_between", "duration_seconds", {"duration_seconds": 29}),
        ]
        for n, (rule, column, override) in enumerate(cases):
            row = {
                **good,
                "video_id": uuid.uuid4(),
                "youtube_video_id": _bad_youtube_id(n),
                **override,
            }
            _insert(conn, videos, row)
            plan["cases"].append(
                (
                    "video_data_quality",
                    rule,
                    column,
                    "video_id",
                    None if row["video_id"] is None else str(row["video_id"]),
                )
            )
        duplicate = {**good, "youtube_video_id": _bad_youtube_id(90)}  # same video_id
        _insert(conn, videos, duplicate)
        plan["cases"].append(
            (
                "video_data_quality",
                "expect_column_values_to_be_unique",
                "video_id",
                "video_id",
                str(good["video_id"]),
            )
        )
        same_youtube = {**good, "video_id": uuid.uuid4()}  # same youtube_video_id
        _insert(conn, videos, same_youtube)
        plan["cases"].append(
            (
                "video_data_quality",
                "expect_column_values_to_be_unique",
                "youtube_video_id",
                "video_id",
                str(same_youtube["video_id"]),
            )
        )

        # channel_data_quality
        channels = _copy(conn, "ytempire.channels")
        plan["relations"]["ytempire.channels"] = channels
        good = _good_row(conn, channels)
        _insert(conn, channels, {**good, "channel_id": None})
        _insert(conn, channels, {**good})  # duplicate id
        _insert(conn, channels, {**good, "channel_id": "UCshort"})
        _insert(conn, channels, {**good, "channel_id": "UC" + "s" * 22, "status": "deleted"})
        plan["cases"] += [
            (
                "channel_data_quality",
                "expect_column_values_to_not_be_null",
                "channel_id",
                "channel_id",
                None,
            ),
            (
                "channel_data_quality",
                "expect_column_values_to_be_unique",
                "channel_id",
                "channel_id",
                good["channel_id"],
            ),
            (
                "channel_data_quality",
                "expect_column_values_to_match_regex",
                "channel_id",
                "channel_id",
                "UCshort",
            ),
            (
                "channel_data_quality",
                "expect_column_values_to_be_in_set",
                "status",
                "channel_id",
                "UC" + "s" * 22,
            ),
        ]

        # raw_youtube_landing: channel snapshots stop 3 days before the run date;
        # the run day's video snapshots are half of a usual day's.
        snapshots = _copy(conn, "raw_youtube.channel_snapshots")
        conn.execute(
            f"delete from {snapshots} where collection_date > %s", (RUN_DATE - timedelta(days=3),)
        )
        video_snapshots = _copy(conn, "raw_youtube.video_snapshots")
        conn.execute(
            f"delete from {video_snapshots} where collection_date = %s and ctid in ("
            f"select ctid from {video_snapshots} where collection_date = %s "
            f"order by video_id limit (select count(*) * 6 / 10 from {video_snapshots} "
            f"where collection_date = %s))",
            (RUN_DATE, RUN_DATE, RUN_DATE),
        )
        plan["relations"]["raw_youtube.channel_snapshots"] = snapshots
        plan["relations"]["raw_youtube.video_snapshots"] = video_snapshots
        plan["cases"] += [
            (
                "raw_youtube_landing",
                "expect_column_values_to_be_between",
                "day_rows",
                "relation",
                "raw_youtube.channel_snapshots",
            ),
            (
                "raw_youtube_landing",
                "expect_column_values_to_be_between",
                "days_behind",
                "relation",
                "raw_youtube.channel_snapshots",
            ),
            (
                "raw_youtube_landing",
                "expect_column_values_to_be_between",
                "row_count_ratio",
                "relation",
                "raw_youtube.video_snapshots",
            ),
        ]
        # raw_events_landing: as many dead letters as events on the run day.
        dead = _copy(conn, "raw_events.dead_letters")
        conn.execute(
            f"insert into {dead} (kafka_topic, kafka_partition, kafka_offset, raw_value, reason, "
            f"dead_lettered_at) "
            f"select 'video-events', 0, n, '{{', 'invalid json', %s::date + interval '12 hours' "
            f"from generate_series(1, 400) as n",
            (RUN_DATE,),
        )
        plan["relations"]["raw_events.dead_letters"] = dead
        plan["cases"].append(
            (
                "raw_events_landing",
                "expect_column_values_to_be_between",
                "dead_letter_share",
                "relation",
                "raw_events.events",
            )
        )

        # marts_channel_daily: a duplicated grain row.
        daily = _copy(conn, "marts.fct_channel_daily_metrics")
        good = _good_row(conn, daily)
        _insert(conn, daily, good)
        plan["relations"]["marts.fct_channel_daily_metrics"] = daily
        plan["cases"].append(
            (
                "marts_channel_daily",
                "expect_compound_columns_to_be_unique",
                None,
                "channel_id",
                good["channel_id"],
            )
        )
        # marts_run_day: the video-day grain lost the run day, the other grains have it.
        video_daily = _copy(conn, "marts.fct_video_daily_metrics")
        conn.execute(f"delete from {video_daily} where metric_date = %s", (RUN_DATE,))
        plan["relations"]["marts.fct_video_daily_metrics"] = video_daily
        plan["cases"].append(
            (
                "marts_run_day",
                "expect_column_values_to_be_between",
                "day_rows",
                "relation",
                "marts.fct_video_daily_metrics",
            )
        )
        conn.execute(f"grant usage on schema {CRAFTED} to ytempire_transformer")
        conn.execute(f"grant select on all tables in schema {CRAFTED} to ytempire_transformer")
    return plan


@pytest.mark.slow
def test_each_expectation_fails_on_its_crafted_row_and_says_which(
    gx_settings, crafted, new_topic, read_topic, redis_prefix
):
    topic = new_topic("alerts")
    runs = {}
    for checkpoint in ("raw", "marts"):
        with pytest.raises(ValidationFailed) as failure:
            validate(
                checkpoint,
                RUN_DATE,
                settings=gx_settings,
                relations=crafted["relations"],
                alerts_topic=topic,
                redis_prefix=redis_prefix,
            )
        assert failure.value.exit_code == 3
        runs[checkpoint] = failure.value.run
    outcomes = [o for run in runs.values() for o in run.outcomes]
    alerts = read_topic(topic)
    stored = [row for run in runs.values() for row in _stored(gx_settings, run.run_id)]

    for suite, rule, column, key, bad_key in crafted["cases"]:
        [outcome] = [
            o
            for o in outcomes
            if o.suite_name == suite and o.expectation_type == rule and o.column == column
        ]
        assert not outcome.success, (suite, rule, column)
        keys = [row.get(key) for row in outcome.unexpected_rows]
        assert bad_key in keys, (suite, rule, column, outcome.unexpected_rows)
        [row] = [r for r in stored if r[0] == suite and r[1] == rule and r[2] == column]
        assert row[3] is False
        assert bad_key in [r.get(key) for r in row[4]]
        [alert] = [
            a
            for a in alerts
            if a["suite_name"] == suite and a["expectation_type"] == rule and a["column"] == column
        ]
        assert alert["type"] == "data_quality_failure"
        assert bad_key in [r.get(key) for r in alert["unexpected_rows"]]

    # Only the crafted rules failed: every alert belongs to a case.
    cases = {(s, r, c) for s, r, c, _, _ in crafted["cases"]}
    assert {(a["suite_name"], a["expectation_type"], a["column"]) for a in alerts} <= cases
    summary = redis_client(settings=gx_settings).hgetall(f"{redis_prefix}quality:validation:latest")
    assert json.loads(summary["raw:video_data_quality"])["failed"] == 9
