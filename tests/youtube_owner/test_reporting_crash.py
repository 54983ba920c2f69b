"""kill -9 in the middle of a report download, then a re-run: every report lands once.

The lander runs in a child process (as ``ytempire ingest youtube-reporting``
does), one channel per dlt load; the simulator serves downloads slowly and
the test kills the child once it is observed downloading in the second
channel's block, i.e. after the first block's load committed. The re-run
finishes the job: nothing of the first block is downloaded or landed again,
the second block's reports land once, and no row is doubled.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta

import pytest

from ingestion.load_failures import LoadRetriesExhausted
from ingestion.youtube_reporting.collector import read_report
from tests.pg_faults import locked_ending_its_waiters
from tests.youtube_owner.conftest import at

DAY = date(2025, 3, 1)
FAMILY = ("channel_basic",)


def _child(own) -> subprocess.Popen[bytes]:
    script = f"""
import logging
from datetime import datetime
from ingestion.youtube_reporting.landing import land_reports
logging.basicConfig(level=logging.WARNING)
land_reports(
    {own.channels!r},
    pipelines_dir={str(own.pipelines_dir)!r},
    pipeline_name={f"rep_{own.name}"!r},
    redis_prefix={own.redis_prefix!r},
    now=datetime.fromisoformat({own.sim.now.isoformat()!r}),
    block_size=1,
    families={FAMILY!r},
    alert_topic=None,
)
"""
    env = {
        **os.environ,
        "YTEMPIRE_YOUTUBE_REPORTING_API_URL": own.settings.youtube_reporting_api_url,
        "YTEMPIRE_YOUTUBE_OAUTH_TOKEN_URL": own.settings.youtube_oauth_token_uri,
        "YTEMPIRE_YOUTUBE_TOKEN_STORE_PATH": own.settings.youtube_token_store,
    }
    return subprocess.Popen([sys.executable, "-c", script], env=env)


def _newest_reports(owner, channel: str) -> dict[date, object]:
    """The simulator's newest report of each day for ``channel`` (what must be landed)."""
    job = next(j for j in owner.jobs.values() if j.channel_id == channel)
    newest: dict[date, object] = {}
    for report in owner.reports(job):
        held = newest.get(report.day)
        if held is None or report.create_time > held.create_time:  # type: ignore[attr-defined]
            newest[report.day] = report
    return newest


def test_kill_9_during_a_download_then_each_report_lands_once(owners, pg_admin):
    own = owners(channels=3, day=DAY)
    own.reporting(families=FAMILY)  # the jobs
    own.sim.set_now(at(DAY + timedelta(days=3)))
    first, second, _ = own.channels
    owner = own.sim.owner
    owner.download_delay_s = 0.2
    child = _child(own)
    deadline = time.monotonic() + 900  # only a hang guard: the test waits on observed state
    try:
        while not (
            owner.ledger.count("media.download", second) >= 3
            and owner.ledger.downloads_started > owner.ledger.downloads_finished
        ):
            assert child.poll() is None, "the lander ended before it was killed"
            assert time.monotonic() < deadline, "the lander never reached the second channel"
            time.sleep(0.05)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    owner.download_delay_s = 0.0
    first_downloads = owner.ledger.count("media.download", first)

    run = own.reporting(families=FAMILY)
    assert run.status == "complete"
    assert owner.ledger.count("media.download", first) == first_downloads  # committed: not again
    for channel in own.channels:
        newest = _newest_reports(owner, channel)
        ledger = pg_admin.execute(
            "select report_id, count(*) from raw_youtube_reporting.reports "
            "where channel_id = %s group by 1",
            (channel,),
        ).fetchall()
        assert {r[0] for r in ledger} == {r.id for r in newest.values()}  # type: ignore[attr-defined]
        assert all(n == 1 for _, n in ledger)
        rows = pg_admin.execute(
            "select count(*), count(distinct (report_id, report_row)), coalesce(sum(views), 0) "
            "from raw_youtube_reporting.channel_basic where channel_id = %s",
            (channel,),
        ).fetchone()
        want = [read_report(owner.csv(r)) for r in newest.values()]
        views = sum(sum(t["views"].to_pylist()) for t in want if t.num_rows)
        assert rows == (sum(t.num_rows for t in want), sum(t.num_rows for t in want), views)


def test_a_load_failing_on_every_retry_keeps_its_package_and_the_next_run_lands_it(
    owners, pg_admin
):
    """The database ends the load's session on every try dlt gives its job.

    The run stops with the project's error (exit 2) naming the package's table
    and the command to run; the next run loads the kept package first: every
    day's newest report is in the ledger once, with each of its rows once.
    """
    own = owners(channels=2, day=DAY)
    own.reporting(families=FAMILY)  # the jobs
    own.sim.set_now(at(DAY + timedelta(days=3)))
    own.reporting(families=FAMILY)  # the first reports: the tables exist
    rows = "select count(*) from raw_youtube_reporting.channel_basic"
    held = pg_admin.execute(rows).fetchone()
    own.sim.set_now(at(DAY + timedelta(days=5)))

    with locked_ending_its_waiters(own.settings, "raw_youtube_reporting.channel_basic") as ended:
        with pytest.raises(LoadRetriesExhausted) as stopped:
            own.reporting(families=FAMILY)
        # the next run loads the kept package first, and stops the same way
        with pytest.raises(LoadRetriesExhausted) as again:
            own.reporting(families=FAMILY)

    error = stopped.value
    assert again.value.load_id == error.load_id
    assert error.table == "channel_basic"
    assert len(ended) >= error.tries >= 1
    assert "run `ytempire ingest youtube-reporting` again" in str(error)
    assert pg_admin.execute(rows).fetchone() == held  # nothing of the failed job

    assert own.reporting(families=FAMILY).status == "complete"
    owner = own.sim.owner
    ledger = dict(
        pg_admin.execute(
            "select report_id, count(*) from raw_youtube_reporting.reports group by 1"
        ).fetchall()
    )
    assert set(ledger.values()) == {1}
    landed = dict(
        pg_admin.execute(
            "select report_id, count(distinct report_row) from "
            "raw_youtube_reporting.channel_basic group by 1 having count(*) = count(distinct "
            "report_row)"
        ).fetchall()
    )
    for channel in own.channels:
        for report in _newest_reports(owner, channel).values():
            size = read_report(owner.csv(report)).num_rows
            assert report.id in ledger, report  # type: ignore[attr-defined]
            assert landed.get(report.id, 0) == size, report  # type: ignore[attr-defined]
