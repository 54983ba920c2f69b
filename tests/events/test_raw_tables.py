"""The raw tables made without a load (ingestion.raw_tables) are the ones the landers make.

A scratch database of its own, so the landers really create the tables: the
YouTube lander collects five channels from the simulator (one malformed item
among them, so its dead letters land too), the Kafka lander
lands a few events and one malformed message. Then every raw table's columns
(name, type, length, precision, nullability, position) must equal those of the
same table created from :func:`ingestion.raw_tables.raw_table_ddl`, and its
unique constraints must be there too (the Kafka landing adds its replay-guard
keys on top).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace

import pytest

from ingestion.kafka_events.landing import land_events
from ingestion.raw_tables import raw_table_ddl
from ingestion.youtube.landing import run_day
from simulation import ids
from simulation.network import Network
from simulation.traffic import simulated_events
from simulation.youtube import MALFORMED, Fault, YouTubeSimulator
from tests.youtube.conftest import DAY1
from ytempire.clients import pg_connect
from ytempire.db import drop_database, init_database
from ytempire.settings import Settings

COLUMNS = """
select c.column_name, c.data_type, c.character_maximum_length, c.datetime_precision,
    c.is_nullable, c.ordinal_position
from information_schema.columns as c
where c.table_schema = %s and c.table_name = %s
order by c.ordinal_position
"""
UNIQUE_COLUMNS = """
select array_agg(a.attname order by a.attname)
from pg_constraint as con
inner join pg_attribute as a on a.attrelid = con.conrelid and a.attnum = any(con.conkey)
where con.conrelid = %s::regclass and con.contype = 'u'
group by con.oid
order by 1
"""


@pytest.fixture
def scratch(settings: Settings) -> Iterator[Settings]:
    """Settings pointing at an empty warehouse database of this test's own."""
    name = settings.pg_database.removesuffix("_test") + "_rawddl_test"
    drop_database(name, settings=settings)
    init_database(name, settings=settings)
    yield replace(settings, pg_database=name)
    drop_database(name, settings=settings)


def _land_for_real(s: Settings, new_topic, produce, redis_prefix, tmp_path) -> None:
    sim = YouTubeSimulator(Network(), day=DAY1, api_key="test-key")
    sim.start()
    sim.inject(Fault(200, MALFORMED, method="playlistItems.list"))
    try:
        yt = replace(s, youtube_api_url=sim.url, youtube_api_key="test-key")
        channels = [ids.channel_id(i) for i in range(5)]
        run_day(
            DAY1, channels, settings=yt, pipelines_dir=tmp_path / "yt", redis_prefix=redis_prefix
        )
    finally:
        sim.stop()
    topic, dlq = new_topic("rawddl"), new_topic("rawddl-dlq")
    messages = [(key, value) for _, key, value, _ in simulated_events(50, seed=3)]
    produce(topic, [*messages, ("bad", json.dumps({"event_type": "nope"}).encode())])
    summary = land_events(
        [topic],
        pipelines_dir=tmp_path / "events",
        pipeline_name="rawddl",
        dead_letter_topic=dlq,
        settings=s,
    )
    assert summary.messages == 51


def test_raw_table_ddl_creates_what_the_landers_create(
    scratch, new_topic, produce, redis_prefix, tmp_path
):
    _land_for_real(scratch, new_topic, produce, redis_prefix, tmp_path)
    # the owner APIs' raw tables have a test of their own (tests/youtube_owner/test_raw_tables.py)
    ddl = {
        name: statement
        for name, statement in raw_table_ddl(scratch).items()
        if name.split(".")[0] in ("raw_events", "raw_youtube")
    }
    assert sorted(ddl) == [
        "raw_events.dead_letters",
        "raw_events.events",
        "raw_youtube.channel_snapshots",
        "raw_youtube.collection_runs",
        "raw_youtube.playlist_items",
        "raw_youtube.rejected_items",
        "raw_youtube.video_snapshots",
        "raw_youtube.videos",
    ]
    with pg_connect("loader", settings=scratch) as conn:
        for name, statement in ddl.items():
            dataset, table = name.split(".")
            expected_table = f"expected_{dataset}__{table}"
            conn.execute(
                statement.replace(
                    f'"{dataset}"."{table}"', f'pg_temp."{expected_table}"', 1
                ).encode()
            )
            landed = conn.execute(COLUMNS, (dataset, table)).fetchall()
            temp_schema = conn.execute(
                "select nspname from pg_namespace where oid = pg_my_temp_schema()"
            ).fetchone()[0]
            expected = conn.execute(COLUMNS, (temp_schema, expected_table)).fetchall()
            assert landed, f"the landers did not create {name}"
            assert landed == expected, name
            landed_unique = {tuple(r[0]) for r in conn.execute(UNIQUE_COLUMNS, (name,))}
            expected_unique = {
                tuple(r[0]) for r in conn.execute(UNIQUE_COLUMNS, (f"pg_temp.{expected_table}",))
            }
            # the Kafka landing adds its replay-guard keys after creating the tables
            assert expected_unique <= landed_unique, name
