"""Run the ``ytempire`` command line in a child process, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys


def run_ytempire(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``ytempire ARGS`` with ``env`` over this process's environment; never raises on exit."""
    return subprocess.run(
        [sys.executable, "-m", "ytempire_cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=120,
        check=False,
    )
