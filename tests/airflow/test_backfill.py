"""A backfill of three quota days through Airflow builds the marts of three daily runs.

Two disposable warehouses see the same three days of a simulated network. In
``direct`` each day is worked as it ends: the simulator steps to the day, the
day's Kafka events arrive, and the ``ytempire`` commands collect it, land the
events and run one ``dbt build`` (the e2e module shows that a DAG run of a day
builds what the direct run builds). In ``dag`` only the collection happens on
each day, because the YouTube Data API serves current statistics and a past
day cannot be collected again; after the third day ``ytempire_daily`` is run
for the three days, oldest first (``ytempire airflow run --from --to``: what
``airflow backfill create`` makes the scheduler do, one run at a time under
``max_active_runs=1``). The backfill's collections find their days collected
and spend no quota; the marts equal the daily runs'.

Cost: three direct days of three steps and three DAG runs; the Spark windows
task is marked successful in the backfill (no mart reads its tables).

``airflow dags test`` runs every task in one process, so the runs also show that
nothing a dbt task leaves in that process's environment redirects a later task:
the dbt docs land where the Airflow UI serves them, not in the checkout's target.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from orchestration.runs import DagRunResult, dags_test_day
from orchestration.scenario import DAY, Scenario, marts, run_direct, scenario
from ytempire.clients import pg_connect
from ytempire.dbt_runner import DBT_PROJECT_DIR, target_dir
from ytempire.settings import Settings

pytestmark = [pytest.mark.slow, pytest.mark.services]

DAYS = [DAY + timedelta(days=n) for n in range(3)]
DAILY_STEPS = ("collect youtube", "land kafka events", "dbt build")
# dbt's target in the checkout, where dbt writes when nothing says otherwise; the suite's
# own target (conftest: $DBT_TARGET_PATH) is where the Airflow installation serves the docs.
CHECKOUT_TARGET = DBT_PROJECT_DIR / "target"


@dataclass(frozen=True)
class Backfill:
    scn: Scenario
    runs: list[DagRunResult]
    started_at: float  # time.time() before the first DAG run
    checkout_catalog: tuple[int, int] | None  # the checkout's catalog.json (mtime ns, size) then


def _stat(path: Path) -> tuple[int, int] | None:
    try:
        found = path.stat()
    except FileNotFoundError:
        return None
    return found.st_mtime_ns, found.st_size


@pytest.fixture(scope="module")
def backfilled(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backfill]:
    # Three channels: what a backfill proves does not grow with the network, its cost does.
    with scenario(
        settings, tmp_path_factory.mktemp("backfill"), events=False, channels=3, events_per_day=300
    ) as scn:
        for day in DAYS:
            scn.simulator.set_day(day)
            scn.produce_events(day)
            run_direct(scn, os.environ, day, only=DAILY_STEPS)
            run_direct(scn, os.environ, day, kind="dag", only=("collect youtube",))
        env = {**os.environ, **scn.env("dag")}
        assert target_dir() != CHECKOUT_TARGET, "conftest points DBT_TARGET_PATH elsewhere"
        checkout_catalog = _stat(CHECKOUT_TARGET / "catalog.json")
        started_at = time.time()
        runs = [
            dags_test_day(
                scn.airflow_config(),
                day,
                settings=settings,
                env=env,
                extra_args=("--mark-success-pattern", "^catch_up_windows$"),
            )
            for day in DAYS
        ]
        yield Backfill(scn, runs, started_at, checkout_catalog)


def test_every_backfilled_day_succeeds(backfilled: Backfill) -> None:
    for day, run in zip(DAYS, backfilled.runs, strict=True):
        assert run.state == "success", (day, run.output[-3000:])
        assert run.state_of("collect_youtube") == "success"
        assert run.state_of("transform.fct_channel_daily_metrics_model_build") == "success"


def test_the_backfill_spends_no_quota_on_days_already_collected(backfilled: Backfill) -> None:
    units = _latest_collection_units(backfilled.scn)
    assert sorted(units) == DAYS
    assert set(units.values()) == {0}, units


def test_the_backfill_equals_three_daily_runs(backfilled: Backfill) -> None:
    scn = backfilled.scn
    with pg_connect("transformer", scn.database("direct"), settings=scn.settings) as conn:
        built = conn.execute(
            "select distinct metric_date from marts.fct_channel_daily_metrics"
        ).fetchall()
    assert set(DAYS) <= {day for (day,) in built}, "the daily runs did not build all three days"
    assert marts(scn.settings, scn.database("dag")) == marts(scn.settings, scn.database("direct"))


def test_the_dbt_docs_land_where_the_ui_serves_them(backfilled: Backfill) -> None:
    """Each run's dbt_docs task wrote the installation's target, never the checkout's.

    In one ``airflow dags test`` process, Cosmos leaves its dbt tasks' environment
    (``DBT_TARGET_PATH=target``) behind; a docs task that read the environment at run
    time wrote the checkout's ``dbt_project/target`` while the UI served a stale site.
    """
    served = target_dir() / "catalog.json"
    assert served.stat().st_mtime >= backfilled.started_at, f"{served} was not regenerated"
    assert _stat(CHECKOUT_TARGET / "catalog.json") == backfilled.checkout_catalog, (
        f"a DAG run wrote dbt docs into the checkout's {CHECKOUT_TARGET}"
    )


def _latest_collection_units(scn: Scenario) -> dict[date, Any]:
    """units_used of each day's latest collection in the backfilled warehouse."""
    with pg_connect("loader", scn.database("dag"), settings=scn.settings) as conn:
        rows = conn.execute(
            "select distinct on (run_date) run_date, (details ->> 'units_used')::int "
            "from analytics.pipeline_stage_runs where stage = 'collection' "
            "order by run_date, stage_run_id desc"
        ).fetchall()
    return dict(rows)
