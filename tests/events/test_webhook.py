"""The signed video-uploaded webhook against real PostgreSQL, Redis, Kafka and the simulator.

Every test counts what a delivery left behind -- ``video_metrics`` and
``webhook_deliveries`` rows, Redis cache keys, Kafka messages and quota units
-- before and after. The YouTube Data API is the project's simulator, so the
quota ledger it keeps is compared with the webhook's Redis budget.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date

import pytest
from fastapi.testclient import TestClient
from kafka import TopicPartition

from platform_services.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, create_app, sign
from simulation import ids
from simulation.network import Network
from simulation.youtube import YouTubeSimulator
from tests.events.tcp_proxy import TcpProxy
from ytempire.clients import kafka_admin, kafka_consumer, pg_connect, redis_client
from ytempire.events import new_event
from ytempire.quota import QuotaBudget, quota_day

PATH = "/webhooks/video-uploaded"
BOUND_S = 120.0  # only a hung webhook fails on it; verdicts wait on what happened
SIM_DAY = date(2025, 3, 1)  # every simulated channel has several uploads by then
_videos = itertools.count()  # each test's videos are new to the session's database


@dataclass(frozen=True)
class Video:
    video_id: uuid.UUID
    channel_id: str
    youtube_video_id: str


@pytest.fixture
def simulator() -> Iterator[YouTubeSimulator]:
    sim = YouTubeSimulator(Network(), day=SIM_DAY, api_key="test-key")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def base(settings, simulator) -> object:
    return replace(
        settings, youtube_api_url=simulator.url, youtube_api_key="test-key", webhook_docs=0
    )


def make_video(settings, *, with_youtube_id: bool = True) -> Video:
    n = next(_videos)
    channel_index, upload = n % 250, 3 + n // 250
    video = Video(
        uuid.uuid4(),
        ids.channel_id(channel_index),
        ids.youtube_video_id(channel_index, upload),
    )
    with pg_connect("loader", settings=settings) as conn:
        conn.execute(
            "insert into ytempire.channels (channel_id) values (%s) on conflict do nothing",
            (video.channel_id,),
        )
        conn.execute(
            "insert into ytempire.videos (video_id, channel_id, youtube_video_id) "
            "values (%s, %s, %s)",
            (video.video_id, video.channel_id, video.youtube_video_id if with_youtube_id else None),
        )
    return video


@pytest.fixture
def video(settings) -> Video:
    return make_video(settings)


@dataclass
class Hook:
    client: TestClient
    settings: object
    topic: str
    prefix: str
    simulator: YouTubeSimulator

    def post(self, body: bytes, headers: dict[str, str]):
        return self.client.post(PATH, content=body, headers=headers)

    def deliver(self, video: Video, *, delivery_id: str | None = None, body: bytes | None = None):
        body = body if body is not None else event_body(video)
        return self.post(body, signed_headers(body, self.settings, delivery_id))

    def counts(self, video: Video) -> dict[str, int]:
        return counts(self.settings, video, self.prefix, self.topic)

    def budget_used(self) -> int:
        return int(redis_client().get(f"{self.prefix}youtube:quota:{quota_day()}") or 0)


def event_body(video: Video, **changes: object) -> bytes:
    payload = {"youtube_video_id": changes.pop("youtube_video_id", video.youtube_video_id)}
    event = new_event("video_uploaded", video.channel_id, payload, video_id=video.video_id)
    data = json.loads(event.model_dump_json())
    data.update(changes)
    return json.dumps(data).encode()


def signed_headers(
    body: bytes, settings, delivery_id: str | None = None, **overrides: str
) -> dict[str, str]:
    delivery_id = delivery_id or uuid.uuid4().hex
    headers = {
        "Content-Type": "application/json",
        DELIVERY_HEADER: delivery_id,
        SIGNATURE_HEADER: sign(body, settings.webhook_secret, delivery_id=delivery_id),
    }
    headers.update(overrides)
    return headers


def messages_in(settings, topic: str) -> int:
    consumer = kafka_consumer(settings=settings)
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return sum(consumer.end_offsets(partitions).values()) if partitions else 0
    finally:
        consumer.close()


def counts(settings, video: Video, prefix: str, topic: str) -> dict[str, int]:
    with pg_connect("loader", settings=settings) as conn:
        rows = conn.execute(
            "select (select count(*) from ytempire.video_metrics where video_id = %(v)s), "
            "(select count(*) from ytempire.webhook_deliveries where video_id = %(v)s)",
            {"v": video.video_id},
        ).fetchone()
    assert rows is not None
    return {
        "video_metrics": rows[0],
        "webhook_deliveries": rows[1],
        "redis_keys": len(list(redis_client().scan_iter(f"{prefix}video:*"))),
        "kafka_messages": messages_in(settings, topic),
    }


NOTHING = {"video_metrics": 0, "webhook_deliveries": 0, "redis_keys": 0, "kafka_messages": 0}
ONE_EACH = {"video_metrics": 1, "webhook_deliveries": 1, "redis_keys": 1, "kafka_messages": 1}


@pytest.fixture
def hook(base, new_topic, redis_prefix, simulator) -> Iterator[Hook]:
    topic = new_topic("video-analytics")
    s = replace(base, webhook_max_body_bytes=2_048)
    with TestClient(create_app(s, analytics_topic=topic, redis_prefix=redis_prefix)) as client:
        yield Hook(client, s, topic, redis_prefix, simulator)


# --- deliveries --------------------------------------------------------------------------


def test_a_signed_delivery_stores_caches_and_publishes_once(hook, video):
    assert hook.counts(video) == NOTHING
    response = hook.deliver(video)
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["replayed"] is False
    assert record["youtube_video_id"] == video.youtube_video_id
    assert record["views"] > 0
    assert hook.counts(video) == ONE_EACH
    with pg_connect("loader", settings=hook.settings) as conn:
        stored = conn.execute(
            "select views, likes, comments, source from ytempire.video_metrics where video_id = %s",
            (video.video_id,),
        ).fetchall()
    assert stored == [(record["views"], record["likes"], record["comments"], "webhook")]
    key = f"{hook.prefix}video:{video.video_id}:metrics"
    assert json.loads(redis_client().get(key))["views"] == record["views"]
    assert 0 < redis_client().ttl(key) <= 3600


def test_a_replayed_delivery_is_acknowledged_and_stores_nothing_new(hook, video):
    body = event_body(video)
    headers = signed_headers(body, hook.settings)
    first = hook.post(body, headers)
    assert first.status_code == 200, first.text
    after_first, units = hook.counts(video), hook.simulator.ledger.used()
    for _ in range(2):
        again = hook.post(body, headers)
        assert again.status_code == 200
        assert again.json() == {**first.json(), "replayed": True}
    # The same event under a new delivery id is the same delivery too.
    other = hook.post(body, signed_headers(body, hook.settings))
    assert other.status_code == 200
    assert other.json()["replayed"] is True
    assert hook.counts(video) == after_first == ONE_EACH
    assert hook.simulator.ledger.used() == units  # no YouTube call either


def test_two_events_of_one_video_are_two_deliveries(hook, video):
    assert hook.deliver(video).status_code == 200
    assert hook.deliver(video).status_code == 200
    assert hook.counts(video) == {k: 2 * v for k, v in ONE_EACH.items()} | {"redis_keys": 1}


def test_the_quota_budget_equals_the_simulators_ledger(hook, settings):
    videos = [make_video(settings) for _ in range(4)]
    for v in videos:
        assert hook.deliver(v).status_code == 200
    assert hook.deliver(videos[0]).status_code == 200  # a second event: one more call
    mismatched = event_body(videos[1], payload={"youtube_video_id": "A" * 11})
    # The pair disagrees with the warehouse: refused before any call, nothing spent.
    assert hook.deliver(videos[1], body=mismatched).status_code == 409
    assert hook.simulator.ledger.calls("videos.list") == 5
    assert hook.budget_used() == hook.simulator.ledger.used() == 5


def test_a_video_youtube_does_not_have_costs_its_unit_and_stores_nothing(hook, settings):
    video = make_video(settings, with_youtube_id=False)
    body = event_body(video, payload={"youtube_video_id": "AAAAAAAAAAA"})
    response = hook.post(body, signed_headers(body, hook.settings))
    assert response.status_code == 404
    assert "YouTube has no video AAAAAAAAAAA" in response.json()["error"]
    assert hook.counts(video) == NOTHING
    assert hook.budget_used() == hook.simulator.ledger.used() == 1


# --- a down service: 503 naming it, nothing stored, the retry stores one of each -----------


@pytest.mark.parametrize("service", ["PostgreSQL", "Redis", "Kafka"])
def test_a_delivery_failed_by_a_down_service_stores_nothing_and_its_retry_one_of_each(
    base, new_topic, redis_prefix, simulator, video, service
):
    target = {"PostgreSQL": base.pg_port, "Redis": 6379, "Kafka": 9092}[service]
    proxy = TcpProxy(target)  # down: its port refuses connections, as a stopped server's does
    s = {
        "PostgreSQL": replace(base, pg_port=proxy.port),
        "Redis": replace(base, redis_url=f"redis://127.0.0.1:{proxy.port}/0"),
        "Kafka": replace(base, kafka_bootstrap=f"127.0.0.1:{proxy.port}"),
    }[service]
    topic = new_topic("video-analytics")
    app = create_app(s, analytics_topic=topic, redis_prefix=redis_prefix)
    body = event_body(video)
    headers = signed_headers(body, s)
    try:
        with TestClient(app) as client:
            failed = client.post(PATH, content=body, headers=headers)
            assert failed.status_code == 503, failed.text
            assert failed.json()["service"] == service
            assert f"{service} is down or unreachable" in failed.json()["error"]
            assert int(failed.headers["Retry-After"]) > 0
            assert counts(base, video, redis_prefix, topic) == NOTHING
            assert simulator.ledger.used() == 0  # fail closed: no unreserved call

            proxy.up()
            retried = client.post(PATH, content=body, headers=headers)
            assert retried.status_code == 200, retried.text
            assert retried.json()["replayed"] is False
            assert client.post(PATH, content=body, headers=headers).json()["replayed"] is True
    finally:
        proxy.down()
    assert counts(base, video, redis_prefix, topic) == ONE_EACH


def _topic_with_limit(admin, max_message_bytes: int) -> str:
    from kafka.admin import NewTopic

    topic = f"test-video-analytics-{uuid.uuid4().hex[:12]}"
    config = {"max.message.bytes": str(max_message_bytes)}
    admin.create_topics(
        [NewTopic(topic, num_partitions=1, replication_factor=1, topic_configs=config)]
    )
    admin.wait_for_topics([topic])
    return topic


def _set_limit(admin, topic: str, max_message_bytes: int) -> None:
    from kafka.admin import ConfigResource, ConfigResourceType

    resource = ConfigResource(
        ConfigResourceType.TOPIC, topic, configs={"max.message.bytes": str(max_message_bytes)}
    )
    admin.alter_configs([resource])
    described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    assert described["topic"][topic]["max.message.bytes"]["value"] == str(max_message_bytes)


def test_kafka_refusing_the_message_takes_back_the_row_and_restores_the_cache_entry(
    base, redis_prefix, simulator, video
):
    # The broker refuses a record over the topic's limit: the send fails after the quota
    # unit was spent and the row and the cache entry were written -- the path of a broker
    # lost mid-request. The video's earlier cache entry must survive, and the unit must be
    # the delivery's only one: its retry stores what it bought, without a second call.
    admin = kafka_admin(settings=base)
    topic = _topic_with_limit(admin, 64)
    app = create_app(base, analytics_topic=topic, redis_prefix=redis_prefix)
    body = event_body(video)
    headers = signed_headers(body, base)
    key = f"{redis_prefix}video:{video.video_id}:metrics"
    earlier = json.dumps({"views": 7, "delivery_id": "an-earlier-delivery"})
    redis_client().set(key, earlier, ex=1_800)
    try:
        with TestClient(app) as client:
            failed = client.post(PATH, content=body, headers=headers)
            assert failed.status_code == 503, failed.text
            assert failed.json()["service"] == "Kafka"
            assert counts(base, video, redis_prefix, topic) == {**NOTHING, "redis_keys": 1}
            assert redis_client().get(key) == earlier  # put back, not deleted
            assert 0 < redis_client().ttl(key) <= 1_800
            assert simulator.ledger.used() == 1  # YouTube was called: the unit is spent

            _set_limit(admin, topic, 1_048_588)
            retried = client.post(PATH, content=body, headers=headers)
            assert retried.status_code == 200, retried.text
            assert retried.json()["replayed"] is False
        assert counts(base, video, redis_prefix, topic) == ONE_EACH
        assert json.loads(redis_client().get(key))["delivery_id"] == headers[DELIVERY_HEADER]
        assert simulator.ledger.used() == 1  # the retry did not call YouTube again
        budget = int(redis_client().get(f"{redis_prefix}youtube:quota:{quota_day()}") or 0)
        assert budget == 1
    finally:
        admin.delete_topics([topic])
        admin.close()


def test_a_missing_topic_refuses_the_delivery_before_it_spends_quota(
    base, redis_prefix, simulator, video
):
    topic = f"test-video-analytics-{uuid.uuid4().hex[:12]}"  # the broker does not create it
    app = create_app(replace(base), analytics_topic=topic, redis_prefix=redis_prefix)
    body = event_body(video)
    with TestClient(app) as client:
        failed = client.post(PATH, content=body, headers=signed_headers(body, base))
    assert failed.status_code == 503, failed.text
    assert failed.json()["service"] == "Kafka"
    assert simulator.ledger.used() == 0
    assert counts(base, video, redis_prefix, topic) == NOTHING


def test_concurrent_copies_of_one_delivery_spend_one_unit_and_store_once(hook, video, monkeypatch):
    # The first copy is held as it reserves its quota unit; every other copy must be
    # answered meanwhile without reserving one (before the fix each did: ten units).
    arrived, release = threading.Semaphore(0), threading.Event()
    calls = itertools.count(1)
    reserve = QuotaBudget.reserve

    def gated(self, method, day, *args, **kwargs):
        n = next(calls)
        arrived.release()
        if n == 1:
            assert release.wait(BOUND_S), "the test never released the first reservation"
        return reserve(self, method, day, *args, **kwargs)

    monkeypatch.setattr(QuotaBudget, "reserve", gated)
    body = event_body(video)
    copies = [signed_headers(body, hook.settings) for _ in range(4)]  # 4 delivery ids
    copies += [copies[0]] * 6  # and the first sent six more times: ten copies
    answers: list = [None] * len(copies)

    def send(i: int) -> None:
        answers[i] = hook.post(body, copies[i])

    threads = [threading.Thread(target=send, args=(i,), daemon=True) for i in range(10)]
    for thread in threads:
        thread.start()
    assert arrived.acquire(timeout=BOUND_S)  # one copy is reserving its unit, held there
    deadline = time.monotonic() + BOUND_S
    while sum(a is not None for a in answers) < 9:
        assert not arrived.acquire(blocking=False), "a second copy reserved a unit"
        assert time.monotonic() < deadline, f"copies left unanswered: {answers}"
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(BOUND_S)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 9, [a.text for a in answers]
    assert all(
        "is being processed now" in a.json()["error"] for a in answers if a.status_code == 409
    )
    assert all(a.headers["Retry-After"] == "1" for a in answers if a.status_code == 409)
    # each retry gets the stored answer
    for headers in copies:
        again = hook.post(body, headers)
        assert again.status_code == 200
        assert again.json()["replayed"] is True
    assert hook.simulator.ledger.used() == hook.budget_used() == 1
    assert hook.counts(video) == ONE_EACH


def test_cache_keys_carry_the_configured_prefix(base, new_topic, video, settings):
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    topic = new_topic("video-analytics")
    s = replace(base, redis_key_prefix=prefix)
    try:
        with TestClient(create_app(s, analytics_topic=topic)) as client:
            body = event_body(video)
            assert (
                client.post(PATH, content=body, headers=signed_headers(body, s)).status_code == 200
            )
        keys = sorted(redis_client().scan_iter(f"{prefix}*"))
        assert f"{prefix}video:{video.video_id}:metrics" in keys
        assert f"{prefix}youtube:quota:{quota_day()}" in keys
        assert not redis_client().exists(f"video:{video.video_id}:metrics")
        assert not [k for k in keys if ":claim:" in k]  # claims are released
    finally:
        if keys := list(redis_client().scan_iter(f"{prefix}*")):
            redis_client().delete(*keys)


# --- mismatched ids ----------------------------------------------------------------------


def test_a_video_id_posted_with_another_videos_youtube_id_is_refused(hook, settings):
    mine, other = make_video(settings), make_video(settings)
    body = event_body(mine, payload={"youtube_video_id": other.youtube_video_id})
    response = hook.post(body, signed_headers(body, hook.settings))
    assert response.status_code == 409
    assert f"is YouTube video {mine.youtube_video_id}" in response.json()["error"]
    assert hook.counts(mine) == hook.counts(other) == NOTHING
    assert hook.simulator.ledger.used() == 0


def test_a_youtube_id_another_video_owns_is_refused_for_a_video_without_one(hook, settings):
    fresh, other = make_video(settings, with_youtube_id=False), make_video(settings)
    body = event_body(fresh, payload={"youtube_video_id": other.youtube_video_id})
    response = hook.post(body, signed_headers(body, hook.settings))
    assert response.status_code == 409
    assert f"belongs to video_id {other.video_id}" in response.json()["error"]
    assert hook.counts(fresh) == NOTHING


# --- every bad header and field: a clear 4xx, nothing stored -----------------------------


def _bad_request(case: str, video: Video, secret: str) -> tuple[bytes, dict[str, str]]:
    body = event_body(video)
    delivery = uuid.uuid4().hex
    now = int(time.time())  # an hour either side is far outside the 300 s tolerance

    def sig(b: bytes = body, d: str = delivery, t: int | None = None, key: str = secret) -> str:
        return sign(b, key, delivery_id=d, timestamp=t)

    headers = {
        "Content-Type": "application/json",
        DELIVERY_HEADER: delivery,
        SIGNATURE_HEADER: sig(),
    }
    match case:
        case "content type missing":
            del headers["Content-Type"]
        case "content type form":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        case "content type text":
            headers["Content-Type"] = "text/plain"
        case "charset latin-1":
            headers["Content-Type"] = "application/json; charset=latin-1"
        case "delivery id missing":
            del headers[DELIVERY_HEADER]
        case "delivery id too short":
            headers[DELIVERY_HEADER] = "abc"
            headers[SIGNATURE_HEADER] = sig(d="abc")
        case "delivery id bad characters":
            headers[DELIVERY_HEADER] = "delivery/../../etc"
        case "signature missing":
            del headers[SIGNATURE_HEADER]
        case "signature old style":
            headers[SIGNATURE_HEADER] = "sha256=" + "0" * 64
        case "signature without t":
            headers[SIGNATURE_HEADER] = sig().split(",", 1)[1]
        case "signature t not a number":
            headers[SIGNATURE_HEADER] = "t=yesterday," + sig().split(",", 1)[1]
        case "signature without v1":
            headers[SIGNATURE_HEADER] = sig().split(",", 1)[0]
        case "signature wrong secret":
            headers[SIGNATURE_HEADER] = sig(key="guessed")
        case "signature stale":
            headers[SIGNATURE_HEADER] = sig(t=now - 3600)
        case "signature from the future":
            headers[SIGNATURE_HEADER] = sig(t=now + 3600)
        case "timestamp swapped":
            headers[SIGNATURE_HEADER] = f"t={now + 1}," + sig().split(",", 1)[1]
        case "delivery id swapped":
            headers[DELIVERY_HEADER] = uuid.uuid4().hex
        case "body tampered":
            body = body.replace(b'"video_uploaded"', b'"video_uploaded" ')
        case "body too large":
            body = body[:-1] + b', "padding": "' + b"x" * 4_096 + b'"}'
            headers[SIGNATURE_HEADER] = sig(body)
        case _:
            body = _bad_body(case, video)
            headers[SIGNATURE_HEADER] = sig(body)
    return body, headers


def _bad_body(case: str, video: Video) -> bytes:
    event = json.loads(event_body(video))
    match case:
        case "not json":
            return b"{oops"
        case "not utf-8":
            return b'{"event_type": "\xff"}'
        case "json array":
            return b"[]"
        case "empty body":
            return b""
        case "event_id missing":
            del event["event_id"]
        case "event_id not a uuid":
            event["event_id"] = "42"
        case "event_type other":
            event["event_type"] = "quality_check"
            event["payload"] = {"quality_score": 90}
        case "event_type unknown":
            event["event_type"] = "video_teleported"
        case "occurred_at naive":
            event["occurred_at"] = "2026-01-01T00:00:00"
        case "channel_id malformed":
            event["channel_id"] = "not-a-channel"
        case "video_id missing":
            event["video_id"] = None
        case "youtube_video_id malformed":
            event["payload"] = {"youtube_video_id": "<script>"}
        case "youtube_video_id missing":
            event["payload"] = {}
        case "unexpected field":
            event["payload"]["views"] = 1
        case "unknown video":
            event["video_id"] = str(uuid.uuid4())
        case "channel_id another channel":
            event["channel_id"] = "UC" + "Z" * 22
        case "mismatched youtube_video_id":
            event["payload"] = {"youtube_video_id": "BBBBBBBBBBB"}
    return json.dumps(event).encode()


BAD_REQUESTS = [
    ("content type missing", 415, "Content-Type must be application/json"),
    ("content type form", 415, "Content-Type must be application/json"),
    ("content type text", 415, "got 'text/plain'"),
    ("charset latin-1", 415, "UTF-8 JSON"),
    ("delivery id missing", 400, f"missing {DELIVERY_HEADER}"),
    ("delivery id too short", 400, "must be 8-64"),
    ("delivery id bad characters", 400, "must be 8-64"),
    ("signature missing", 401, f"missing {SIGNATURE_HEADER}"),
    ("signature old style", 401, "needs one t=<unix seconds>"),
    ("signature without t", 401, "needs one t=<unix seconds>"),
    ("signature t not a number", 401, "needs one t=<unix seconds>"),
    ("signature without v1", 401, "has no v1="),
    ("signature wrong secret", 401, "does not match"),
    ("signature stale", 401, "s old; at most 300 s is accepted"),
    ("signature from the future", 401, "s in the future; at most 300 s is accepted"),
    ("timestamp swapped", 401, "does not match"),
    ("delivery id swapped", 401, "does not match"),
    ("body tampered", 401, "does not match"),
    ("body too large", 413, "exceeds the limit of 2048 bytes"),
    ("not json", 422, "invalid video_uploaded event"),
    ("not utf-8", 422, "invalid video_uploaded event"),
    ("json array", 422, "invalid video_uploaded event"),
    ("empty body", 422, "invalid video_uploaded event"),
    ("event_id missing", 422, "event_id: Field required"),
    ("event_id not a uuid", 422, "event_id"),
    ("event_type other", 422, "expected 'video_uploaded'"),
    ("event_type unknown", 422, "video_teleported"),
    ("occurred_at naive", 422, "occurred_at"),
    ("channel_id malformed", 422, "channel_id"),
    ("video_id missing", 422, "video_id"),
    ("youtube_video_id malformed", 422, "youtube_video_id"),
    ("youtube_video_id missing", 422, "youtube_video_id: Field required"),
    ("unexpected field", 422, "views"),
    ("unknown video", 404, "is not in ytempire.videos"),
    ("channel_id another channel", 409, "not UCZZZZZZZZZZZZZZZZZZZZZZ"),
    ("mismatched youtube_video_id", 409, "not BBBBBBBBBBB"),
]


@pytest.mark.parametrize(
    ("case", "status", "message"), BAD_REQUESTS, ids=[c for c, *_ in BAD_REQUESTS]
)
def test_every_bad_header_and_field_gets_a_clear_4xx_and_stores_nothing(
    hook, video, case, status, message
):
    body, headers = _bad_request(case, video, hook.settings.webhook_secret)
    response = hook.post(body, headers)
    assert response.status_code == status, response.text
    assert message in response.json()["error"]
    assert hook.counts(video) == NOTHING
    assert hook.simulator.ledger.used() == hook.budget_used() == 0


def test_other_methods_and_paths_are_4xx(hook):
    assert hook.client.get(PATH).status_code == 405
    assert hook.client.post("/webhooks/other", content=b"{}").status_code == 404


def test_api_docs_are_served_only_when_enabled(base, new_topic, redis_prefix):
    topic = new_topic("video-analytics")
    for enabled, status in ((0, 404), (1, 200)):
        app = create_app(replace(base, webhook_docs=enabled), analytics_topic=topic)
        with TestClient(app) as client:
            assert client.get("/openapi.json").status_code == status
            assert client.get("/docs").status_code == status
