"""The owner landers' benchmark runs (its smoke mode: two channels, one family) and prints
its figures, so the script cannot rot."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ytempire.settings import PROJECT_ROOT

pytestmark = pytest.mark.services


def test_bench_youtube_owner_smoke(test_database):
    done = subprocess.run(
        [sys.executable, "bench/youtube_owner.py", "--smoke"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "reports/min" in out
    assert "ceiling: download + parse" in out
    assert out.count("per channel-day") >= 3
