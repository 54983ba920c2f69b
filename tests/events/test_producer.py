"""The operational producer and its outbox relay against real PostgreSQL, Redis and Kafka."""

from __future__ import annotations

import json
import uuid

import pytest

from ingestion.kafka_events.landing import land_events
from platform_services.producer import InvalidEvent, record_video_generated, relay_outbox
from simulation.ids import channel_id
from tests.read_topic import read_topic
from ytempire.clients import kafka_producer, pg_connect, redis_client
from ytempire.errors import YTEmpireError
from ytempire.events import new_event

CHANNEL = channel_id(901, seed=77)


class _Killed(Exception):
    """Stands for a SIGKILL between publishing and committing."""


def _messages(settings, topic: str) -> list:
    return read_topic(topic, settings)


def _generated(channel: str = CHANNEL) -> dict:
    event = new_event(
        "video_generated",
        channel,
        {"title": "Ten tips", "duration_seconds": 600, "generation_cost_usd": 1.2, "niche": "tech"},
        video_id=uuid.uuid4(),
    )
    return event.model_dump(mode="json")


@pytest.fixture
def env(settings, new_topic, redis_prefix):
    conn = pg_connect("loader", settings=settings)
    conn.execute(
        "insert into ytempire.channels (channel_id, title) values (%s, 'Test') "
        "on conflict do nothing",
        (CHANNEL,),
    )
    conn.commit()
    producer = kafka_producer(settings=settings, compression_type="gzip")
    topics = {name: new_topic(name) for name in ("video-events", "error-queue", "alerts")}
    yield conn, producer, topics, redis_prefix
    producer.close()
    conn.close()


def _record(env, data):
    conn, producer, topics, prefix = env
    return record_video_generated(
        conn,
        data,
        redis_client=redis_client(),
        producer=producer,
        topic=topics["video-events"],
        redis_prefix=prefix,
        error_topic=topics["error-queue"],
        alert_topic=topics["alerts"],
    )


def _count(conn, sql, *params):
    return conn.execute(sql, params).fetchone()[0]


def test_a_video_and_its_event_commit_together_and_the_relay_publishes_it(settings, env):
    conn, producer, topics, prefix = env
    before = _count(
        conn, "select video_count from ytempire.channels where channel_id = %s", CHANNEL
    )
    event = _record(env, _generated())

    assert _count(
        conn, "select status from ytempire.videos where video_id = %s", event.video_id
    ) == ("generated")
    after = _count(conn, "select video_count from ytempire.channels where channel_id = %s", CHANNEL)
    assert after == before + 1
    key = f"{prefix}channel:{CHANNEL}:latest_video"
    assert redis_client().get(key) == str(event.video_id)
    assert 0 < redis_client().ttl(key) <= 3600
    assert _messages(settings, topics["video-events"]) == []  # not published before the relay

    assert relay_outbox(conn, producer) == (1, 0)
    assert relay_outbox(conn, producer) == (0, 0)
    (message,) = _messages(settings, topics["video-events"])
    assert message.key.decode() == CHANNEL
    assert json.loads(message.value)["event_id"] == str(event.event_id)


def test_a_relay_crash_after_publishing_republishes_and_the_landing_keeps_one(
    settings, env, loader, new_topic, tmp_path
):
    conn, producer, topics, _ = env
    events = [_record(env, _generated()) for _ in range(3)]

    def relay_then_die() -> None:  # publishes, then dies before its commit
        with conn.transaction():
            relay_outbox(conn, producer)
            raise _Killed

    with pytest.raises(_Killed):
        relay_then_die()
    assert relay_outbox(conn, producer) == (3, 0)
    assert len(_messages(settings, topics["video-events"])) == 6

    land_events(
        [topics["video-events"]],
        pipelines_dir=tmp_path,
        pipeline_name=tmp_path.name,
        dead_letter_topic=new_topic("dlq"),
        settings=settings,
    )
    landed = loader(
        "select event_id::text from raw_events.events where kafka_topic = %s",
        (topics["video-events"],),
    )
    assert sorted(r[0] for r in landed) == sorted(str(e.event_id) for e in events)


def test_invalid_events_go_to_the_error_queue_and_store_nothing(settings, env):
    conn, _, topics, _ = env
    data = _generated()
    data["payload"]["duration_seconds"] = 5
    with pytest.raises(InvalidEvent, match=r"payload.duration_seconds: .*greater_than_equal"):
        _record(env, data)
    assert (
        _count(conn, "select count(*) from ytempire.videos where video_id = %s", data["video_id"])
        == 0
    )
    (error,) = _messages(settings, topics["error-queue"])
    assert json.loads(error.value)["retry_count"] == 0
    assert _messages(settings, topics["alerts"]) == []

    with pytest.raises(YTEmpireError, match=r"channel .* ytempire\.channels"):
        _record(env, {**_generated(channel_id(902, seed=77)), "retry_count": 4})
    errors = _messages(settings, topics["error-queue"])
    assert [json.loads(m.value)["retry_count"] for m in errors] == [0, 4]
    (alert,) = _messages(settings, topics["alerts"])
    assert json.loads(alert.value)["severity"] == "critical"


def test_an_event_failing_to_publish_is_retried_then_raises_a_critical_alert(settings, env):
    conn, producer, topics, _ = env
    event = _record(env, _generated())
    conn.execute(
        "update ytempire.outbox set topic = 'no such topic!' where event_id = %s", (event.event_id,)
    )
    conn.commit()
    kwargs = {"error_topic": topics["error-queue"], "alert_topic": topics["alerts"]}
    outcomes = [relay_outbox(conn, producer, **kwargs) for _ in range(4)]
    assert all(failed >= 1 for _, failed in outcomes)
    retries = [
        json.loads(m.value)["retry_count"] for m in _messages(settings, topics["error-queue"])
    ]
    assert retries[-4:] == [1, 2, 3, 4]
    (alert,) = _messages(settings, topics["alerts"])
    assert json.loads(alert.value)["retry_count"] == 4
    conn.execute("delete from ytempire.outbox where event_id = %s", (event.event_id,))
    conn.commit()
