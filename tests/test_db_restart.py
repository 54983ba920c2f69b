"""A PostgreSQL restart mid-command ends it with the project's error, its stage recorded failed.

The probe restarted PostgreSQL during ``ytempire warehouse build``: the command
ended in a traceback and left its ``dbt_build`` row ``running`` for ever. Here
a cluster of the test's own (never the shared one) is restarted while the
build is held at a known point: the test holds a lock on the raw tables, so
the build's first read of them waits, and the restart comes once PostgreSQL
shows that wait (``pg_stat_activity``) -- a point the build reaches whatever
the machine's speed. The second case stops the server for good mid-stage:
the outcome cannot be written, and the row is ``abandoned`` once its
heartbeat is stale, never ``running`` for ever.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date

import pytest

from tests.cli import run_ytempire
from tests.pg_cluster import ThrowawayPostgres
from ytempire import stage_runs
from ytempire.clients import pg_connect
from ytempire.db import init_database
from ytempire.errors import ServiceUnavailable
from ytempire.settings import Settings
from ytempire.stage_runs import abandon_stale_stages, record_stage

pytestmark = pytest.mark.services

DATABASE = "ytempire_restart_test"
HANG_S = 900  # only a hung build fails on it; the verdicts wait on what PostgreSQL shows


@pytest.fixture(scope="module")
def cluster(settings: Settings) -> Iterator[ThrowawayPostgres]:
    pg = ThrowawayPostgres(settings.pg_admin_user, settings.pg_admin_password).create()
    pg.start()
    try:
        init_database(settings=pg.settings(settings, DATABASE))
        yield pg
    finally:
        pg.destroy()


def _stage_rows(s: Settings, stage: str) -> list[tuple[str, str | None]]:
    with pg_connect("admin", settings=s) as conn:
        return conn.execute(
            "select status, error from analytics.pipeline_stage_runs where stage = %s "
            "order by stage_run_id",
            (stage,),
        ).fetchall()


def _waiting_on_a_lock(s: Settings) -> bool:
    with pg_connect("admin", "postgres", autocommit=True, settings=s) as conn:
        row = conn.execute(
            "select count(*) from pg_stat_activity where datname = %s "
            "and usename = 'ytempire_transformer' and wait_event_type = 'Lock'",
            (DATABASE,),
        ).fetchone()
    return bool(row and row[0])


def test_a_restart_during_warehouse_build_is_a_clear_error_and_a_failed_stage(cluster, settings):
    s = cluster.settings(settings, DATABASE)
    env = cluster.environment(DATABASE)
    landed = run_ytempire("warehouse", "simulate", "--days", "3", "--channels", "3", **env)
    assert landed.returncode == 0, landed.stderr

    holder = pg_connect("admin", settings=s)  # a transaction holding every raw table
    holder.execute("lock table raw_youtube.channel_snapshots in access exclusive mode")
    day = date(2031, 4, 1)
    build = subprocess.Popen(
        [sys.executable, "-m", "ytempire_cli.main", "warehouse", "build", "--run-date", str(day)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env},
    )
    try:
        deadline = time.monotonic() + HANG_S
        while not _waiting_on_a_lock(s):
            assert build.poll() is None, build.communicate()
            assert time.monotonic() < deadline, "the build never reached the raw tables"
            time.sleep(0.2)
        assert _stage_rows(s, "dbt_build") == [("running", None)]
        cluster.restart()  # every session ends: the build's and the lock holder's
        out, err = build.communicate(timeout=HANG_S)
    finally:
        if build.poll() is None:
            build.kill()
        holder.close()

    assert "Traceback" not in err, err
    assert build.returncode == ServiceUnavailable.exit_code, (out, err)
    assert err.startswith(f"error: PostgreSQL is down or unreachable at 127.0.0.1:{cluster.port}")
    assert "Next: the server went away during dbt build" in err
    [(status, error)] = _stage_rows(s, "dbt_build")
    assert status == "failed"
    assert "PostgreSQL is down or unreachable" in (error or "")


def test_a_server_that_does_not_come_back_leaves_an_abandoned_row_not_a_running_one(
    cluster, settings, monkeypatch
):
    monkeypatch.setattr(stage_runs, "RECORD_RETRY_S", 1.0)  # give up at once: it stays down
    s = cluster.settings(settings, DATABASE)
    day = date(2031, 4, 2)

    def stage_losing_its_server() -> None:
        with record_stage("validation_raw", day, settings=s):
            cluster.stop()
            raise RuntimeError("the stage's own error")  # not hidden by the lost outcome

    try:
        with pytest.raises(RuntimeError, match="the stage's own error"):
            stage_losing_its_server()
    finally:
        cluster.start()
    assert _stage_rows(s, "validation_raw") == [("running", None)]
    with pg_connect("loader", autocommit=True, settings=s) as conn:
        conn.execute(
            "update analytics.pipeline_stage_runs set heartbeat_at = heartbeat_at - interval "
            "'1 hour' where stage = 'validation_raw'"
        )
        assert abandon_stale_stages(conn) == 1
    [(status, error)] = _stage_rows(s, "validation_raw")
    assert status == "abandoned"
    assert "no heartbeat since" in (error or "")
