"""Signed "video uploaded" webhook (the reference design's n8n workflow) as a small ASGI app.

``POST /webhooks/video-uploaded`` takes a ``video_uploaded`` event of
:mod:`ytempire.events` as its JSON body (``Content-Type: application/json``).
It fetches the video's statistics from the YouTube Data API (``videos.list``
at ``YTEMPIRE_YOUTUBE_API_URL``, its unit reserved first in the shared Redis
quota budget), then appends them to ``ytempire.video_metrics``, caches them
in Redis for an hour and publishes them to ``video-analytics``.

Signing scheme (the Stripe/GitHub convention), for senders::

    X-YTEmpire-Delivery:  <delivery id: 8-64 of A-Z a-z 0-9 _ ->, new per event,
                          the same on every retry of that event
    X-YTEmpire-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>
    v1 = HMAC-SHA256(key=YTEMPIRE_WEBHOOK_SECRET, msg=f"{t}.{delivery_id}.".encode() + body)

Several ``v1=`` entries may be sent (secret rotation); one match suffices. A
timestamp further than ``YTEMPIRE_WEBHOOK_SIGNATURE_TOLERANCE_S`` (300 s)
from the server's clock is refused, so a captured request cannot be replayed
later; within the window a repeated delivery id, or the same ``event_id``
under another delivery id, is acknowledged (200, ``"replayed": true``, the
first response's record) without storing or publishing anything again.

A delivery's three effects are all or nothing: the ``video_metrics`` row and
its ``ytempire.webhook_deliveries`` row are committed only after the Redis
entry and the Kafka message are written; if either fails the transaction
rolls back (and the video's cache entry is put back as it was, so an earlier
delivery's entry survives), the answer is 503 naming the service with
``Retry-After``, and the sender's retry stores exactly one of each. The one
window left: PostgreSQL failing at the commit itself, after the message went
out; the retry then publishes a second message with the same
``delivery_id``, by which a consumer deduplicates.

Quota: a delivery spends one unit of the shared budget, once, and only a
delivery that is stored. Copies of one delivery (its ``delivery_id`` or its
``event_id``) in flight at once are serialized by a claim in Redis
(``<prefix>webhook:claim:...``, :data:`CLAIM_TTL_S`): the first fetches and
stores, a copy arriving meanwhile is answered 409 with ``Retry-After`` (the
Stripe convention for a concurrent idempotent request) and its retry gets the
stored answer. Statistics fetched by an attempt that then failed to store
(Kafka, Redis or PostgreSQL down) are kept for the delivery's retry
(``<prefix>webhook:fetched:<event_id>``, as long as a signature is valid), so
the retry stores them without calling YouTube again. Every key carries
``YTEMPIRE_REDIS_KEY_PREFIX``.

Every rejection is a 4xx with a message saying why, decided before anything
is stored: 400 (delivery id), 401 (signature, timestamp), 404 (unknown
video), 408 (body too slow), 409 (``youtube_video_id`` or ``channel_id``
disagrees with the warehouse, or a copy of the delivery is in flight), 413
(body too large), 415 (not JSON), 422 (invalid event). No answer or log line
carries a secret: messages pass through :func:`ytempire.redaction.redact_text`.

Served by uvicorn through :func:`serve` (``ytempire serve webhook``), which
adds what uvicorn lacks: a deadline for a request's headers and a connection
limit enforced when a connection is accepted (uvicorn's own
``limit_concurrency`` only answers once headers have arrived, so it does not
bound stalled clients). Cut and refused clients are counted on ``/metrics``
(Prometheus). ``/docs`` and ``/openapi.json`` exist only with
``YTEMPIRE_WEBHOOK_DOCS=1``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import redis
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from psycopg.types.json import Jsonb
from psycopg_pool import ConnectionPool, PoolTimeout
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ingestion.youtube.api import ApiCallFailed, QuotaExhausted, RetryPolicy, YouTubeApi
from ingestion.youtube.api import build_client as build_youtube_client
from ytempire.clients import kafka_producer, pg_conninfo, redis_client
from ytempire.errors import ServiceUnavailable
from ytempire.events import EVENT_ADAPTER, VideoUploadedEvent, describe_errors
from ytempire.quota import PACIFIC, QuotaBudget, quota_day
from ytempire.redaction import redact_text, redact_url
from ytempire.settings import Settings, get_settings
from ytempire.timestamps import iso_z
from ytempire.topics import VIDEO_ANALYTICS

log = logging.getLogger(__name__)

PATH = "/webhooks/video-uploaded"
SIGNATURE_HEADER = "X-YTEmpire-Signature"
DELIVERY_HEADER = "X-YTEmpire-Delivery"
METRICS_TTL_S = 3600
RETRY_AFTER_S = 30
KAFKA_TIMEOUT_S = 10
PG_POOL_SIZE = 8
PG_WAIT_S = 5.0
# Longest a delivery's attempt can take (two YouTube tries, Kafka, PostgreSQL), with room.
CLAIM_TTL_S = 120
_DELIVERY_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
# One quick retry: the sender retries the whole delivery anyway.
_YOUTUBE_RETRY = RetryPolicy(max_attempts=2, base_s=0.25, cap_s=1.0)


class Rejection(Exception):
    """A request refused with an HTTP status and a message for the caller."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


@dataclass(frozen=True)
class VideoStatistics:
    youtube_video_id: str
    views: int
    likes: int
    comments: int
    duration_iso: str | None


# --- signing ------------------------------------------------------------------------------


def signed_payload(body: bytes, delivery_id: str, timestamp: int) -> bytes:
    """What the signature covers: ``b"<t>.<delivery id>." + body``."""
    return f"{timestamp}.{delivery_id}.".encode() + body


def sign(body: bytes, secret: str, *, delivery_id: str, timestamp: int | None = None) -> str:
    """The ``X-YTEmpire-Signature`` value for ``body`` (timestamp: now, in unix seconds)."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), signed_payload(body, delivery_id, t), hashlib.sha256)
    return f"t={t},v1={digest.hexdigest()}"


def parse_signature(header: str | None) -> tuple[int, list[str]]:
    """``t=<int>,v1=<hex>[,v1=<hex>...]`` -> (timestamp, signatures); 401 if malformed."""
    expected = "t=<unix seconds>,v1=<hex HMAC-SHA256>"
    if not header:
        raise Rejection(401, f"missing {SIGNATURE_HEADER} header ({expected})")
    timestamps, signatures = [], []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not re.fullmatch(r"\d{1,12}", timestamps[0]):
        raise Rejection(401, f"{SIGNATURE_HEADER} needs one t=<unix seconds> ({expected})")
    if not signatures:
        raise Rejection(401, f"{SIGNATURE_HEADER} has no v1=<hex HMAC-SHA256> ({expected})")
    return int(timestamps[0]), signatures


def verify_signature(
    body: bytes,
    header: str | None,
    delivery_id: str,
    secret: str,
    *,
    tolerance_s: int,
    now: float | None = None,
) -> datetime:
    """Check the HMAC in constant time, then the timestamp's age; return the signed time."""
    timestamp, signatures = parse_signature(header)
    expected = sign(body, secret, delivery_id=delivery_id, timestamp=timestamp).split("v1=")[1]
    if not any(hmac.compare_digest(s.encode(), expected.encode()) for s in signatures):
        raise Rejection(
            401,
            f"{SIGNATURE_HEADER} does not match the timestamp, delivery id and body: "
            "check the secret and the signing scheme (HMAC-SHA256 of '<t>.<delivery id>.<body>')",
        )
    skew = (time.time() if now is None else now) - timestamp
    if abs(skew) > tolerance_s:
        raise Rejection(
            401,
            f"{SIGNATURE_HEADER} timestamp t={timestamp} is {abs(skew):.0f} s "
            f"{'old' if skew > 0 else 'in the future'}; at most {tolerance_s} s is accepted: "
            "sign each attempt with the current time",
        )
    return datetime.fromtimestamp(timestamp, UTC)


def check_delivery_id(value: str | None) -> str:
    if not value:
        raise Rejection(400, f"missing {DELIVERY_HEADER} header (8-64 of A-Z a-z 0-9 _ -)")
    if not _DELIVERY_ID.fullmatch(value):
        raise Rejection(400, f"{DELIVERY_HEADER} must be 8-64 of A-Z a-z 0-9 _ -, got {value!r}")
    return value


def check_content_type(value: str | None) -> None:
    media_type, _, params = (value or "").partition(";")
    if media_type.strip().lower() != "application/json":
        raise Rejection(415, f"Content-Type must be application/json, got {value or 'none'!r}")
    charset = re.search(r"charset\s*=\s*\"?([^\";\s]+)", params, re.IGNORECASE)
    if charset and charset.group(1).lower() not in ("utf-8", "utf8"):
        raise Rejection(415, f"the body must be UTF-8 JSON, got charset={charset.group(1)}")


def parse_body(body: bytes) -> VideoUploadedEvent:
    try:
        event = EVENT_ADAPTER.validate_json(body)
    except ValidationError as exc:
        raise Rejection(422, f"invalid video_uploaded event: {describe_errors(exc)}") from exc
    if not isinstance(event, VideoUploadedEvent):
        raise Rejection(422, f"event_type: expected 'video_uploaded', got {event.event_type!r}")
    return event


def statistics_from_response(response: dict[str, Any], youtube_video_id: str) -> VideoStatistics:
    """Pure: a ``videos.list`` response -> the statistics of one video."""
    items = [i for i in response.get("items", []) if i.get("id") == youtube_video_id]
    if not items:
        raise Rejection(404, f"YouTube has no video {youtube_video_id}")
    stats = items[0].get("statistics", {})
    return VideoStatistics(
        youtube_video_id=youtube_video_id,
        views=int(stats.get("viewCount", 0)),
        likes=int(stats.get("likeCount", 0)),  # hidden like counts are absent
        comments=int(stats.get("commentCount", 0)),
        duration_iso=items[0].get("contentDetails", {}).get("duration"),
    )


def seconds_to_quota_reset(now: datetime | None = None) -> int:
    """Seconds until the next Pacific midnight, when YouTube's quota day resets."""
    now = (now or datetime.now(PACIFIC)).astimezone(PACIFIC)
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return max(1, int((midnight - now).total_seconds()))


# --- Redis: claims, fetched statistics, the cache entry ------------------------------------

# KEYS: claim keys; ARGV[1] token, ARGV[2] ttl (s). All claimed, or none (returns 0).
_CLAIM_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('EXISTS', key) == 1 then return 0 end
end
for _, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[1], 'EX', tonumber(ARGV[2]))
end
return 1
"""
# KEYS: claim keys; ARGV[1] token. Releases the keys this claim still holds.
_RELEASE_LUA = """
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then redis.call('DEL', key) end
end
return 1
"""
# KEYS[1] cache key; ARGV[1] value, ARGV[2] ttl (s). Returns {previous value or false, its
# remaining ttl in ms}.
_SWAP_LUA = """
local previous = redis.call('GET', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return {previous, ttl}
"""
# KEYS[1] cache key; ARGV[1] our value, ARGV[2] previous value ('' for none), ARGV[3] its
# ttl (ms). Puts the previous entry back, unless another delivery has replaced ours since.
_RESTORE_LUA = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then
  redis.call('DEL', KEYS[1])
elseif tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', tonumber(ARGV[3]))
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
"""


class DeliveryCache:
    """The webhook's Redis keys, every one under ``prefix``."""

    def __init__(self, client: redis.Redis, prefix: str, where: str):
        self.client = client
        self.prefix = prefix
        self.where = redact_url(where)
        self._claim = client.register_script(_CLAIM_LUA)
        self._release = client.register_script(_RELEASE_LUA)
        self._swap = client.register_script(_SWAP_LUA)
        self._restore = client.register_script(_RESTORE_LUA)

    def metrics_key(self, video_id: object) -> str:
        return f"{self.prefix}video:{video_id}:metrics"

    def _claim_keys(self, delivery_id: str, event: VideoUploadedEvent) -> list[str]:
        return [
            f"{self.prefix}webhook:claim:delivery:{delivery_id}",
            f"{self.prefix}webhook:claim:event:{event.event_id}",
        ]

    def _fetched_key(self, event: VideoUploadedEvent) -> str:
        return f"{self.prefix}webhook:fetched:{event.event_id}"

    def _down(self, exc: Exception) -> ServiceUnavailable:
        return ServiceUnavailable("Redis", self.where, exc)

    @contextmanager
    def claim(self, delivery_id: str, event: VideoUploadedEvent) -> Iterator[None]:
        """Hold this delivery's claim while the block runs; 409 if a copy holds it."""
        keys, token = self._claim_keys(delivery_id, event), uuid.uuid4().hex
        try:
            claimed = self._claim(keys=keys, args=[token, CLAIM_TTL_S])
        except redis.RedisError as exc:
            raise self._down(exc) from exc
        if not claimed:
            raise Rejection(
                409,
                f"a copy of delivery {delivery_id} (event {event.event_id}) is being "
                "processed now; retry to receive its stored answer",
                {"Retry-After": "1"},
            )
        try:
            yield
        finally:
            try:
                self._release(keys=keys, args=[token])
            except redis.RedisError as exc:  # it expires on its own
                log.warning("could not release the claim of delivery %s: %s", delivery_id, exc)

    def fetched(self, event: VideoUploadedEvent) -> VideoStatistics | None:
        """Statistics an earlier attempt of this delivery fetched but could not store."""
        try:
            raw = self.client.get(self._fetched_key(event))
        except redis.RedisError as exc:
            raise self._down(exc) from exc
        return None if raw is None else VideoStatistics(**json.loads(str(raw)))

    def keep_fetched(self, event: VideoUploadedEvent, stats: VideoStatistics, ttl_s: int) -> None:
        """Keep ``stats`` for the retry of a delivery that failed to store (best effort)."""
        try:
            value = json.dumps(stats.__dict__)
            self.client.set(self._fetched_key(event), value, ex=max(1, ttl_s))
        except redis.RedisError as exc:
            log.warning("the retry of event %s will fetch again: %s", event.event_id, exc)

    def forget_fetched(self, event: VideoUploadedEvent) -> None:
        try:
            self.client.delete(self._fetched_key(event))
        except redis.RedisError as exc:  # it expires on its own
            log.warning("could not drop the fetched statistics of %s: %s", event.event_id, exc)

    def put_metrics(self, key: str, value: str) -> tuple[str | None, int]:
        """Set the video's entry; return the previous one and its remaining ttl (ms)."""
        try:
            previous, ttl = self._swap(keys=[key], args=[value, METRICS_TTL_S])
        except redis.RedisError as exc:
            raise self._down(exc) from exc
        return (None if previous in (None, False) else str(previous)), int(ttl)

    def restore_metrics(self, key: str, ours: str, previous: str | None, ttl_ms: int) -> None:
        """Put back the entry :meth:`put_metrics` replaced, unless a newer one replaced ours."""
        try:
            self._restore(keys=[key], args=[ours, previous or "", ttl_ms])
        except redis.RedisError:
            log.warning("could not put back %s after a failed delivery", key)


# --- the app ------------------------------------------------------------------------------


class WebhookCounters:
    """Prometheus counters of one app: answers by status, clients cut or refused by reason."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.responses = Counter(
            "ytempire_webhook_responses",
            "Webhook answers by HTTP status.",
            ["status"],
            registry=self.registry,
        )
        self.clients_cut = Counter(
            "ytempire_webhook_clients_cut",
            "Connections closed by the server: header_timeout, body_timeout, over_limit.",
            ["reason"],
            registry=self.registry,
        )

    def cut(self, reason: str) -> None:
        self.clients_cut.labels(reason).inc()

    def value(self, name: str, **labels: str) -> float:
        return self.registry.get_sample_value(name, labels) or 0.0


class _Effects:
    """The app's connections: a PostgreSQL pool, a Kafka producer (re)made on demand, and
    one YouTube client per worker thread (httplib2 is not thread-safe; building the client
    from its discovery document costs more than the call)."""

    def __init__(self, settings: Settings, budget: QuotaBudget):
        self.settings = settings
        self.budget = budget
        self.pool = ConnectionPool(
            pg_conninfo("loader", settings=settings),
            min_size=1,
            max_size=PG_POOL_SIZE,
            open=False,
            check=ConnectionPool.check_connection,
            timeout=PG_WAIT_S,
            name="webhook",
        )
        self._producer: Any = None
        self._lock = threading.Lock()
        self._local = threading.local()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled loader connection in a transaction; 503 PostgreSQL if none comes."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except PoolTimeout as exc:
            where = f"{self.settings.pg_host}:{self.settings.pg_port}"
            raise ServiceUnavailable("PostgreSQL", where, exc) from exc

    def producer(self) -> Any:
        with self._lock:
            if self._producer is None:
                self._producer = kafka_producer(
                    settings=self.settings,
                    max_block_ms=KAFKA_TIMEOUT_S * 1000,
                    request_timeout_ms=KAFKA_TIMEOUT_S * 1000 // 2,
                    delivery_timeout_ms=KAFKA_TIMEOUT_S * 1000,
                )
            return self._producer

    def check_topic(self, topic: str) -> None:
        """Kafka reachable and ``topic`` known to it (cached metadata after the first
        call): a delivery is refused before it spends quota, not after."""
        from kafka.errors import KafkaError

        try:
            partitions = self.producer().partitions_for(topic)
        except KafkaError as exc:
            self.discard_producer()
            raise ServiceUnavailable("Kafka", self.settings.kafka_bootstrap, exc) from exc
        if not partitions:
            raise ServiceUnavailable(
                "Kafka", self.settings.kafka_bootstrap, f"topic {topic} has no partitions"
            )

    def discard_producer(self) -> None:
        """Close the producer at once, dropping unsent records, so none goes out later."""
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=0)
            except Exception as exc:  # a failed close leaves nothing to do
                log.debug("closing the Kafka producer: %s", exc)

    def close(self) -> None:
        with self._lock:
            producer, self._producer = self._producer, None
        if producer is not None:
            producer.close(timeout=KAFKA_TIMEOUT_S)
        self.pool.close()

    def youtube(self) -> YouTubeApi:
        client = getattr(self._local, "youtube", None)
        if client is None:
            client = self._local.youtube = build_youtube_client(
                self.settings.youtube_api_url, self.settings.youtube_api_key, timeout_s=10.0
            )
        return YouTubeApi(client, self.budget, quota_day(), retry=_YOUTUBE_RETRY)


def create_app(
    settings: Settings | None = None,
    *,
    analytics_topic: str = VIDEO_ANALYTICS.name,
    redis_prefix: str = "",
) -> FastAPI:
    """The webhook app. Its Redis keys (cache, claims, budget) start with ``redis_prefix``,
    by default ``YTEMPIRE_REDIS_KEY_PREFIX``."""
    s = settings or get_settings()
    prefix = redis_prefix or s.redis_key_prefix
    client = redis_client(settings=s)
    budget = QuotaBudget(
        client, daily_limit=s.youtube_daily_quota, prefix=prefix, where=redact_url(s.redis_url)
    )
    cache = DeliveryCache(client, prefix, s.redis_url)
    effects = _Effects(s, budget)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        effects.pool.open()
        yield
        effects.close()

    docs = bool(s.webhook_docs)
    app = FastAPI(
        title="YTEmpire webhooks",
        docs_url="/docs" if docs else None,
        redoc_url=None,
        openapi_url="/openapi.json" if docs else None,
        lifespan=lifespan,
    )
    counters = WebhookCounters()
    app.state.counters = counters
    app.state.settings = s

    @app.exception_handler(Rejection)
    async def rejected(_: Request, exc: Rejection) -> JSONResponse:
        message = redact_text(exc.message, s)
        log.warning("webhook rejected (%d): %s", exc.status, message)
        return JSONResponse({"error": message}, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(ServiceUnavailable)
    async def unavailable(_: Request, exc: ServiceUnavailable) -> JSONResponse:
        message = redact_text(str(exc), s)
        log.error("webhook: %s", message)
        return JSONResponse(
            {"error": message, "service": exc.service},
            status_code=503,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @app.middleware("http")
    async def count(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        counters.responses.labels(str(response.status_code)).inc()
        return response

    def handle(body: bytes, delivery_id: str, signature: str | None) -> dict[str, Any]:
        try:
            return deliver(body, delivery_id, signature)
        except psycopg.OperationalError as exc:  # the server went away mid-request
            raise ServiceUnavailable("PostgreSQL", f"{s.pg_host}:{s.pg_port}", exc) from exc

    def deliver(body: bytes, delivery_id: str, signature: str | None) -> dict[str, Any]:
        signed_at = verify_signature(
            body,
            signature,
            delivery_id,
            s.webhook_secret,
            tolerance_s=s.webhook_signature_tolerance_s,
        )
        event = parse_body(body)
        with effects.connection() as conn:
            if (stored := _stored_delivery(conn, delivery_id, event)) is not None:
                return stored
            _require_matching_video(conn, event)
        with cache.claim(delivery_id, event):
            with effects.connection() as conn:  # a copy may have committed before our claim
                if (stored := _stored_delivery(conn, delivery_id, event)) is not None:
                    return stored
            effects.check_topic(analytics_topic)  # Kafka down: refuse before spending quota
            stats = cache.fetched(event)
            if stats is None:
                stats = _fetch_statistics(effects, event.payload.youtube_video_id, s)
            try:
                response = _store(
                    event,
                    stats,
                    delivery_id,
                    signed_at,
                    s,
                    cache=cache,
                    effects=effects,
                    topic=analytics_topic,
                )
            except (ServiceUnavailable, psycopg.OperationalError):
                # the unit is spent: what it bought waits for the sender's retry
                cache.keep_fetched(event, stats, 2 * s.webhook_signature_tolerance_s)
                raise
            cache.forget_fetched(event)
            return response

    @app.post(PATH)
    async def video_uploaded(request: Request) -> dict[str, Any]:
        check_content_type(request.headers.get("content-type"))
        delivery_id = check_delivery_id(request.headers.get(DELIVERY_HEADER))
        try:
            async with asyncio.timeout(s.webhook_body_timeout_s):
                body = await _bounded_body(request, s.webhook_max_body_bytes)
        except TimeoutError:
            counters.cut("body_timeout")
            raise Rejection(
                408,
                f"the body was not received within {s.webhook_body_timeout_s} s",
                {"Connection": "close"},
            ) from None
        # Database, API and Kafka calls block: keep them off the event loop.
        return await run_in_threadpool(
            handle, body, delivery_id, request.headers.get(SIGNATURE_HEADER)
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        """Liveness for `ytempire doctor` and container healthchecks: the server answers."""
        return {"status": "ok"}

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(counters.registry), media_type=CONTENT_TYPE_LATEST)

    return app


async def _bounded_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise Rejection(413, f"body of {declared} bytes exceeds the limit of {limit} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Rejection(413, f"body exceeds the limit of {limit} bytes")
    return body


def _stored_delivery(
    conn: psycopg.Connection[Any], delivery_id: str, event: VideoUploadedEvent
) -> dict[str, Any] | None:
    """The first response to this delivery id or event, if its effects were committed."""
    row = conn.execute(
        "select response from ytempire.webhook_deliveries where delivery_id = %s or event_id = %s "
        "order by received_at limit 1",
        (delivery_id, event.event_id),
    ).fetchone()
    return None if row is None else {**row[0], "replayed": True}


def _require_matching_video(conn: psycopg.Connection[Any], event: VideoUploadedEvent) -> None:
    """404 for an unknown video; 409 when the warehouse pairs either id with another, or
    files the video under another channel than the event's ``channel_id``."""
    yt = event.payload.youtube_video_id
    rows = conn.execute(
        "select video_id, youtube_video_id, channel_id from ytempire.videos "
        "where video_id = %s or youtube_video_id = %s",
        (event.video_id, yt),
    ).fetchall()
    known = {video_id: youtube_id for video_id, youtube_id, _ in rows}
    channels = {video_id: channel_id for video_id, _, channel_id in rows}
    if event.video_id not in known:
        raise Rejection(404, f"video_id {event.video_id} is not in ytempire.videos")
    if channels[event.video_id] != event.channel_id:
        raise Rejection(
            409,
            f"video_id {event.video_id} belongs to channel {channels[event.video_id]} in "
            f"ytempire.videos, not {event.channel_id}",
        )
    if known[event.video_id] not in (None, yt):
        raise Rejection(
            409,
            f"video_id {event.video_id} is YouTube video {known[event.video_id]} in "
            f"ytempire.videos, not {yt}",
        )
    others = [str(v) for v in known if v != event.video_id]
    if others:
        raise Rejection(409, f"youtube_video_id {yt} belongs to video_id {others[0]}, not this one")


def _fetch_statistics(effects: _Effects, youtube_video_id: str, s: Settings) -> VideoStatistics:
    """``videos.list`` for one id, its unit reserved in the shared budget first (fail closed)."""
    try:
        response = effects.youtube().list(
            "videos.list", part="statistics,contentDetails", id=youtube_video_id
        )
    except QuotaExhausted as exc:
        raise Rejection(503, f"{exc}", {"Retry-After": str(seconds_to_quota_reset())}) from exc
    except ApiCallFailed as exc:
        raise Rejection(
            502,
            f"YouTube API at {s.youtube_api_url} failed: {exc}",
            {"Retry-After": str(RETRY_AFTER_S)},
        ) from exc
    return statistics_from_response(response, youtube_video_id)


def _store(
    event: VideoUploadedEvent,
    stats: VideoStatistics,
    delivery_id: str,
    signed_at: datetime,
    s: Settings,
    *,
    cache: DeliveryCache,
    effects: _Effects,
    topic: str,
) -> dict[str, Any]:
    """Row, cache entry and message: all three, or none (see the module docstring)."""
    with effects.connection() as conn:
        observed_at = _insert_metrics(conn, event, stats)
        record = {
            "delivery_id": delivery_id,
            "source_event_id": str(event.event_id),
            "video_id": str(event.video_id),
            "channel_id": event.channel_id,
            "youtube_video_id": stats.youtube_video_id,
            "views": stats.views,
            "likes": stats.likes,
            "comments": stats.comments,
            "duration_iso": stats.duration_iso,
            "observed_at": iso_z(observed_at),
        }
        # Waits for a concurrent copy of this delivery to commit or roll back.
        claimed = conn.execute(
            "insert into ytempire.webhook_deliveries (delivery_id, event_id, video_id, "
            "youtube_video_id, signed_at, response) values (%s, %s, %s, %s, %s, %s) "
            "on conflict do nothing",
            (
                delivery_id,
                event.event_id,
                event.video_id,
                stats.youtube_video_id,
                signed_at,
                Jsonb(record),
            ),
        ).rowcount
        if not claimed:  # that copy committed first: take back the row, answer as a replay
            conn.rollback()
            stored = _stored_delivery(conn, delivery_id, event)
            if stored is not None:
                return stored
            raise Rejection(409, f"delivery {delivery_id} conflicts with another delivery")
        _cache_and_publish(record, event, cache, effects, topic, s)
        conn.commit()
    return {**record, "replayed": False}


def _insert_metrics(
    conn: psycopg.Connection[Any], event: VideoUploadedEvent, stats: VideoStatistics
) -> datetime:
    """Append the observation, stamped now; return its ``observed_at``.

    ``(video_id, observed_at)`` is the key: two deliveries of one video in the
    same microsecond are two observations, so the later one moves on by 1 µs.
    """
    observed_at = datetime.now(UTC)
    while not conn.execute(
        "insert into ytempire.video_metrics (video_id, observed_at, views, likes, comments, "
        "source) values (%s, %s, %s, %s, %s, 'webhook') on conflict do nothing",
        (event.video_id, observed_at, stats.views, stats.likes, stats.comments),
    ).rowcount:
        observed_at += timedelta(microseconds=1)
    return observed_at


def _cache_and_publish(
    record: dict[str, Any],
    event: VideoUploadedEvent,
    cache: DeliveryCache,
    effects: _Effects,
    topic: str,
    s: Settings,
) -> None:
    """Redis, then Kafka; a Kafka failure puts the video's previous cache entry back.

    Raises 503 (``ServiceUnavailable``) naming the service that failed.
    """
    value = json.dumps(record)
    key = cache.metrics_key(event.video_id)
    previous, ttl_ms = cache.put_metrics(key, value)
    try:
        effects.producer().send(topic, key=event.channel_id.encode(), value=value.encode()).get(
            timeout=KAFKA_TIMEOUT_S
        )
    except Exception as exc:  # KafkaError, timeout, or ServiceUnavailable from the factory
        effects.discard_producer()
        cache.restore_metrics(key, value, previous, ttl_ms)
        if isinstance(exc, ServiceUnavailable):
            raise
        raise ServiceUnavailable("Kafka", s.kafka_bootstrap, exc) from exc


# --- serving ------------------------------------------------------------------------------


def _guarded_protocol(counters: WebhookCounters, header_timeout_s: float, max_connections: int):
    """uvicorn's h11 protocol plus a header deadline and a connection limit at accept time.

    uvicorn arms its keep-alive timer only between requests and disarms it on
    the first byte received, so a client trickling a request's headers holds
    the connection for ever; its ``limit_concurrency`` answers 503 only once
    headers are complete. Here each connection, and each kept-alive one after
    a response, has ``header_timeout_s`` to deliver a complete request head,
    else it is answered 408 and closed; a connection beyond
    ``max_connections`` is answered 503 and closed at once. Both are counted.
    """
    from uvicorn.protocols.http.h11_impl import H11Protocol

    def close_with(protocol: Any, status: str, message: str) -> None:
        body = message.encode()
        protocol.transport.write(
            f"HTTP/1.1 {status}\r\ncontent-type: text/plain; charset=utf-8\r\n"
            f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
            + body
        )
        protocol.transport.close()

    class GuardedH11Protocol(H11Protocol):
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                counters.cut("over_limit")
                close_with(self, "503 Service Unavailable", "too many connections; retry later")
                return
            self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm_header_timer()
            super().connection_lost(exc)

        def handle_events(self) -> None:
            before = self.cycle
            super().handle_events()
            if self.cycle is not before:  # a complete request head arrived
                self._disarm_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_timer()

        def _arm_header_timer(self) -> None:
            self._disarm_header_timer()
            self._header_timer = self.loop.call_later(header_timeout_s, self._header_timed_out)

        def _disarm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _header_timed_out(self) -> None:
            self._header_timer = None
            if self.transport.is_closing():
                return
            if self.cycle is not None and not self.cycle.response_complete:
                return  # a request is being served
            counters.cut("header_timeout")
            close_with(
                self,
                "408 Request Timeout",
                f"the request head was not received within {header_timeout_s:g} s",
            )

    return GuardedH11Protocol


def server_config(app: FastAPI, host: str, port: int, **uvicorn_options: Any) -> Any:
    """The uvicorn configuration of the webhook: its limits come from the app's settings."""
    import uvicorn

    s: Settings = app.state.settings
    counters: WebhookCounters = app.state.counters
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "http": _guarded_protocol(counters, s.webhook_header_timeout_s, s.webhook_max_connections),
        "timeout_keep_alive": 5,
        # Headers larger than this are a 400 from h11 (the body has its own limit).
        "h11_max_incomplete_event_size": 16 * 1024,
        "server_header": False,
        "log_level": "info",
        **uvicorn_options,
    }
    return uvicorn.Config(app, **options)


def serve(host: str, port: int, settings: Settings | None = None) -> None:
    """Run the webhook on ``host:port`` until SIGTERM/SIGINT."""
    import uvicorn

    uvicorn.Server(server_config(create_app(settings), host, port)).run()
