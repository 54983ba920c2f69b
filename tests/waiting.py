"""Waiting on observed state in tests: a verdict never depends on how fast the machine is."""

from __future__ import annotations

import time
from collections.abc import Callable

BOUND_S = 180.0


def wait_for(condition: Callable[[], bool], what: str, bound_s: float = BOUND_S) -> None:
    """Poll ``condition`` until it holds.

    ``bound_s`` only turns a hang into a failure that names ``what`` it waited
    for: the condition, never the time taken, decides the test. Raises
    ``AssertionError`` after ``bound_s`` seconds.
    """
    deadline = time.monotonic() + bound_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {bound_s:.0f} s for {what}")
        time.sleep(0.05)
