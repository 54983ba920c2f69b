"""Every incremental model from an empty warehouse: empty first build, empty source, first day.

An incremental model whose first build is empty (a new warehouse, or a source
with no rows yet: no ``metrics_update`` event has landed) must build again the
next day and every day after, and pick up the rows that arrive later. The
scenario builds the whole project on a warehouse whose raw tables exist but
hold nothing, then on one day of YouTube snapshots without any platform event,
then on the next days with the events of all of them; each build is an
ordinary incremental ``dbt build``. After the last one, every incremental
model (found in dbt's manifest, so a new one is covered too) must hold exactly
what a full refresh of the same raw rows gives.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulation.raw_history import NetworkSpec, create_raw_indexes, create_raw_tables, land_days
from tests.conftest import own_database
from tests.dbt_models import incremental_models, relation_rows, relations_rows
from ytempire.clients import pg_connect
from ytempire.dbt_runner import run_dbt
from ytempire.settings import Settings

pytestmark = pytest.mark.services

SPEC = NetworkSpec(channels=3, videos_per_channel_per_day=1)
LAST_DAY = 4  # past the lookback window (3 days), so a day settles


@pytest.fixture(scope="module")
def scenario(test_database: str) -> Iterator[Settings]:
    """A database of the scenario's own (the session database is built first: conftest)."""
    with own_database("windows") as scenario:
        yield scenario


@pytest.fixture(scope="module")
def models() -> dict[str, str]:
    found = incremental_models()
    assert len(found) >= 12, found  # the project's incremental models, at least
    return found


@pytest.fixture(scope="module")
def built(scenario: Settings, models: dict[str, str]) -> dict[str, Any]:
    """Build after each landing; return the row counts of the empty build and the last rows."""
    stages: dict[str, Any] = {}
    with pg_connect("loader", settings=scenario) as conn:
        create_raw_tables(conn)
        create_raw_indexes(conn)
        conn.commit()
        run_dbt("build")  # an empty warehouse: every source exists and is empty
        stages["empty"] = {name: len(relation_rows(scenario, rel)) for name, rel in models.items()}

        land_days(conn, SPEC, 0, 0)  # the first day's snapshots, and no event yet
        conn.execute("delete from raw_events.events")
        conn.commit()
        run_dbt("build")
        stages["no_events"] = {
            name: len(relation_rows(scenario, rel)) for name, rel in models.items()
        }

        land_days(conn, SPEC, 0, 0)  # the first day's events arrive with the next days
        land_days(conn, SPEC, 1, LAST_DAY)
        run_dbt("build")
    stages["incremental"] = relations_rows(scenario, models)
    return stages


def test_every_incremental_model_was_built_empty_first(built: dict[str, Any]) -> None:
    assert built["empty"] == dict.fromkeys(built["empty"], 0)


def test_a_source_empty_on_the_first_day_is_read_the_next(built: dict[str, Any]) -> None:
    no_events = built["no_events"]
    assert no_events["int_video_shares_differenced"] == 0  # no metrics_update landed
    assert no_events["int_video_snapshots_differenced"] > 0
    assert built["incremental"]["int_video_shares_differenced"]


def test_every_incremental_model_has_rows_after_the_last_day(built: dict[str, Any]) -> None:
    assert [name for name, rows in built["incremental"].items() if not rows] == []


def test_each_incremental_model_equals_its_full_refresh(
    built: dict[str, Any], scenario: Settings, models: dict[str, str]
) -> None:
    run_dbt("build", "--full-refresh")
    refreshed = relations_rows(scenario, models)
    assert [name for name in models if refreshed[name] != built["incremental"][name]] == []
