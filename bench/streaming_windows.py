"""Benchmark of the channel-windows job: sustained throughput beside Spark's read-only ceiling,
end-to-end latency, and the batch recompute of its windows.

Against the real local services, on fresh topics (deleted afterwards) and
the configured database's streaming tables, with the job's default 10-second
trigger, in one run:

1. Throughput: a backlog of simulated events (250 channels x 20 videos) is
   drained in micro-batches capped at ``--batch-cap`` events. "Sustained" is
   events/s from the start of the query until its sink has merged the
   backlog, on the wall clock: the query's startup, the first batch's cold
   start (the Python workers starting and importing the contract, the JVM's
   JIT) and trigger waits included (the figure's definition since issue 26).
   Read it with two limits: at the defaults (600k events, 300k a batch) the
   cold first batch is half of the events; and a job whose batches end
   within the trigger waits for the next one, so over a long run it keeps at
   most cap / trigger (30,000 events/s at the defaults), which a two-batch
   drain can exceed because its clock stops when the last batch ends. So it
   prints beside it, without replacing it, the rate per busy second of the
   batches after the first ("warm batches"): the job keeps up with events
   arriving at r/s when a batch of r x trigger events ends within the
   trigger. Also events per busy second over all batches.
2. Ceiling: the same Kafka read with nothing done -- a query on the same
   topics, partitions, options, trigger and cap, counting its rows and
   dropping them (Spark's ``noop`` sink) -- drained over the same backlog,
   measured the same way. It runs after the job in the same Spark session (a
   warm JVM), so the ratio is, if anything, unkind to the job.
3. Latency: the job resumes from its checkpoints; metrics updates produced
   live at ``--rate``/s on another 50 channels x 20 videos; a poller watches
   each channel's newest window row in PostgreSQL. An event's latency is the
   time from its production to the first poll that sees a row of its channel
   with ``last_event_at`` at or after it (a channel's events share a
   partition, so they are processed in order). Prints p50/p95/max; the target
   is p95 within two triggers.
4. Check: the windows recomputed in one Spark batch over everything in the
   topics (the same pure transforms, no watermark) equal the rows the stream
   left in ``streaming.channel_video_window_stats``, exactly, with no late
   event counted. Exits 1 if not.

Each phase prints, per micro-batch of each query, Spark's ``durationMs``
(latestOffset, getBatch, queryPlanning, addBatch, walCommit, commitOffsets)
and the sink's own phases (progress = reading and locking the query's
progress row and the topic ids, panes = the Spark job that reads the batch,
parses it and aggregates it per pane in the Python workers, encode = the pane
rows as CSV, copy = COPY into a temp table, windows = PostgreSQL expanding them
into window rows, merge, rollup = the channel rows, commit = late rows, batch
and progress rows and the commit).

Run: ``uv run python bench/streaming_windows.py`` (about 5 minutes);
``--smoke``: 2,000 events (one micro-batch; the live phase adds batches on its state), a
2-second trigger, every phase and
the check.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from bisect import bisect_left
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from benchlib import Figures, add_smoke_flag, kafka_topics

from simulation import ids
from simulation.bursts import generate
from simulation.traffic import envelope
from streaming.channel_windows import WINDOWS_QUERY, kafka_rows, preflight, start_queries
from streaming.config import StreamConfig, duration_seconds
from streaming.sink import VIDEO_COLUMNS
from streaming.windows import parse_events, valid_events, video_window_stats
from ytempire.clients import kafka_producer, pg_connect, spark_session
from ytempire.events import topic_for
from ytempire.settings import get_settings

BACKLOG_NETWORK = 9001
LIVE_NETWORK = 9002


def topic_partitions() -> dict[str, int]:
    """The bench's two fresh topics (video events: 6 partitions, channel events: 3)."""
    suffix = uuid.uuid4().hex[:8]
    return {f"bench-video-events-{suffix}": 6, f"bench-channel-events-{suffix}": 3}


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
    """Wait until every query has read ``total`` events.

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
        payload = {  # a whole metrics_update: the windows count what the contract accepts
            "youtube_video_id": ids.youtube_video_id(index, upload, LIVE_NETWORK),
            "views": n,
            "likes": n // 20,
            "comments": n // 100,
            "shares": n // 200,
            "watch_time_minutes": round(n * 3.5, 2),
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
            query = str(record.args[0]) if isinstance(record.args, tuple) and record.args else ""
            self.phases[(query, int(getattr(record, "sink_batch", -1)))] = phases


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


READ_ONLY_QUERY = "read_only"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
TIMESTAMP_COLUMNS = ("window_start", "window_end", "last_event_at")
MONEY_COLUMNS = ("revenue_max_usd", "revenue_min_usd")


def start_read_only(spark, config: StreamConfig, settings) -> list:
    """The ceiling: the job's read of each batch, counted and dropped (``noop`` sink)."""
    return [
        kafka_rows(spark, config, settings)
        .writeStream.queryName(config.query_name(READ_ONLY_QUERY))
        .option("checkpointLocation", config.checkpoint(READ_ONLY_QUERY))
        .trigger(processingTime=config.trigger)
        .format("noop")
        .start()
    ]


@dataclass
class Drain:
    """How a query drained the backlog (events/s)."""

    sustained: float  # on the wall clock from the query's start
    busy: float  # per second of its batches' triggerExecution
    warm: float  # the same over the batches after the first (nan if only one)
    batches: int


def timed_drain(queries: list, total: int, began: float) -> Drain:
    """Drain, stop the queries; how the first one did."""
    try:
        drain(queries, total)
        wall = time.monotonic() - began
        progress = [p for p in queries[0].recentProgress if p["numInputRows"] > 0]
    finally:
        for query in queries:
            query.stop()

    def rate(batches: list) -> float:
        busy = sum(p["durationMs"]["triggerExecution"] for p in batches) / 1000
        return sum(p["numInputRows"] for p in batches) / busy if busy else float("nan")

    rows = sum(p["numInputRows"] for p in progress)
    return Drain(rows / wall, rate(progress), rate(progress[1:]), len(progress))


def bench_channels(live: LiveTraffic) -> list[str]:
    return [ids.channel_id(i, BACKLOG_NETWORK) for i in range(250)] + live.channels


def forget_windows(channels: list[str], names: list[str]) -> None:
    """Remove what the job wrote for the bench's own channels and queries."""
    with pg_connect("loader") as conn:
        for table in ("channel_window_stats", "channel_video_window_stats", "late_events"):
            conn.execute(f"delete from streaming.{table} where channel_id = any(%s)", (channels,))
        for table in ("stream_batches", "stream_progress"):
            conn.execute(f"delete from streaming.{table} where query_name = any(%s)", (names,))


def recomputed_windows(spark, config: StreamConfig, settings) -> set[tuple]:
    """Every window of everything in the topics, in one Spark batch (no watermark)."""
    rows = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("subscribe", ",".join(config.topic_list))
        .option("startingOffsets", "earliest")
        .option("endingOffsets", "latest")
        .load()
    )
    windows = video_window_stats(valid_events(parse_events(rows)), config.window, config.slide)
    return {_normal(row.asDict()) for row in windows.select(*VIDEO_COLUMNS).collect()}


def stream_windows(channels: list[str]) -> set[tuple]:
    with pg_connect("loader") as conn:
        cursor = conn.execute(
            f"select {', '.join(VIDEO_COLUMNS)} from streaming.channel_video_window_stats "
            "where channel_id = any(%s)",
            (channels,),
        )
        names = [d.name for d in cursor.description or ()]
        return {_normal(dict(zip(names, row, strict=True))) for row in cursor.fetchall()}


def _normal(row: dict) -> tuple:
    """One window row with comparable values: instants in UTC microseconds, money at 6 places."""
    out = []
    for name in VIDEO_COLUMNS:
        value = row[name]
        if name in TIMESTAMP_COLUMNS and value is not None:
            if value.tzinfo is None:  # Spark hands back naive local times
                value = value.astimezone(UTC)
            value = (value - EPOCH) // timedelta(microseconds=1)
        elif name in MONEY_COLUMNS and value is not None:
            value = round(Decimal(value), 6)
        out.append(value)
    return tuple(out)


def late_events(channels: list[str]) -> int:
    with pg_connect("loader") as conn:
        row = conn.execute(
            "select coalesce(sum(late_count), 0) from streaming.late_events "
            "where channel_id = any(%s)",
            (channels,),
        ).fetchone()
    return int(row[0]) if row else 0


def run(args, topics: tuple[str, str], settings, figures: Figures, timings: SinkTimings) -> bool:
    """The four phases on ``topics``; True if the check passed. Removes its checkpoints and the
    rows it wrote however it ends (``main`` deletes the topics)."""
    with ExitStack() as cleanup:  # undone in reverse order however the run ends
        checkpoints = tempfile.mkdtemp(prefix="bench-checkpoints-")
        cleanup.callback(shutil.rmtree, checkpoints, ignore_errors=True)
        config = StreamConfig.from_env(
            topics=",".join(topics),
            checkpoint_root=checkpoints,
            max_offsets_per_trigger=args.batch_cap,
            query_prefix="bench_",
            trigger=args.trigger,
        )
        trigger_s = duration_seconds(config.trigger)
        names = [config.query_name(WINDOWS_QUERY)]
        live = LiveTraffic(topics, args.rate, args.seconds)
        channels = bench_channels(live)
        forget_windows(channels, names)  # a crashed earlier run's rows
        cleanup.callback(forget_windows, channels, names)
        preflight(config, settings)
        print(f"topics {topics[0]}, {topics[1]}; trigger {config.trigger}; cores: 2 (local[2])")
        rate = produce_backlog(args.backlog, topics)
        print(f"backlog: {args.backlog:,} events produced ({rate:,.0f} events/s)")

        spark = spark_session(
            "ytempire-bench-windows", settings=settings, **{"spark.ui.showConsoleProgress": "false"}
        )
        cleanup.callback(spark.stop)
        print("the job on the backlog ...", flush=True)
        began = time.monotonic()
        queries = start_queries(spark, config, settings)
        job = timed_drain(queries, args.backlog, began)
        print(f"throughput: {args.backlog:,} events in {job.batches} micro-batches")
        for query in queries:
            print_breakdown(
                f"{query.name} during the drain:",
                [p for p in query.recentProgress if p["numInputRows"] > 0],
                timings.phases,
            )
        print(
            "  sustained (wall clock incl. startup, the cold first batch and trigger waits): "
            f"{job.sustained:,.0f} events/s"
        )
        print(
            f"  per busy second: {job.busy:,.0f} events/s; warm batches (after the first): "
            f"{job.warm:,.0f} events/s; the most a run keeps at this cap and trigger when "
            f"its batches end within the trigger: {args.batch_cap / trigger_s:,.0f} events/s"
        )

        print("ceiling: the same read, counted and dropped ...", flush=True)
        began = time.monotonic()
        ceiling = timed_drain(start_read_only(spark, config, settings), args.backlog, began)
        print(
            f"  sustained {ceiling.sustained:,.0f} events/s; per busy second "
            f"{ceiling.busy:,.0f}; warm batches {ceiling.warm:,.0f}"
        )
        figures.add(
            "windows job, sustained", job.sustained, "ev/s", "read-only ceiling", ceiling.sustained
        )
        figures.add("windows job, busy second", job.busy, "ev/s", "read-only ceiling", ceiling.busy)
        if job.batches > 1 and ceiling.batches > 1:
            figures.add(
                "windows job, warm batches", job.warm, "ev/s", "read-only ceiling", ceiling.warm
            )

        print("latency: the job resumed, live traffic ...", flush=True)
        queries = start_queries(spark, config, settings)
        poller = Poller(live.channels)
        poller.start()
        live.start()
        live.join()
        try:
            drain(queries, len(live.sent))  # resumed: only the live events are new
        finally:
            for query in queries:
                query.stop()
        # The sink commits a batch before Spark reports it: the poller sees every live
        # channel's last event within a few polls (bounded only against a hang).
        last_sent = dict(live.sent)  # channel -> its last event's production time
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(
            poller.latency(c, t) is None for c, t in last_sent.items()
        ):
            time.sleep(0.2)
        poller.stop_event.set()
        poller.join()
        for query in queries:
            print_breakdown(
                f"{query.name} on live traffic:",
                [p for p in query.recentProgress if p["numInputRows"] > 0],
                timings.phases,
            )
        latencies = [poller.latency(c, t) for c, t in live.sent]
        measured = [x for x in latencies if x is not None]
        print(
            f"latency: {len(live.sent):,} live events at {args.rate:,}/s over {args.seconds}s; "
            f"{len(measured):,} seen in PostgreSQL"
        )
        p95 = percentile(measured, 0.95) if measured else float("nan")
        if measured:
            print(
                f"  production -> window row updated: p50 {statistics.median(measured):.1f}s, "
                f"p95 {p95:.1f}s, max {max(measured):.1f}s "
                f"(target p95 <= {2 * trigger_s}s = two triggers)"
            )
        figures.add(
            "p95 production -> window row",
            p95,
            "s",
            "two triggers (target)",
            2 * trigger_s,
            digits=1,
        )

        print("check: the windows recomputed in one batch ...", flush=True)
        batch = recomputed_windows(spark, config, settings)
        stream = stream_windows(channels)
        late = late_events(channels)
        ok = batch == stream and late == 0 and len(measured) == len(live.sent)
        verdict = (
            "equal"
            if batch == stream
            else f"DIFFER ({len(batch - stream):,} only recomputed, "
            f"{len(stream - batch):,} only streamed)"
        )
        print(
            f"  {len(batch):,} windows recomputed, {len(stream):,} in PostgreSQL: {verdict}; "
            f"late events {late:,}; live events seen {len(measured):,}/{len(live.sent):,}"
        )
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backlog", type=int, default=600_000)
    parser.add_argument("--batch-cap", type=int, default=300_000)
    parser.add_argument("--rate", type=int, default=2_000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--trigger", default=None, help="default: YTEMPIRE_STREAM_TRIGGER")
    add_smoke_flag(parser)
    args = parser.parse_args()
    if args.smoke:
        args.backlog, args.batch_cap, args.rate, args.seconds = 2_000, 2_000, 100, 3
        args.trigger = "2 seconds"
    figures = Figures("streaming_windows", smoke=args.smoke)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.ERROR)  # the live producer's loop warnings
    timings = SinkTimings()
    sink_log = logging.getLogger("streaming.sink")
    sink_log.setLevel(logging.DEBUG)
    sink_log.propagate = False
    sink_log.addHandler(timings)

    settings = get_settings()
    with kafka_topics(topic_partitions(), settings) as (video_topic, channel_topic):
        ok = run(args, (video_topic, channel_topic), settings, figures, timings)
    figures.print()
    print("outcome: " + ("the stream's windows equal the batch recompute" if ok else "MISMATCH"))
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
