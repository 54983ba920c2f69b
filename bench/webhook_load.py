"""Load on the signed webhook at its sustained rate, 5 % bad requests mixed in (loopback only).

The webhook runs as ``ytempire serve webhook`` does (uvicorn with its header
and body deadlines and connection limit) in a child process on 127.0.0.1,
against the real PostgreSQL, Redis and Kafka and the YouTube simulator. A
closed loop of ``--concurrency`` clients sends ``--requests`` deliveries (and
stops by itself, also after ``--max-seconds``; the first ``--warmup`` ones, which
build each worker's clients, are checked but not timed); one in twenty is bad (bad
signature, stale timestamp, wrong content type, invalid field, mismatched
ids). It prints the rate, p50/p99 latency per kind, and then checks the
outcome: every good delivery answered 200 and stored exactly once (one
``webhook_deliveries`` and one ``video_metrics`` row, one Kafka message),
every bad one refused with a 4xx and nothing stored for it.

The ceiling, in the same run: the same server's ``GET /healthz`` under the
same closed loop (the HTTP stack and the hand-off to a worker thread, no
work), so the ratio tells how much of a delivery's time is its own work.

The deliveries name videos the simulated YouTube serves on the simulated day,
by the network model's own rule (a channel that exists then, an upload
published before then), so a good delivery never meets a 404 of the API.

    uv run python bench/webhook_load.py [--requests 3000] [--concurrency 16] [--port P]
    uv run python bench/webhook_load.py --smoke   # 120 requests, the same checks

It writes its own videos into the configured database (``YTEMPIRE_PG_DATABASE``),
its own Kafka topic (deleted afterwards) and Redis keys (deleted afterwards).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import statistics
import time
import uuid
from collections import Counter
from dataclasses import replace
from datetime import date

import httpx
from benchlib import Figures, add_smoke_flag, free_port, kafka_topics
from kafka import TopicPartition

from platform_services.webhook import DELIVERY_HEADER, PATH, SIGNATURE_HEADER, sign
from simulation.network import Network, day_end
from simulation.youtube import YouTubeSimulator
from ytempire.clients import kafka_consumer, pg_connect, redis_client
from ytempire.events import new_event
from ytempire.settings import Settings, get_settings

SIM_DAY = date(2025, 3, 1)
BAD_SHARE = 0.05
HANG_BOUND_S = 900.0
BAD_KINDS = ("bad signature", "stale timestamp", "not json content type", "invalid field", "409")


def _serve(settings: Settings, port: int, topic: str, prefix: str) -> None:
    import logging

    import uvicorn

    from platform_services.webhook import create_app, server_config

    logging.getLogger("platform_services.webhook").setLevel(logging.ERROR)
    app = create_app(settings, analytics_topic=topic, redis_prefix=prefix)
    uvicorn.Server(server_config(app, "127.0.0.1", port, log_level="error", access_log=False)).run()


def servable_uploads(network: Network, day: date, count: int) -> list[tuple[str, str]]:
    """(channel_id, youtube_video_id) of ``count`` uploads YouTube serves on ``day``.

    The network model's rule, the one the simulator applies to ``videos.list``: the
    video was published before the instant it is asked about and its channel
    exists then (neither terminated nor not yet created). Channels with no upload
    by then have none to give. Taken round-robin over the channels, newest first.
    """
    as_of = day_end(day)
    channels = [c for c in network.channels if c.exists_at(as_of)]
    uploads = {c.index: network.uploads(c, as_of) for c in channels}
    out: list[tuple[str, str]] = []
    for back in range(1, max(uploads.values(), default=0) + 1):
        for channel in channels:
            if back <= uploads[channel.index] and len(out) < count:
                video = network.video(channel.index, uploads[channel.index] - back)
                if network.locate(video.video_id, as_of) is not None:
                    out.append((channel.channel_id, video.video_id))
    if len(out) < count:
        raise SystemExit(f"the simulated network serves only {len(out)} videos on {day}")
    return out


def _videos(settings: Settings, network: Network, count: int) -> list[tuple[uuid.UUID, str, str]]:
    """(video_id, channel_id, youtube_video_id) of ``count`` servable uploads, in the warehouse."""
    out = []
    with pg_connect("loader", settings=settings) as conn:
        for channel, yt in servable_uploads(network, SIM_DAY, count):
            conn.execute(
                "insert into ytempire.channels (channel_id) values (%s) on conflict do nothing",
                (channel,),
            )
            conn.execute(
                "insert into ytempire.videos (video_id, channel_id, youtube_video_id) "
                "values (%s, %s, %s) on conflict (youtube_video_id) do nothing",
                (uuid.uuid4(), channel, yt),
            )
            row = conn.execute(
                "select video_id from ytempire.videos where youtube_video_id = %s", (yt,)
            ).fetchone()
            assert row is not None
            out.append((row[0], channel, yt))
    return out


def _request(
    kind: str, video: tuple[uuid.UUID, str, str], other_yt: str, run: str, i: int, secret: str
) -> tuple[bytes, dict[str, str]]:
    video_id, channel, yt = video
    payload = {"youtube_video_id": other_yt if kind == "409" else yt}
    body = new_event("video_uploaded", channel, payload, video_id=video_id).model_dump_json()
    if kind == "invalid field":
        body = body.replace('"video_uploaded"', '"video_teleported"')
    data = body.encode()
    delivery = f"{run}-{i}"
    stamp = int(time.time()) - (3600 if kind == "stale timestamp" else 0)
    headers = {
        "Content-Type": "text/plain" if kind == "not json content type" else "application/json",
        DELIVERY_HEADER: delivery,
        SIGNATURE_HEADER: sign(
            data,
            "guessed" if kind == "bad signature" else secret,
            delivery_id=delivery,
            timestamp=stamp,
        ),
    }
    return data, headers


async def _load(
    url: str, requests: list[tuple[str, bytes, dict[str, str]]], concurrency: int, max_s: float
) -> tuple[list[tuple[str, int, float]], float]:
    """A closed loop of ``concurrency`` clients; a request of kind ``healthz`` is a GET."""
    results: list[tuple[str, int, float]] = []
    queue = iter(requests)
    deadline = time.monotonic() + max_s
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            for kind, body, headers in queue:
                if time.monotonic() > deadline:
                    return
                start = time.perf_counter()
                if kind == "healthz":
                    response = await client.get("/healthz")
                else:
                    response = await client.post(PATH, content=body, headers=headers)
                results.append((kind, response.status_code, time.perf_counter() - start))

        began = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return results, time.monotonic() - began


def _pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if values else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--max-seconds", type=float, default=300.0)
    parser.add_argument("--warmup", type=int, default=200, help="untimed first requests")
    add_smoke_flag(parser)
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.warmup, args.concurrency = 120, 20, 4
    args.port = args.port or free_port()
    figures = Figures("webhook_load", smoke=args.smoke)

    base = get_settings()
    run = f"bench{uuid.uuid4().hex[:8]}"
    topic, prefix = f"bench-webhook-{run}", f"bench:{run}:"
    with kafka_topics({topic: 3}, base):
        network = Network()
        sim = YouTubeSimulator(network, day=SIM_DAY, api_key="bench", daily_quota=1_000_000)
        sim.start()
        settings = replace(base, youtube_api_url=sim.url, youtube_api_key="bench")
        server = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(settings, args.port, topic, prefix), daemon=True
        )
        try:
            videos = _videos(settings, network, 250)
            rng = random.Random(16)
            requests = []
            for i in range(args.requests):
                kind = rng.choice(BAD_KINDS) if rng.random() < BAD_SHARE else "good"
                video, other = rng.sample(videos, 2)
                body, headers = _request(kind, video, other[2], run, i, settings.webhook_secret)
                requests.append((kind, body, headers))
            server.start()
            url = f"http://127.0.0.1:{args.port}"
            _wait_until_up(url, server)
            # Warm-up: the first requests build each worker thread's YouTube client and fill
            # the connection pool; they are checked with the rest but not timed.
            warmup, timed = requests[: args.warmup], requests[args.warmup :]
            early, _ = asyncio.run(_load(url, warmup, args.concurrency, args.max_seconds))
            results, elapsed = asyncio.run(_load(url, timed, args.concurrency, args.max_seconds))
            print("deliveries:")
            rate, p50, p99 = _report(results, elapsed, args.concurrency)
            # The ceiling: the same loop on GET /healthz (as many requests as were timed).
            probes: list[tuple[str, bytes, dict[str, str]]] = [("healthz", b"", {})] * len(results)
            asyncio.run(_load(url, probes[: args.warmup], args.concurrency, args.max_seconds))
            ceiling, ceiling_s = asyncio.run(_load(url, probes, args.concurrency, args.max_seconds))
            print("ceiling, GET /healthz on the same server:")
            c_rate, c_p50, c_p99 = _report(ceiling, ceiling_s, args.concurrency)
            figures.add("deliveries/s", rate, "req/s", "GET /healthz, same loop", c_rate, digits=1)
            figures.add("delivery p50", p50, "ms", "GET /healthz p50", c_p50, digits=1)
            figures.add("delivery p99", p99, "ms", "GET /healthz p99", c_p99, digits=1)
            _check(settings, early + results, run, topic)
            figures.print()
        finally:
            if server.pid is not None:  # started
                server.terminate()
                server.join(30)
            sim.stop()
            client = redis_client(settings=base)
            for key in client.scan_iter(f"{prefix}*"):
                client.delete(key)


def _wait_until_up(url: str, server: multiprocessing.process.BaseProcess) -> None:
    """Until the server answers, or its process ends (the bound is against a hang only:
    a loaded machine may take minutes to import it)."""
    deadline = time.monotonic() + HANG_BOUND_S
    while True:
        try:
            httpx.get(f"{url}/metrics", timeout=5).raise_for_status()
            return
        except httpx.HTTPError:
            if not server.is_alive():
                raise SystemExit(f"the webhook server exited ({server.exitcode})") from None
            if time.monotonic() > deadline:
                raise SystemExit(f"the webhook still does not answer on {url}") from None
            time.sleep(0.2)


def _report(
    results: list[tuple[str, int, float]], elapsed: float, concurrency: int
) -> tuple[float, float, float]:
    """Print the rate and latencies per kind; return (requests/s, p50 ms, p99 ms)."""
    latencies = sorted(ms * 1000 for _, _, ms in results)
    rate, p50, p99 = len(results) / elapsed, _pct(latencies, 50), _pct(latencies, 99)
    print(
        f"  {len(results):,} requests in {elapsed:.1f} s with {concurrency} clients: "
        f"{rate:,.1f} req/s; latency p50 {p50:.1f} ms, p99 {p99:.1f} ms"
    )
    for kind in ("good", *BAD_KINDS):
        mine = sorted(ms * 1000 for k, _, ms in results if k == kind)
        if mine:
            statuses = Counter(status for k, status, _ in results if k == kind)
            print(
                f"    {kind:<22} {len(mine):>6,}  p50 {_pct(mine, 50):7.1f} ms  "
                f"p99 {_pct(mine, 99):7.1f} ms  status {dict(sorted(statuses.items()))}"
            )
    return rate, p50, p99


def _check(settings: Settings, results: list[tuple[str, int, float]], run: str, topic: str) -> None:
    good = sum(1 for kind, _, _ in results if kind == "good")
    good_ok = sum(1 for kind, status, _ in results if kind == "good" and status == 200)
    bad_4xx = sum(1 for kind, status, _ in results if kind != "good" and 400 <= status < 500)
    with pg_connect("loader", settings=settings) as conn:
        deliveries, metrics = conn.execute(
            "select count(*), count(distinct (m.video_id, m.observed_at)) "
            "from ytempire.webhook_deliveries d join ytempire.video_metrics m "
            "on m.video_id = d.video_id and m.source = 'webhook' "
            "and m.observed_at = (d.response ->> 'observed_at')::timestamptz "
            "where d.delivery_id like %s",
            (f"{run}-%",),
        ).fetchone() or (0, 0)
    consumer = kafka_consumer(settings=settings)
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    messages = sum(consumer.end_offsets(partitions).values())
    consumer.close()
    bad = len(results) - good
    print(
        f"good: {good_ok:,}/{good:,} answered 200; stored {deliveries:,} deliveries, "
        f"{metrics:,} metrics rows, {messages:,} messages; bad: {bad_4xx:,}/{bad:,} refused 4xx"
    )
    ok = good_ok == good == deliveries == metrics == messages and bad_4xx == bad
    print("outcome: every good delivery stored once, every bad one refused" if ok else "MISMATCH")
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
