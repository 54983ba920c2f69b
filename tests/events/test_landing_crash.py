"""Exactly-once landing: 1,000,000 events while the loader is SIGKILLed at random points."""

from __future__ import annotations

import random
import subprocess
import sys
import time

import pytest

from ytempire.simulation.traffic import simulated_events

EVENTS = 1_000_000
KILLS = 5


def _landed(loader, topic: str) -> int:
    if loader("select to_regclass('raw_events.events')")[0][0] is None:
        return 0
    return loader("select count(*) from raw_events.events where kafka_topic = %s", (topic,))[0][0]


@pytest.mark.slow
def test_a_loader_killed_at_random_points_lands_every_event_exactly_once(
    settings, new_topic, produce, loader, tmp_path
):
    topic, dlq = new_topic("events", partitions=6), new_topic("dlq")
    produced: set[str] = set()

    def traffic():
        for _, key, value, event_id in simulated_events(EVENTS, seed=2026):
            produced.add(event_id)
            yield key, value

    assert produce(topic, traffic()) == EVENTS
    command = [
        sys.executable, "-m", "ytempire.cli", "ingest", "events", "--topic", topic,
        "--dead-letter-topic", dlq, "--pipelines-dir", str(tmp_path / "dlt"),
        "--pipeline-name", topic,
        "--chunk-size", "100000",
    ]  # fmt: skip
    # kills 2.5-8 s after start: in startup (~2.5 s of imports), mid-read, mid-load and
    # between loads. The window is a few loads long: the landing reads ahead in parallel
    # with its loads (~50k events/s), so a longer one would let it finish the million
    # before the fifth kill
    rng = random.Random(1)
    kills = 0
    progress: list[int] = []
    while kills < KILLS:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(2.5, 8.0))
        assert process.poll() is None, "the loader finished before it could be killed"
        process.kill()
        process.wait()
        kills += 1
        progress.append(_landed(loader, topic))
        print(f"kill {kills}: {progress[-1]:,} events landed so far")

    assert any(0 < landed < EVENTS for landed in progress), "no kill fell between loads"
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)

    rows = loader("select event_id::text from raw_events.events where kafka_topic = %s", (topic,))
    landed = [r[0] for r in rows]
    assert len(landed) == len(set(landed)) == EVENTS
    assert set(landed) == produced
