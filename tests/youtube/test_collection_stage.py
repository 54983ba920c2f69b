"""`ytempire ingest youtube` records its run as the day's `collection` stage, failures too."""

from __future__ import annotations

from datetime import date

import pytest

from tests.cli import run_ytempire
from ytempire.clients import pg_connect

pytestmark = pytest.mark.services

RUN_DATE = date(2031, 8, 9)


def test_a_collection_stopped_by_redis_is_recorded_failed_with_the_reason(settings):
    done = run_ytempire(
        "ingest", "youtube", "--date", RUN_DATE.isoformat(),
        YTEMPIRE_REDIS_URL="redis://127.0.0.1:1/0",
        YTEMPIRE_YOUTUBE_API_URL="http://127.0.0.1:1/",
    )  # fmt: skip
    assert done.returncode == 2
    with pg_connect("loader", settings=settings) as conn:
        rows = conn.execute(
            "select status, error from analytics.pipeline_stage_runs "
            "where stage = 'collection' and run_date = %s",
            (RUN_DATE,),
        ).fetchall()
    assert len(rows) == 1
    status, error = rows[0]
    assert status == "failed"
    assert error.startswith("ServiceUnavailable: Redis is down or unreachable")
