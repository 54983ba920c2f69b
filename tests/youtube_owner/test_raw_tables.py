"""The owner APIs' raw tables made without a load (ingestion.raw_tables) are the ones they land.

A scratch database of its own, so the landers really create the tables: one
channel's reports of every family, the revenue of a channel that earns. Then
every table's columns (name, type, length, precision, nullability, position)
must equal those of the same table created from :func:`raw_table_ddl`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest

from ingestion.raw_tables import raw_table_ddl
from simulation.owner_model import owner_traits
from tests.events.test_raw_tables import COLUMNS
from tests.youtube_owner.conftest import at
from ytempire.clients import pg_connect
from ytempire.db import drop_database, init_database
from ytempire.settings import Settings

DATASETS = ("raw_youtube_reporting", "raw_youtube_analytics")


@pytest.fixture
def scratch(settings: Settings) -> Iterator[Settings]:
    """Settings pointing at an empty warehouse database of this test's own."""
    name = settings.pg_database.removesuffix("_test") + "_ownerddl_test"
    drop_database(name, settings=settings)
    init_database(name, settings=settings)
    yield replace(settings, pg_database=name)
    drop_database(name, settings=settings)


def test_raw_table_ddl_creates_what_the_owner_landers_create(scratch, owners):
    day = date(2025, 2, 1)
    own = owners(channels=3, day=day)
    own.settings = replace(own.settings, pg_database=scratch.pg_database)
    net = own.sim.network
    earning = [c.channel_id for c in net.channels if owner_traits(net, c.index).monetized]
    own.reporting(channels=own.channels[:1])
    own.sim.set_now(at(day + timedelta(days=3)))
    assert own.reporting(channels=own.channels[:1]).reports_landed
    assert own.analytics(channels=earning[:1]).channel_days
    ddl = {n: s for n, s in raw_table_ddl(scratch).items() if n.split(".")[0] in DATASETS}
    assert len(ddl) == 13
    with pg_connect("loader", settings=scratch) as conn:
        temp_schema = None
        for name, statement in ddl.items():
            dataset, table = name.split(".")
            expected_table = f"expected_{dataset}__{table}"
            conn.execute(
                statement.replace(
                    f'"{dataset}"."{table}"', f'pg_temp."{expected_table}"', 1
                ).encode()
            )
            temp_schema = (
                temp_schema
                or conn.execute(
                    "select nspname from pg_namespace where oid = pg_my_temp_schema()"
                ).fetchone()[0]
            )
            landed = conn.execute(COLUMNS, (dataset, table)).fetchall()
            expected = conn.execute(COLUMNS, (temp_schema, expected_table)).fetchall()
            assert landed, f"the landers did not create {name}"
            assert landed == expected, name
