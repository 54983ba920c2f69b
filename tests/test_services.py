"""The app services run as supervised long-lived processes, with health and lag in doctor.

Real PostgreSQL, Redis and Kafka; the services are started by `ytempire services`
in child processes as a user starts them, against the test database, a topic
and consumer group of the test's own, a free port and a services folder under
the test's tmp_path. Every wait is on observed state, bounded only to fail a
hung test.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from psycopg.types.json import Jsonb

from simulation.bursts import generate
from simulation.bursts import produce as produce_sample
from streaming.checkpoints import last_committed_batch
from streaming.config import WINDOWS_QUERY
from tests.cli import run_ytempire
from tests.conftest import own_database
from tests.waiting import wait_for
from ytempire.clients import kafka_producer, pg_connect
from ytempire.events import encode, new_event
from ytempire.topics import consumer_group_lag

pytestmark = pytest.mark.services  # the services run as `ytempire` child processes

EVENTS_THROUGH_OUTBOX, EVENTS_PRODUCED = 12, 30


def _app_lines(doctor_stdout: str) -> dict[str, str]:
    """doctor's app-service lines by service name."""
    _, _, apps = doctor_stdout.partition("app services")
    return {line.split()[0]: line for line in apps.splitlines()[1:] if line.strip()}


class Stack:
    """One app tier's environment (``env``) and the CLI bound to it."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.dir = Path(env["YTEMPIRE_SERVICES_DIR"])

    def ytempire(self, *args: str) -> Any:
        return run_ytempire(*args, **self.env)


@pytest.fixture
def stack(tmp_path, new_topic, redis_prefix, free_tcp_port) -> Iterator[Stack]:
    topic = new_topic("video-events", partitions=2)
    env = {
        "YTEMPIRE_SERVICES_DIR": str(tmp_path / "services"),
        "YTEMPIRE_PROCESSOR_TOPICS": topic,
        "YTEMPIRE_PROCESSOR_GROUP_ID": f"test-services-{uuid.uuid4().hex[:8]}",
        "YTEMPIRE_REDIS_KEY_PREFIX": redis_prefix,
        "YTEMPIRE_WEBHOOK_PORT": str(free_tcp_port),
    }
    s = Stack(env)
    yield s
    s.ytempire("services", "stop", "all")  # never leave a process behind


def _video_generated(channel: str) -> bytes:
    """A contract event whose handling publishes nothing (no side topic is touched)."""
    payload = {"title": "t", "duration_seconds": 600, "generation_cost_usd": 0.5, "niche": "tech"}
    return encode(new_event("video_generated", channel, payload, video_id=uuid.uuid4()))


def _count(sql: str, *params: Any) -> int:
    with pg_connect("loader") as conn:
        return int(conn.execute(sql, params).fetchone()[0])  # type: ignore[index]


def test_app_tier_starts_reports_lag_and_stops_cleanly(stack, pg_admin):
    topic = stack.env["YTEMPIRE_PROCESSOR_TOPICS"]
    group = stack.env["YTEMPIRE_PROCESSOR_GROUP_ID"]
    started = stack.ytempire("services", "start", "processor", "outbox", "webhook")
    assert started.returncode == 0, started.stdout + started.stderr
    for name in ("processor", "outbox", "webhook"):
        assert f"{name}: started (pid " in started.stdout
        assert (stack.dir / f"{name}.pid").exists()
    again = stack.ytempire("services", "start", "processor")
    assert again.returncode == 0
    assert "processor: already running" in again.stdout

    # Events reach the topic both ways: through the outbox relay and produced directly.
    channel = f"UCsvc{uuid.uuid4().hex[:19]}"
    for _ in range(EVENTS_THROUGH_OUTBOX):
        event = json.loads(_video_generated(channel))
        pg_admin.execute(
            "insert into ytempire.outbox (event_id, topic, message_key, payload) "
            "values (%s, %s, %s, %s)",
            (event["event_id"], topic, channel, Jsonb(event)),
        )
    producer = kafka_producer()
    for _ in range(EVENTS_PRODUCED):
        producer.send(topic, key=channel.encode(), value=_video_generated(channel))
    producer.flush()
    producer.close()
    total = EVENTS_THROUGH_OUTBOX + EVENTS_PRODUCED

    def caught_up() -> bool:
        done = _count(
            "select count(*) from ytempire.processed_events where kafka_topic = %s", topic
        )
        return done == total and sum(consumer_group_lag(group, [topic]).values()) == 0

    wait_for(caught_up, "the processor to handle every event and commit its offsets")
    assert _count("select count(*) from ytempire.videos where channel_id = %s", channel) == total
    assert (
        _count("select count(*) from ytempire.outbox where topic = %s and sent_at is null", topic)
        == 0
    )

    doctor = stack.ytempire("doctor", "--apps")
    lines = _app_lines(doctor.stdout)
    assert lines["processor"].split()[1] == "running", doctor.stdout
    assert f"group {group} (1 member): lag 0 ({topic} 0)" in lines["processor"]
    assert lines["outbox"].split()[1] == "running"
    assert "outbox: 0 events pending" in lines["outbox"]
    assert lines["webhook"].split()[1] == "running"
    assert f":{stack.env['YTEMPIRE_WEBHOOK_PORT']}/healthz: 200" in lines["webhook"]
    assert lines["windows"].split()[1] == "stopped"
    assert doctor.returncode == 1  # asked for the apps, and windows is stopped
    assert "down: windows" in doctor.stderr

    # The timeout only bounds a hung stop: SIGTERM's clean exit is the verdict.
    stopped = stack.ytempire("services", "stop", "processor", "--timeout", "600")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "processor: stopped\n" in stopped.stdout  # on SIGTERM, not killed
    assert not (stack.dir / "processor.pid").exists()
    log = (stack.dir / "processor.log").read_text()
    assert f"processed {total} events" in log
    assert log.rstrip().endswith("lag left: 0")  # its own closing summary: a clean exit
    status = stack.ytempire("services", "status", "processor")
    assert status.returncode == 1
    assert _app_lines("app services\n" + status.stdout)["processor"].split()[1] == "stopped"


def test_a_service_whose_port_is_taken_is_refused(stack, tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", int(stack.env["YTEMPIRE_WEBHOOK_PORT"])))
        holder.listen()
        refused = stack.ytempire("services", "start", "webhook")
    assert refused.returncode == 1
    port = stack.env["YTEMPIRE_WEBHOOK_PORT"]
    assert f"webhook: 127.0.0.1:{port} is already taken by another process" in refused.stderr
    assert "set YTEMPIRE_WEBHOOK_PORT to a free port" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert not (stack.dir / "webhook.pid").exists()


def test_a_service_that_died_is_reported_as_exited(stack):
    """A pid file whose process is gone (a crash, a reboot) is not a running service."""
    stack.dir.mkdir(parents=True)
    # A pid that certainly runs something other than the relay: this test's own.
    (stack.dir / "outbox.pid").write_text(f"{os.getpid()}\n")
    status = stack.ytempire("services", "status", "outbox")
    line = _app_lines("app services\n" + status.stdout)["outbox"]
    assert line.split()[1] == "exited"
    assert "exited without `ytempire services stop`" in line
    started = stack.ytempire("services", "start", "outbox")
    assert started.returncode == 0, started.stdout + started.stderr
    assert "outbox: started (pid " in started.stdout
    assert (stack.dir / "outbox.pid").read_text().strip() != str(os.getpid())


@pytest.mark.slow
def test_the_continuous_spark_job_reports_its_last_micro_batch(tmp_path, new_topic):
    topic = new_topic("video-events", partitions=2)
    checkpoint = tmp_path / "checkpoints" / WINDOWS_QUERY
    with own_database("services_windows") as scenario:
        stack = Stack(
            {
                "YTEMPIRE_SERVICES_DIR": str(tmp_path / "services"),
                "YTEMPIRE_PG_DATABASE": scenario.pg_database,
                "YTEMPIRE_STREAM_TOPICS": topic,
                "YTEMPIRE_STREAM_CHECKPOINT_DIR": str(tmp_path / "checkpoints"),
                "YTEMPIRE_STREAM_TRIGGER": "1 second",
            }
        )
        try:
            started = stack.ytempire("services", "start", "windows")
            assert started.returncode == 0, started.stdout + started.stderr
            start = datetime.now(UTC) - timedelta(minutes=5)
            events = generate(200, start=start, span=timedelta(minutes=5), channels=4, seed=11)
            sent = produce_sample(events, video_topic=topic, channel_topic=topic)
            assert sent == 200

            def caught_up() -> bool:
                batch = last_committed_batch(checkpoint)
                return batch is not None and sum(batch.offsets.get(topic, {}).values()) == sent

            wait_for(caught_up, "the Spark job to commit a micro-batch of every event", 600)
            before = last_committed_batch(checkpoint)
            doctor = stack.ytempire("doctor")
            after = last_committed_batch(checkpoint)
            line = _app_lines(doctor.stdout)["windows"]
            assert line.split()[1] == "running", doctor.stdout
            # The job may commit a batch without data (its watermark moved) meanwhile.
            assert before is not None
            assert after is not None
            shown = int(line.split("micro-batch ")[1].split()[0])
            assert before.batch_id <= shown <= after.batch_id, line
            assert f"lag 0 ({topic} 0)" in line
            stopped = stack.ytempire("services", "stop", "windows", "--timeout", "600")
            assert stopped.returncode == 0, stopped.stdout + stopped.stderr
            assert "windows: stopped\n" in stopped.stdout  # on SIGTERM, not killed
            log = (stack.dir / "windows.log").read_text()
            assert log.rstrip().endswith("stopped; the next run resumes from the checkpoint")
            assert "Traceback" not in log
        finally:
            stack.ytempire("services", "stop", "windows")
