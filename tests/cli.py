"""Run the ``ytempire`` command line in a child process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys

# Only a hung command fails on it: a loaded machine (load 18 on two cores) took more than
# 120 s to drain a 3,000-event backlog, a verdict on its speed, not on the command.
HANG_S = 900


def run_ytempire(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``ytempire ARGS`` with ``env`` over this process's environment; never raises on exit."""
    return subprocess.run(
        [sys.executable, "-m", "ytempire_cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=HANG_S,
        check=False,
    )
