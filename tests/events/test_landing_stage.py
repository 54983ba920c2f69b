"""`ytempire ingest events` records its run as the day's `events_landing` stage."""

from __future__ import annotations

from datetime import date

from simulation.traffic import simulated_events
from tests.cli import run_ytempire
from tests.pg_faults import locked_ending_its_waiters

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


def test_a_load_failing_on_every_retry_prints_one_error_exits_2_and_records_the_stage(
    settings, new_topic, produce, loader, tmp_path
):
    """Through the command: dlt's tries are a line each, no traceback; the stage is failed."""
    topic, dlq = new_topic("events"), new_topic("dlq")
    traffic = [(key, value) for _, key, value, _ in simulated_events(80, seed=63)]
    command = (
        "ingest", "events", "--topic", topic, "--dead-letter-topic", dlq,
        "--pipelines-dir", str(tmp_path / "dlt"), "--pipeline-name", topic,
        "--run-date", date(2031, 7, 9).isoformat(),
    )  # fmt: skip
    produce(topic, traffic[:40])
    assert run_ytempire(*command).returncode == 0  # the tables exist
    produce(topic, traffic[40:])
    with locked_ending_its_waiters(settings, "raw_events.events", "exclusive"):
        stopped = run_ytempire(*command)

    assert stopped.returncode == 2, stopped.stderr
    assert "Traceback" not in stopped.stderr
    *tries, last = stopped.stderr.strip().splitlines()
    assert last.startswith("error: the events load stopped at package "), last
    assert all("traceback with `ytempire -v`" in line for line in tries if "Job for" in line)
    rows = loader(
        "select status, error from analytics.pipeline_stage_runs "
        "where stage = 'events_landing' and run_date = %s order by stage_run_id",
        (date(2031, 7, 9),),
    )
    assert [status for status, _ in rows] == ["success", "failed"]
    assert rows[1][1].startswith("LoadRetriesExhausted: the events load stopped at package ")
    assert run_ytempire(*command).returncode == 0
    assert len(loader("select 1 from raw_events.events where kafka_topic = %s", (topic,))) == 80
