"""The signed video-uploaded webhook against real PostgreSQL, Redis and Kafka."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from streaming.webhook import SIGNATURE_HEADER, create_app, sign
from tests.events.youtube_stub import video_resource, youtube_stub
from ytempire.clients import kafka_consumer, pg_connect, redis_client
from ytempire.events import new_event
from ytempire.simulation.ids import channel_id, youtube_video_id

CHANNEL = channel_id(903, seed=77)
YT = youtube_video_id(903, 1, seed=77)


@pytest.fixture
def video(settings) -> uuid.UUID:
    video_id = uuid.uuid4()
    with pg_connect("loader", settings=settings) as conn:
        conn.execute(
            "insert into ytempire.channels (channel_id) values (%s) on conflict do nothing",
            (CHANNEL,),
        )
        conn.execute(
            "insert into ytempire.videos (video_id, channel_id) values (%s, %s)",
            (video_id, CHANNEL),
        )
    return video_id


@pytest.fixture
def hook(settings, new_topic, redis_prefix):
    topic = new_topic("video-analytics")
    with youtube_stub({YT: video_resource(YT, views=12_345, likes=678, comments=9)}) as url:
        s = replace(settings, youtube_api_url=url, webhook_max_body_bytes=2_048)
        app = create_app(s, analytics_topic=topic, redis_prefix=redis_prefix)
        with TestClient(app) as client:
            yield client, s, topic, redis_prefix


def _body(video_id: uuid.UUID, yt: str = YT) -> bytes:
    event = new_event("video_uploaded", CHANNEL, {"youtube_video_id": yt}, video_id=video_id)
    return event.model_dump_json().encode()


def _post(client, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers[SIGNATURE_HEADER] = signature
    return client.post("/webhooks/video-uploaded", content=body, headers=headers)


def _stored(settings, video_id) -> list:
    with pg_connect("loader", settings=settings) as conn:
        return conn.execute(
            "select views, likes, comments, source from ytempire.video_metrics where video_id = %s",
            (video_id,),
        ).fetchall()


def _published(settings, topic) -> list:
    consumer = kafka_consumer(
        topic, settings=settings, auto_offset_reset="earliest", consumer_timeout_ms=3_000
    )
    messages = [json.loads(m.value) for m in consumer]
    consumer.close()
    return messages


def test_a_signed_upload_stores_caches_and_publishes_the_statistics(hook, video):
    client, s, topic, prefix = hook
    body = _body(video)
    response = _post(client, body, sign(body, s.webhook_secret))
    assert response.status_code == 200, response.text
    assert response.json()["views"] == 12_345
    assert _stored(s, video) == [(12_345, 678, 9, "webhook")]
    key = f"{prefix}video:{video}:metrics"
    assert json.loads(redis_client().get(key))["likes"] == 678
    assert 0 < redis_client().ttl(key) <= 3600
    (message,) = _published(s, topic)
    assert (message["youtube_video_id"], message["comments"]) == (YT, 9)


@pytest.mark.parametrize(
    ("case", "status", "message"),
    [
        ("no signature", 401, "missing X-YTEmpire-Signature"),
        ("wrong secret", 401, "does not match"),
        ("tampered body", 401, "does not match"),
        ("too large", 413, "exceeds the limit"),
        ("not an event", 422, "event_id: Field required"),
        ("wrong event type", 422, "expected 'video_uploaded'"),
        ("unknown video", 404, "is not in ytempire.videos"),
        ("unknown on YouTube", 404, "YouTube has no video"),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_store_nothing(hook, video, case, status, message):
    client, s, topic, prefix = hook
    body, secret = _body(video), s.webhook_secret
    signature: str | None = sign(body, secret)
    if case == "no signature":
        signature = None
    elif case == "wrong secret":
        signature = sign(body, "guessed")
    elif case == "tampered body":
        body = body.replace(b'"video_uploaded"', b'"video_uploaded" ')
    elif case == "too large":
        body = body[:-1] + b', "padding": "' + b"x" * 4_096 + b'"}'
        signature = sign(body, secret)
    elif case == "not an event":
        body = json.dumps({"event_type": "video_uploaded", "video_id": str(video)}).encode()
        signature = sign(body, secret)
    elif case == "wrong event type":
        event = new_event("quality_check", CHANNEL, {"quality_score": 90}, video_id=video)
        body = event.model_dump_json().encode()
        signature = sign(body, secret)
    elif case == "unknown video":
        body = _body(uuid.uuid4())
        signature = sign(body, secret)
    elif case == "unknown on YouTube":
        body = _body(video, yt="AAAAAAAAAAA")
        signature = sign(body, secret)

    response = _post(client, body, signature)
    assert response.status_code == status
    assert message in response.json()["error"]
    assert _stored(s, video) == []
    assert list(redis_client().scan_iter(f"{prefix}*")) == []
    assert _published(s, topic) == []
