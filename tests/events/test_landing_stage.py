"""`ytempire ingest events` records its run as the day's `events_landing` stage."""

from __future__ import annotations

from datetime import date

from simulation.traffic import simulated_events
from tests.cli import run_ytempire

RUN_DATE = date(2031, 7, 8)
VALID = 40


def test_landing_records_messages_and_dead_letters(new_topic, produce, loader, tmp_path):
    topic, dlq = new_topic("events"), new_topic("dlq")
    traffic = [(key, value) for _, key, value, _ in simulated_events(VALID, seed=7)]
    produce(topic, [*traffic, ("bad", b"not json")])
    result = run_ytempire(
        "ingest", "events", "--topic", topic, "--dead-letter-topic", dlq,
        "--pipelines-dir", str(tmp_path / "dlt"), "--pipeline-name", topic,
        "--run-date", RUN_DATE.isoformat(),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = loader(
        "select status, (details ->> 'messages')::int, (details ->> 'dead_lettered')::int "
        "from analytics.pipeline_stage_runs where stage = 'events_landing' and run_date = %s",
        (RUN_DATE,),
    )
    assert rows == [("success", VALID + 1, 1)]
