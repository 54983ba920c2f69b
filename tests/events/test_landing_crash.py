"""Exactly-once landing: 1,000,000 events while the loader is SIGKILLed at observed points.

Each kill waits for a state of the landing that it can see (the process
started, a load committed rows, a load package sitting on disk), never for a
number of seconds, so the kills fall where they are meant to on a fast or a
loaded machine alike.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from simulation.traffic import simulated_events

EVENTS = 1_000_000
CHUNK = 100_000  # messages per dlt load: ten loads
HANG_S = 600  # a landing that shows no progress for this long has hung: fail, don't wait


def _landed(loader, topic: str) -> int:
    if loader("select to_regclass('raw_events.events')")[0][0] is None:
        return 0
    return loader("select count(*) from raw_events.events where kafka_topic = %s", (topic,))[0][0]


def _wait_until(process: subprocess.Popen, observed: Callable[[], bool], what: str) -> None:
    """Poll until ``observed()``; fail if the loader exits first or shows nothing for HANG_S."""
    deadline = time.monotonic() + HANG_S
    while not observed():
        assert process.poll() is None, f"the loader exited (rc {process.returncode}) before {what}"
        assert time.monotonic() < deadline, f"not {what} within {HANG_S}s: the loader hung"
        time.sleep(0.005)


def _package_on_disk(pipeline_dir: Path) -> bool:
    """Is a normalized load package waiting to be (or being) loaded?"""
    normalized = pipeline_dir / "load" / "normalized"
    return normalized.is_dir() and any(normalized.iterdir())


@pytest.mark.slow
def test_a_loader_killed_at_observed_points_lands_every_event_exactly_once(
    settings, new_topic, produce, loader, tmp_path
):
    topic, dlq = new_topic("events", partitions=6), new_topic("dlq")
    produced: set[str] = set()

    def traffic():
        for _, key, value, event_id in simulated_events(EVENTS, seed=2026):
            produced.add(event_id)
            yield key, value

    assert produce(topic, traffic()) == EVENTS
    pipelines_dir = tmp_path / "dlt"
    command = [
        sys.executable, "-m", "ytempire_cli.main", "ingest", "events", "--topic", topic,
        "--dead-letter-topic", dlq, "--pipelines-dir", str(pipelines_dir),
        "--pipeline-name", topic, "--chunk-size", str(CHUNK),
    ]  # fmt: skip
    landed_before = 0

    def more_landed() -> bool:
        return _landed(loader, topic) > landed_before

    def package_on_disk() -> bool:
        return _package_on_disk(pipelines_dir / topic)

    # (where the kill falls, the states to observe in order before killing)
    kill_points: list[tuple[str, list[Callable[[], bool]]]] = [
        ("at start-up, before anything is read", []),
        ("after the first committed load", [more_landed]),
        ("while a fresh load package is on disk", [more_landed, package_on_disk]),
        ("after another committed load", [more_landed]),
        ("at start-up, with a package left behind", []),
    ]
    landed_at_kill: list[int] = []
    for what, states in kill_points:
        landed_before = _landed(loader, topic)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        for observed in states:
            _wait_until(process, observed, what)
        process.kill()
        process.wait()
        landed_at_kill.append(_landed(loader, topic))
        print(f"killed {what}: {landed_at_kill[-1]:,} events landed so far")

    assert landed_at_kill[0] == 0
    assert 0 < landed_at_kill[1] < EVENTS  # a kill between loads, by construction
    assert landed_at_kill[3] > landed_at_kill[1]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    rows = loader("select event_id::text from raw_events.events where kafka_topic = %s", (topic,))
    landed = [r[0] for r in rows]
    assert len(landed) == len(set(landed)) == EVENTS
    assert set(landed) == produced
