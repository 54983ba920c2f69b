"""``bench/airflow_daily.py --smoke``: the benchmark still loads and its DAG file imports."""

from __future__ import annotations

import subprocess
import sys

from ytempire.settings import PROJECT_ROOT


def test_the_airflow_bench_runs_in_smoke_mode() -> None:
    proc = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "bench" / "airflow_daily.py"), "--smoke"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "DAG file import (DagBag)" in proc.stdout
