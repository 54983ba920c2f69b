"""The ``ytempire`` commands of the YouTube landing."""

from __future__ import annotations

import pytest

from tests.cli import run_ytempire
from ytempire.clients import redis_client
from ytempire.quota import QuotaBudget

pytestmark = pytest.mark.services


def test_quota_prints_used_and_remaining(settings, redis_prefix):
    from datetime import date

    QuotaBudget(redis_client(settings=settings), 10_000, redis_prefix).reserve(
        "search.list", date(2025, 1, 1)
    )
    done = run_ytempire("quota", "--date", "2025-01-01", YTEMPIRE_REDIS_KEY_PREFIX=redis_prefix)
    assert done.returncode == 0, done.stderr
    assert "used 100, remaining 9900 of 10000 units" in done.stdout


def test_ingest_with_redis_down_exits_2_naming_redis():
    done = run_ytempire(
        "ingest",
        "youtube",
        "--date",
        "2025-01-01",
        YTEMPIRE_REDIS_URL="redis://127.0.0.1:1/0",
        YTEMPIRE_YOUTUBE_API_URL="http://127.0.0.1:1/",
    )
    assert done.returncode == 2
    assert "Redis is down or unreachable" in done.stderr
    assert "Traceback" not in done.stderr
