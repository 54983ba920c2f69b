"""Benchmark of the channel-windows job: sustained throughput and end-to-end latency.

Against the real local services, on fresh topics (deleted afterwards) and
the configured database's streaming tables, with the job's default 10-second
trigger:

1. Throughput: a backlog of simulated events (250 channels x 20 videos) is
   drained in micro-batches capped at ``--batch-cap`` events; prints events/s
   from the start of the queries until both (windows and late events) have
   read the backlog (wall clock, startup and trigger waits included), and per
   busy second.
2. Latency: metrics updates produced live at ``--rate``/s on another 50
   channels x 20 videos; a poller watches each channel's newest window row in
   PostgreSQL. An event's latency is the time from its production to the
   first poll that sees a row of its channel with ``last_event_at`` at or
   after it (a channel's events share a partition, so they are processed in
   order). Prints p50/p95/max.

Each phase prints, per micro-batch of each query, Spark's ``durationMs``
(latestOffset, getBatch, queryPlanning, addBatch, walCommit, commitOffsets),
the state rows and state update/commit times, and the sink's own phases
(collect = the Spark job of the batch, encode, COPY, upsert, rollup, commit).

Run: ``uv run python bench/streaming_windows.py`` (about 4 minutes).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import tempfile
import threading
import time
import uuid
from bisect import bisect_left
from datetime import UTC, datetime, timedelta

from kafka.admin import NewTopic

from simulation import ids
from simulation.bursts import generate
from simulation.traffic import envelope
from streaming.channel_windows import LATE_QUERY, WINDOWS_QUERY, preflight, start_queries
from streaming.config import StreamConfig
from ytempire.clients import kafka_admin, kafka_producer, pg_connect, spark_session
from ytempire.events import topic_for
from ytempire.settings import get_settings

BACKLOG_NETWORK = 9001
LIVE_NETWORK = 9002


def create_topics() -> tuple[str, str]:
    suffix = uuid.uuid4().hex[:8]
    names = (f"bench-video-events-{suffix}", f"bench-channel-events-{suffix}")
    admin = kafka_admin()
    admin.create_topics([NewTopic(names[0], 6, 1), NewTopic(names[1], 3, 1)])
    admin.wait_for_topics(list(names))
    admin.close()
    return names


def produce_backlog(count: int, topics: tuple[str, str]) -> float:
    start = datetime.now(UTC) - timedelta(seconds=count / 20_000)
    producer = kafka_producer(linger_ms=50, batch_size=512 * 1024, acks=1)
    began = time.monotonic()
    for event in generate(
        count,
        start=start,
        span=datetime.now(UTC) - start,
        channels=250,
        videos_per_channel=20,
        network_seed=BACKLOG_NETWORK,
    ):
        producer.send(
            topic_for(event["event_type"], video=topics[0], channel=topics[1]),
            key=event["channel_id"].encode(),
            value=json.dumps(event, separators=(",", ":")).encode(),
        )
    producer.flush()
    producer.close()
    return count / (time.monotonic() - began)


def drain(queries: list, total: int) -> None:
    """Wait until every query of the job has read ``total`` events.

    Polls every 0.2 s (a batch's progress is reported when it has committed), and
    logs every 5 s.
    """
    logged = time.monotonic()
    while True:
        done = min(sum(p["numInputRows"] for p in q.recentProgress) for q in queries)
        if done >= total:
            return
        for query in queries:
            if query.exception():
                raise RuntimeError(f"query {query.name} failed: {query.exception()}")
        if time.monotonic() - logged >= 5:
            print(f"  ... {done:,}/{total:,} events through every query", flush=True)
            logged = time.monotonic()
        time.sleep(0.2)


class LiveTraffic(threading.Thread):
    """Produce metrics updates at ``rate``/s for ``seconds``, remembering (channel, produced-at).

    Like the backlog, the traffic is the simulated network's: ``channels`` channels
    of ``videos`` videos each, every video reporting growing cumulative views.
    """

    def __init__(
        self,
        topics: tuple[str, str],
        rate: int,
        seconds: int,
        channels: int = 50,
        videos: int = 20,
    ):
        super().__init__(daemon=True)
        self.topics, self.rate, self.seconds = topics, rate, seconds
        self.channels = [ids.channel_id(i, LIVE_NETWORK) for i in range(channels)]
        self.videos = videos
        self.sent: list[tuple[str, datetime]] = []

    def event(self, n: int, now: datetime) -> dict:
        index = n % len(self.channels)
        upload = (n // len(self.channels)) % self.videos
        payload = {
            "youtube_video_id": ids.youtube_video_id(index, upload, LIVE_NETWORK),
            "views": n,
            "revenue_usd": round(n * 0.0025, 4),
        }
        video = str(ids.platform_video_id(index, upload, LIVE_NETWORK))
        return envelope("metrics_update", now, self.channels[index], video, payload)

    def run(self) -> None:
        producer = kafka_producer(linger_ms=5, acks=1)
        began = time.monotonic()
        n = 0
        while (elapsed := time.monotonic() - began) < self.seconds:
            if n > elapsed * self.rate:
                time.sleep(0.002)
                continue
            now = datetime.now(UTC)
            event = self.event(n, now)
            channel = event["channel_id"]
            producer.send(self.topics[0], key=channel.encode(), value=json.dumps(event).encode())
            self.sent.append((channel, now))
            n += 1
        producer.flush()
        producer.close()


class Poller(threading.Thread):
    """Every 100 ms, each live channel's newest last_event_at in PostgreSQL."""

    def __init__(self, channels: list[str]):
        super().__init__(daemon=True)
        self.channels = channels
        self.seen: dict[str, list[tuple[datetime, datetime]]] = {c: [] for c in channels}
        self.stop_event = threading.Event()

    def run(self) -> None:
        with pg_connect("loader", autocommit=True) as conn:
            while not self.stop_event.is_set():
                rows = conn.execute(
                    "select channel_id, max(last_event_at) from streaming.channel_window_stats "
                    "where channel_id = any(%s) group by channel_id",
                    (self.channels,),
                ).fetchall()
                now = datetime.now(UTC)
                for channel, newest in rows:
                    self.seen[channel].append((newest, now))
                time.sleep(0.1)

    def latency(self, channel: str, produced: datetime) -> float | None:
        """Seconds until a poll showed the channel's window caught up with ``produced``."""
        for newest, polled in self.seen[channel]:
            if newest >= produced:
                return (polled - produced).total_seconds()
        return None


class SinkTimings(logging.Handler):
    """Collects the phase timings the sinks attach to their log records, per query and batch."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.phases: dict[tuple[str, int], dict[str, float]] = {}

    def emit(self, record: logging.LogRecord) -> None:
        phases = getattr(record, "sink_phases", None)
        if phases is not None:
            query = str(record.args[0]) if record.args else ""
            self.phases[(query, int(record.sink_batch))] = phases


PHASES = ("latestOffset", "getBatch", "queryPlanning", "addBatch", "walCommit", "commitOffsets")


def print_breakdown(title: str, progress: list, sink: dict[tuple[str, int], dict[str, float]]):
    """Per micro-batch: Spark's durationMs phases, state rows, and the sink's own phases."""
    print(f"  {title}")
    print(
        "    batch   events  trigger  "
        + "  ".join(f"{p[:9]:>9}" for p in PHASES)
        + "  state rows total/updated/dropped, update/commit time  sink phases"
    )
    for p in progress:
        d = p["durationMs"]
        ops = p["stateOperators"]
        state = (
            f"{ops[0]['numRowsTotal']}/{ops[0]['numRowsUpdated']}/"
            f"{ops[0]['numRowsDroppedByWatermark']} "
            f"{ops[0]['allUpdatesTimeMs'] / 1000:.1f}s/{ops[0]['commitTimeMs'] / 1000:.1f}s"
            if ops
            else "-"
        )
        phases = sink.get((p["name"], p["batchId"]), {})
        print(
            f"    {p['batchId']:>5} {p['numInputRows']:>8,} "
            f"{d.get('triggerExecution', 0) / 1000:>7.1f}s "
            + "  ".join(f"{d.get(k, 0) / 1000:>8.1f}s" for k in PHASES)
            + f"  {state:>36}  "
            + ", ".join(f"{k} {v:.2f}s" for k, v in phases.items())
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, bisect_left(range(len(ordered)), q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backlog", type=int, default=600_000)
    parser.add_argument("--batch-cap", type=int, default=300_000)
    parser.add_argument("--rate", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=60)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    timings = SinkTimings()
    sink_log = logging.getLogger("streaming.sink")
    sink_log.setLevel(logging.DEBUG)
    sink_log.propagate = False
    sink_log.addHandler(timings)

    settings = get_settings()
    topics = create_topics()
    checkpoints = tempfile.mkdtemp(prefix="bench-checkpoints-")
    config = StreamConfig.from_env(
        topics=",".join(topics),
        checkpoint_root=checkpoints,
        max_offsets_per_trigger=args.batch_cap,
        query_prefix="bench_",
    )
    preflight(config, settings)
    print(f"topics {topics[0]}, {topics[1]}; trigger {config.trigger}; cores: 2 (local[2])")
    rate = produce_backlog(args.backlog, topics)
    print(f"backlog: {args.backlog:,} events produced ({rate:,.0f} events/s)")

    spark = spark_session(
        "ytempire-bench-windows", settings=settings, **{"spark.ui.showConsoleProgress": "false"}
    )
    began = time.monotonic()
    queries = start_queries(spark, config, settings)
    try:
        drain(queries, args.backlog)
        wall = time.monotonic() - began
        progress = [p for p in queries[0].recentProgress if p["numInputRows"] > 0]
        busy = sum(p["durationMs"]["triggerExecution"] for p in progress) / 1000
        rows = sum(p["numInputRows"] for p in progress)
        print(f"throughput: {rows:,} events in {len(progress)} micro-batches")
        for query in queries:
            print_breakdown(
                f"{query.name} during the drain:",
                [p for p in query.recentProgress if p["numInputRows"] > 0],
                timings.phases,
            )
        drained = {q.name: max(p["batchId"] for p in q.recentProgress) for q in queries}
        print(
            f"  sustained (wall clock incl. startup and trigger waits): {rows / wall:,.0f} events/s"
        )
        print(f"  per busy second: {rows / busy:,.0f} events/s")

        live = LiveTraffic(topics, args.rate, args.seconds)
        poller = Poller(live.channels)
        poller.start()
        live.start()
        live.join()
        time.sleep(25)  # two triggers for the tail to land
        poller.stop_event.set()
        poller.join()
        for query in queries:
            print_breakdown(
                f"{query.name} on live traffic:",
                [
                    p
                    for p in query.recentProgress
                    if p["batchId"] > drained[query.name] and p["numInputRows"] > 0
                ],
                timings.phases,
            )
        latencies = [poller.latency(c, t) for c, t in live.sent]
        measured = [x for x in latencies if x is not None]
        print(
            f"latency: {len(live.sent):,} live events at {args.rate:,}/s over {args.seconds}s; "
            f"{len(measured):,} seen in PostgreSQL"
        )
        if measured:
            print(
                f"  production -> window row updated: p50 {statistics.median(measured):.1f}s, "
                f"p95 {percentile(measured, 0.95):.1f}s, max {max(measured):.1f}s "
                f"(target p95 <= {2 * 10}s = two triggers)"
            )
    finally:
        for query in queries:
            query.stop()
        spark.stop()
        admin = kafka_admin()
        admin.delete_topics(list(topics))
        admin.close()
        names = [config.query_name(WINDOWS_QUERY), config.query_name(LATE_QUERY)]
        with pg_connect("loader") as conn:
            conn.execute(
                "delete from streaming.stream_batches where query_name = any(%s)", (names,)
            )


if __name__ == "__main__":
    main()
