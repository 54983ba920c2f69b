"""The ingestion-health marts, on a fresh warehouse and once dead letters land.

``raw_events.dead_letters`` appears only with the events landing's first dead
letter: the marts must build without it (no dead letters anywhere) and count
the dead letters by day, topic and reason once it exists. A small simulated
network is landed in a database of its own; channel 1 is not collected on day
2, so that day's run is partial. Expected counts are read from the raw tables
with plain SQL, or written out by hand for the dead letters.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from simulation.raw_history import NetworkSpec, create_raw_tables, land_days
from tests.conftest import own_database
from ytempire.clients import pg_connect
from ytempire.dbt_runner import run_dbt
from ytempire.settings import Settings

pytestmark = pytest.mark.services

SPEC = NetworkSpec(channels=3, videos_per_channel_per_day=1)
DAYS = 3
MISSING = (1, 2)  # (channel, day) not collected: that day's run is partial
SELECT = ("--select", "+fct_ingestion_daily", "+fct_dead_letters_daily")
DAY0, DAY1 = SPEC.day_date(0), SPEC.day_date(1)
# (topic, partition, offset, kafka_timestamp, reason, dead_lettered_at)
DEAD_LETTERS = [
    # noon in Los Angeles on day 0: the reporting day is day 0
    ("video-events", 0, 7, datetime(2025, 1, 1, 20, tzinfo=UTC), "bad [json_invalid]"),
    ("video-events", 1, 3, datetime(2025, 1, 1, 21, tzinfo=UTC), "bad [json_invalid]"),
    # no Kafka timestamp: counted on the day it was dead-lettered, day 1
    ("user-events", 0, 0, None, "event_type: unknown [union_tag_invalid]"),
]
DEAD_LETTERED_AT = datetime(2025, 1, 2, 20, tzinfo=UTC)


def _rows(settings: Settings, query: str) -> list[dict[str, Any]]:
    with pg_connect("transformer", settings=settings) as conn, conn.cursor() as cur:
        cur.execute(query)
        names = [column.name for column in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _marts(settings: Settings) -> dict[str, list[dict[str, Any]]]:
    return {
        "daily": _rows(settings, "select * from marts.fct_ingestion_daily order by metric_date"),
        "dead": _rows(
            settings,
            "select * from marts.fct_dead_letters_daily order by metric_date, kafka_topic",
        ),
    }


def _events_per_day(settings: Settings) -> dict[date, int]:
    rows = _rows(
        settings,
        "select (occurred_at at time zone 'America/Los_Angeles')::date as day,"
        " count(distinct event_id) as events from raw_events.events group by 1",
    )
    return {row["day"]: row["events"] for row in rows}


@pytest.fixture(scope="module")
def built(test_database: str) -> Iterator[dict[str, Any]]:
    """Build on a warehouse without the dead-letter table, then with three dead letters."""
    with own_database("ingestion") as settings:
        with pg_connect("loader", settings=settings) as conn:
            land_days(conn, SPEC, 0, DAYS - 1, skip=[MISSING])
            conn.execute("drop table raw_events.dead_letters")
            conn.commit()
        run_dbt("build", *SELECT)
        stages: dict[str, Any] = {"fresh": _marts(settings)}
        with pg_connect("loader", settings=settings) as conn:
            create_raw_tables(conn)  # as the landing does with its first dead letter
            for topic, partition, kafka_offset, stamp, reason in DEAD_LETTERS:
                conn.execute(
                    "insert into raw_events.dead_letters (kafka_topic, kafka_partition,"
                    " kafka_offset, kafka_timestamp, raw_value, reason, dead_lettered_at)"
                    " values (%s, %s, %s, %s, 'e30=', %s, %s)",
                    (topic, partition, kafka_offset, stamp, reason, DEAD_LETTERED_AT),
                )
            conn.commit()
        run_dbt("build", *SELECT)
        stages["dead_lettered"] = _marts(settings)
        stages["events"] = _events_per_day(settings)
        yield stages


def test_marts_build_before_the_dead_letter_table_exists(built: dict[str, Any]) -> None:
    fresh = built["fresh"]
    assert fresh["daily"], "no ingestion day was built"
    assert all(row["dead_letters"] == 0 for row in fresh["daily"])
    assert fresh["dead"] == []


def test_collection_runs_per_day(built: dict[str, Any]) -> None:
    collected = {
        row["metric_date"]: row for row in built["fresh"]["daily"] if row["collection_runs"]
    }
    assert sorted(collected) == [SPEC.day_date(day) for day in range(DAYS)]
    for day in range(DAYS):
        row = collected[SPEC.day_date(day)]
        assert row["collection_runs"] == 1
        assert row["quota_units_used"] == SPEC.channels * 3  # the fixture's quota per run
        assert row["last_run_status"] == ("partial" if day == MISSING[1] else "complete")
        # completeness is fct_collection_status' word: channel 1 missed day 2
        assert (row["is_collection_complete"], row["channels_missing"]) == (
            (False, 1) if day == MISSING[1] else (True, 0)
        )
        assert row["collection_runs_partial"] == (1 if day == MISSING[1] else 0)
        assert row["last_run_finished_at"] - row["first_run_started_at"] == timedelta(hours=1)


def test_events_landed_match_the_raw_events(built: dict[str, Any]) -> None:
    for stage in ("fresh", "dead_lettered"):
        landed = {row["metric_date"]: row["events_landed"] for row in built[stage]["daily"]}
        assert {day: n for day, n in landed.items() if n} == built["events"]


def test_dead_letters_by_day_topic_and_reason(built: dict[str, Any]) -> None:
    dead = [
        (row["metric_date"], row["kafka_topic"], row["reason"], row["dead_letters"])
        for row in built["dead_lettered"]["dead"]
    ]
    assert dead == [
        (DAY0, "video-events", "bad [json_invalid]", 2),
        (DAY1, "user-events", "event_type: unknown [union_tag_invalid]", 1),
    ]
    partitions = {
        row["kafka_topic"]: row["kafka_partitions"] for row in built["dead_lettered"]["dead"]
    }
    assert partitions == {"video-events": 2, "user-events": 1}


def test_daily_dead_letters_and_share(built: dict[str, Any]) -> None:
    daily = {row["metric_date"]: row for row in built["dead_lettered"]["daily"]}
    assert {day: row["dead_letters"] for day, row in daily.items() if row["dead_letters"]} == {
        DAY0: 2,
        DAY1: 1,
    }
    events = built["events"][DAY0]
    share = (Decimal(200) / (events + 2)).quantize(Decimal("0.01"))
    assert daily[DAY0]["dead_letter_share_pct"] == share
    # the rest of the rows are unchanged by the dead letters
    before = {row["metric_date"]: row for row in built["fresh"]["daily"]}
    for day, row in daily.items():
        if day not in (DAY0, DAY1):
            assert row == before[day]
