"""Exactly-once landing: 1,000,000 events while the loader is SIGKILLed at chosen points.

Each kill falls where it is meant to on a fast or a loaded machine alike: the
loader is held there by the database (:mod:`tests.holds`), not caught there by
polling. A statement trigger on ``raw_events.events`` makes any load that
would start once the table holds ``hold_value()`` rows of the topic wait on a
lock the test owns; the test kills the loader once PostgreSQL shows that wait
-- with exactly the loads before it committed, and the held load's package
on disk. (Polling for "a load committed" and then killing raced: a fast
machine committed more loads, or all of them, between the look and the kill.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ingestion.raw_tables import create_raw_tables
from simulation.traffic import simulated_events
from tests.holds import hold
from ytempire.clients import pg_connect

EVENTS = 1_000_000
CHUNK = 100_000  # messages per dlt load: ten loads


def _landed(loader, topic: str) -> int:
    if loader("select to_regclass('raw_events.events')")[0][0] is None:
        return 0
    return loader("select count(*) from raw_events.events where kafka_topic = %s", (topic,))[0][0]


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
    with pg_connect("loader", settings=settings) as conn:
        create_raw_tables(conn, settings)  # the hold's trigger needs the table
    when = f"(select count(*) from raw_events.events where kafka_topic = '{topic}') >= hold_value()"

    # (where the kill falls, hold a load once the table holds this many rows: None = all)
    kill_points: list[tuple[str, int | None]] = [
        ("at start-up, before anything landed", None),
        ("after the first committed load", 1),
        ("while a fresh load package is on disk", 1),
        ("after one more committed load", 1),
        ("at start-up, with a package left behind", None),
    ]
    landed_at_kill: list[int] = []
    packages_at_kill: list[bool] = []
    with hold(settings, "raw_events.events", when, level="statement") as loads:
        for what, more in kill_points:
            landed_before = _landed(loader, topic)
            loads.hold_from(0 if more is None else landed_before + more)
            with loads.closed():
                process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
                if more is not None:
                    loads.wait_until_held(process, what)
                process.kill()
                process.wait()
                packages_at_kill.append(_package_on_disk(pipelines_dir / topic))
            landed_at_kill.append(_landed(loader, topic))
            print(f"killed {what}: {landed_at_kill[-1]:,} events landed so far")

    # Each held run first loads the package the previous kill left behind, then is held
    # at its next load, whose package is on disk.
    assert landed_at_kill[0] == 0
    assert 0 < landed_at_kill[1] < landed_at_kill[2] < landed_at_kill[3] < EVENTS
    assert packages_at_kill[1:4] == [True, True, True]
    assert landed_at_kill[4] == landed_at_kill[3]  # everything held: nothing landed
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    rows = loader("select event_id::text from raw_events.events where kafka_topic = %s", (topic,))
    landed = [r[0] for r in rows]
    assert len(landed) == len(set(landed)) == EVENTS
    assert set(landed) == produced
