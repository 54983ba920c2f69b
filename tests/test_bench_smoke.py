"""Every bench in ``bench/`` runs in its smoke mode, so a change that breaks a bench fails here.

A bench's ``--smoke`` runs its whole path at a tiny scale (its ceiling or peer
too) and its own checks (stored once, kill -9 equals an uninterrupted run,
the stream equals a batch recompute, ...), and prints the figures table with
the load average; its figures mean nothing at that scale and nothing here reads
them. Each bench runs as a user runs it, ``python bench/<name>.py --smoke``, in
a child process against this session's database, topics and keys of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ytempire.settings import PROJECT_ROOT

BENCH = PROJECT_ROOT / "bench"
SHARED = {"benchlib"}  # the benches' common module, not a bench
BENCHES = sorted(p.stem for p in BENCH.glob("*.py") if p.stem not in SHARED)
# Benches another owner is to give a smoke mode: reported as expected failures until it
# lands, then this test fails until the entry is removed.
SMOKE_PENDING: dict[str, str] = {}


def test_the_benches_are_found():
    assert {"processor", "events_landing", "streaming_windows", "webhook_load"} <= set(BENCHES)


@pytest.mark.services
@pytest.mark.slow
@pytest.mark.parametrize("name", BENCHES)
def test_bench_runs_in_smoke_mode(name, test_database):
    source = (BENCH / f"{name}.py").read_text()
    has_smoke = "add_smoke_flag(" in source
    if name in SMOKE_PENDING:
        assert not has_smoke, f"{name} has a smoke mode now: remove it from SMOKE_PENDING"
        pytest.xfail(f"{name} has no smoke mode yet: {SMOKE_PENDING[name]}")
    assert has_smoke, f"bench/{name}.py has no --smoke (benchlib.add_smoke_flag)"

    result = subprocess.run(
        [sys.executable, str(BENCH / f"{name}.py"), "--smoke"],
        cwd=PROJECT_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=3600,  # a bound on a hang only: the verdict is the exit code and the output
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"bench/{name}.py --smoke failed:\n{output[-6000:]}"
    assert "figures beside their ceiling or peer (same run)" in result.stdout, output[-3000:]
    assert "load average (1/5/15 min): start" in result.stdout, output[-3000:]
