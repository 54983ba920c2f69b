"""Kafka -> raw_events landing throughput, next to its two ceilings and the reference design.

For N events (default 1,000,000) on a fresh 6-partition topic, compressed with the
platform's codec (``ytempire.topics.COMPRESSION``; ``--compression`` to change), in one run:

* ceiling 1 -- consume-only with the landing's own reader
  (``ingestion.kafka_events.reader``, librdkafka): read every message to the
  high-water marks and do nothing with it. kafka-python's consume-only (the
  landing's client before) is printed beside it; it is slower, so it would
  not bound a landing that reads with librdkafka;
* ceiling 2 -- psycopg binary COPY of the same rows (already parsed) into a
  scratch table shaped like raw_events.events: logged (WAL, as any durable
  landing must be) with its two keys, (topic, partition, offset) and
  event_id. The same COPY into a temporary table (no WAL, one key) is printed
  beside it to show what durability costs;
* the dlt landing (``ytempire ingest events``), in a child process, with its
  peak RSS and its largest Kafka reader's; run first for N/4 events (memory
  stays flat), which also compiles the bytecode both runs share, as an
  installed command has it (see ``land_in_child``);
* the peer a user would pick instead: Kafka Connect (the runtime in standalone
  mode, as ``connect-standalone.sh`` runs it, with its default 2 GiB heap) with
  the Debezium JDBC sink connector, upserting on ``event_id`` into a table
  shaped like raw_events.events (Kafka coordinates added by Connect's
  ``InsertField`` transform; ``kafka_key`` stays empty, no stock transform
  copies the key). The sink needs a schema with each record, so its topic holds
  the same events as JSON with Connect's inline schema (``JsonConverter``,
  ``schemas.enable``; ``occurred_at`` and ``payload`` typed with Debezium's
  ``ZonedTimestamp`` and ``Json`` so they land as timestamptz and jsonb). Its
  rate from a standing start (the JVM launched) and from its first row, and
  its peak RSS. The jars come from ``jvm/pom.xml``'s ``kafka-connect`` profile,
  resolved from Maven Central on first use;
* the reference design: parse + INSERT + COMMIT per event, on a sample.

The landing and the COPY ceiling run ``--repeat`` times (default 3), in turn; each
figure is the median of its runs, all printed. Everything runs on loopback on the
bench's own topics, tables, consumer group and offsets file, all removed at the end.

    uv run python bench/events_landing.py [--events 1000000] [--reference-sample 20000]
    uv run python bench/events_landing.py --smoke   # 4,000 events, every part
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from benchlib import Figures, add_smoke_flag, free_port, kafka_topics, peak_rss_mib

from ingestion.kafka_events.reader import high_water_marks, read_pages
from simulation.traffic import simulated_events
from ytempire.clients import kafka_admin, kafka_consumer, kafka_producer, pg_connect
from ytempire.events import Rejected, parse_event
from ytempire.settings import PROJECT_ROOT, Settings, get_settings
from ytempire.topics import COMPRESSION

COLUMNS = (
    "kafka_topic, kafka_partition, kafka_offset, kafka_key, kafka_timestamp, event_id, "
    "event_type, schema_version, occurred_at, channel_id, video_id, payload"
)
COPY_TYPES = [
    "text", "int4", "int8", "text", "timestamptz", "text", "text", "int2", "timestamptz",
    "text", "text", "jsonb",
]  # fmt: skip
SCRATCH_COLUMNS = """(
    kafka_topic text, kafka_partition integer, kafka_offset bigint, kafka_key text,
    kafka_timestamp timestamptz, event_id text not null unique, event_type text,
    schema_version smallint, occurred_at timestamptz, channel_id text, video_id text,
    payload jsonb, primary key (kafka_topic, kafka_partition, kafka_offset))"""
# Where the ceiling and the reference write: logged, with raw_events.events' keys.
DURABLE = "raw_events.bench_events_{}"
# The same rows without WAL, to show what durability costs.
TEMPORARY = "bench_events_tmp"


def produce(
    topic: str,
    count: int,
    seed: int,
    peer_topic: str | None = None,
    compression: str = COMPRESSION,
) -> tuple[int, int]:
    """Send ``count`` events to ``topic`` and, in Connect's format, to ``peer_topic``,
    compressed with ``compression``; return the bytes of the values sent to each."""
    producer = kafka_producer(
        compression_type=None if compression == "none" else compression,
        linger_ms=20,
        batch_size=256 * 1024,
    )
    sizes = [0, 0]
    for _, key, value, _ in simulated_events(count, seed=seed):
        producer.send(topic, key=key.encode(), value=value)
        sizes[0] += len(value)
        if peer_topic:
            peer_value = with_connect_schema(value)
            producer.send(peer_topic, key=key.encode(), value=peer_value)
            sizes[1] += len(peer_value)
    producer.flush()
    producer.close()
    return sizes[0], sizes[1]


def consume_only(topic: str) -> tuple[int, float]:
    """The landing's own reader (librdkafka) to the high-water marks, nothing done with a page."""
    settings = get_settings()
    stop_at = high_water_marks([topic], settings)
    started = time.perf_counter()
    count = sum(len(page) for page, _ in read_pages([topic], {}, stop_at, None, 20_000, settings))
    return count, time.perf_counter() - started


def consume_only_kafka_python(topic: str) -> tuple[int, float]:
    """kafka-python to the high-water marks, with the fetch sizes the landing's reader used."""
    from kafka import TopicPartition

    settings = get_settings()
    ends = {}
    for name, end in high_water_marks([topic], settings).items():
        topic_name, partition = name.rsplit(":", 1)
        ends[TopicPartition(topic_name, int(partition))] = end
    consumer = kafka_consumer(
        settings=settings,
        max_poll_records=20_000,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=4 * 1024 * 1024,
        receive_buffer_bytes=4 * 1024 * 1024,
        check_crcs=False,
    )
    try:
        started = time.perf_counter()
        consumer.assign(list(ends))
        consumer.seek_to_beginning()
        count, pending = 0, {tp for tp, end in ends.items() if end > 0}
        while pending:
            for tp, records in consumer.poll(timeout_ms=1_000, max_records=20_000).items():
                count += sum(1 for r in records if r.offset < ends[tp])
                if tp in pending and consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
                    consumer.pause(tp)
        return count, time.perf_counter() - started
    finally:
        consumer.close()


def parsed_rows(topic: str) -> list[tuple[object, ...]]:
    """The rows the landing writes to raw_events.events, as typed values for a binary COPY."""
    settings = get_settings()
    rows: list[tuple[object, ...]] = []
    seen: set[str] = set()
    for page, _ in read_pages([topic], {}, None, None, 20_000, settings):
        for message in page:
            event = parse_event(message.value())
            if isinstance(event, Rejected) or str(event.event_id) in seen:
                continue
            seen.add(str(event.event_id))
            key = message.key()
            rows.append(
                (
                    message.topic(),
                    message.partition(),
                    message.offset(),
                    None if key is None else key.decode(),
                    datetime.fromtimestamp(message.timestamp()[1] / 1000, UTC),
                    str(event.event_id),
                    event.event_type,
                    event.schema_version,
                    event.occurred_at,
                    event.channel_id,
                    None if event.video_id is None else str(event.video_id),
                    event.payload.model_dump_json(),
                )
            )
    return rows


def forget_landed(topics: list[str]) -> None:
    """Delete what the landing wrote for the bench's topics (their event ids recur per seed)
    and its state (``land_only`` names each pipeline after its topic), and vacuum, so the
    next run lands the topic again into the table as this one found it."""
    with pg_connect("loader", autocommit=True) as conn:
        for table in ("events", "dead_letters"):
            found = conn.execute("select to_regclass(%s)", (f"raw_events.{table}",)).fetchone()
            if found is not None and found[0] is not None:
                conn.execute(
                    f"delete from raw_events.{table} where kafka_topic = any(%s)", (topics,)
                )
                conn.execute(f"vacuum raw_events.{table}")
        state = conn.execute("select to_regclass('raw_events._dlt_pipeline_state')").fetchone()
        if state is not None and state[0] is not None:
            conn.execute(
                "delete from raw_events._dlt_pipeline_state where pipeline_name = any(%s)",
                (topics,),
            )


@contextmanager
def scratch_table(temporary: bool = False) -> Iterator[tuple[Any, str]]:
    """A connection and an empty table with raw_events.events' columns, dropped afterwards."""
    name = TEMPORARY if temporary else DURABLE.format(uuid.uuid4().hex[:8])
    with pg_connect("loader") as conn:
        conn.execute(f"create {'temporary ' if temporary else ''}table {name} {SCRATCH_COLUMNS}")
        conn.commit()
        try:
            yield conn, name
        finally:
            conn.rollback()
            conn.execute(f"drop table if exists {name}")
            conn.commit()


def binary_copy(rows: list[tuple[object, ...]], temporary: bool = False) -> float:
    from psycopg.types.json import set_json_dumps

    with scratch_table(temporary) as (conn, table):
        set_json_dumps(str, context=conn)  # payloads are already JSON text
        started = time.perf_counter()
        with conn.cursor().copy(f"copy {table} ({COLUMNS}) from stdin (format binary)") as cp:
            cp.set_types(COPY_TYPES)
            for row in rows:
                cp.write_row(row)
        conn.commit()
        return time.perf_counter() - started


def reference_per_event(rows: list[tuple[object, ...]], sample: int) -> float:
    """The reference design: one INSERT and one COMMIT per event."""
    with scratch_table() as (conn, table):
        started = time.perf_counter()
        for row in rows[:sample]:
            conn.execute(
                f"insert into {table} ({COLUMNS}) values "
                "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                row,
            )
            conn.commit()
        return time.perf_counter() - started


def land_in_child(topic: str, pycache: str) -> dict[str, Any]:
    """Run the landing in a fresh process; return its rate and peak RSS.

    The process runs as an installed command does, with compiled bytecode:
    ``pycache`` is its cache (``PYTHONPYCACHEPREFIX``), filled by the first
    run. This machine sets ``PYTHONDONTWRITEBYTECODE``, so without it every
    run compiled from source what the landing imports as it goes (dlt's
    destination, SQLAlchemy for dlt's connection strings): 2-3 s of each run
    at load 6, which no installed environment pays after its first run.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    with tempfile.TemporaryDirectory() as pipelines_dir:
        out = subprocess.run(
            [sys.executable, __file__, "--land-only", topic, "--pipelines-dir", pipelines_dir],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def land_only(topic: str, pipelines_dir: str) -> None:
    from ingestion.kafka_events.landing import land_events

    dlq = f"bench-dlq-{uuid.uuid4().hex[:8]}"
    with kafka_topics({dlq: 1}):
        summary = land_events(
            [topic], pipelines_dir=Path(pipelines_dir), pipeline_name=topic, dead_letter_topic=dlq
        )
    peak_mib = peak_rss_mib()  # this process's: /proc/self
    # the Kafka reader processes, forked from the landing: the largest one's peak (pages
    # shared with the landing included)
    reader_peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "messages": summary.messages,
        "seconds": summary.seconds,
        "loads": summary.loads,
        "steps": summary.steps,
        "peak_mib": peak_mib,
        "reader_peak_mib": reader_peak_mib,
    }
    print(json.dumps(result))


# --- the peer: Kafka Connect with the Debezium JDBC sink ------------------------------------

CONNECT_MODULE = "kafka-connect"
# The event contract's envelope as a Connect schema (JsonConverter's inline form).
CONNECT_SCHEMA = {
    "type": "struct",
    "name": "ytempire.Event",
    "optional": False,
    "fields": [
        {"field": "event_id", "type": "string", "optional": False},
        {"field": "event_type", "type": "string", "optional": False},
        {"field": "schema_version", "type": "int16", "optional": False},
        {
            "field": "occurred_at",
            "type": "string",
            "optional": False,
            "name": "io.debezium.time.ZonedTimestamp",
        },
        {"field": "channel_id", "type": "string", "optional": False},
        {"field": "video_id", "type": "string", "optional": True},
        {"field": "payload", "type": "string", "optional": False, "name": "io.debezium.data.Json"},
    ],
}
# kafka-run-class.sh's JVM options and connect-standalone.sh's default heap.
CONNECT_JVM = [
    "-Xms256M",
    "-Xmx2G",
    "-server",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:InitiatingHeapOccupancyPercent=35",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-XX:MaxInlineLevel=15",
    "-Djava.awt.headless=true",
]
CONNECT_LOG4J = """status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = {log}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{{ISO8601}} %-5p [%t] %c{{1}} - %m%n
rootLogger.level = info
rootLogger.appenderRef.file.ref = file
"""


def with_connect_schema(value: bytes) -> bytes:
    """An event of the contract as JsonConverter reads it with ``schemas.enable``."""
    event = json.loads(value)
    event["payload"] = json.dumps(event["payload"], separators=(",", ":"))
    return json.dumps({"schema": CONNECT_SCHEMA, "payload": event}, separators=(",", ":")).encode()


def connect_jars(settings: Settings) -> list[Path]:
    """The Connect runtime's and the sink's jars, resolved from Maven Central if missing."""
    folder = settings.jars_dir / CONNECT_MODULE
    if not list(folder.glob("debezium-connector-jdbc-*.jar")):
        print(
            f"resolving Kafka Connect and the Debezium JDBC sink into {folder} "
            "(jvm/pom.xml, profile kafka-connect; about 60 MB from Maven Central, once) ...",
            flush=True,
        )
        subprocess.run(
            [
                "mvn", "-q", "-B", "-f", "jvm/pom.xml", "-P", CONNECT_MODULE, "-pl",
                CONNECT_MODULE, f"-Djars.dir={settings.jars_dir}", "package",
            ],
            cwd=PROJECT_ROOT,
            check=True,
        )  # fmt: skip
    return sorted(folder.glob("*.jar"))


@dataclass
class PeerRun:
    rows: int
    seconds: float  # from the JVM's launch to the last row
    first_row_s: float  # from the JVM's launch to the first row
    peak_mib: float


def connect_peer(topic: str, expected: int, settings: Settings, bound_s: float) -> PeerRun:
    """Kafka Connect standalone + the Debezium JDBC sink, from ``topic`` into a scratch table
    until it holds ``expected`` rows; everything it made is removed afterwards."""
    jars = connect_jars(settings)
    work = Path(tempfile.mkdtemp(prefix="bench-connect-"))
    name = f"bench-connect-{uuid.uuid4().hex[:8]}"
    port = free_port()
    (work / "log4j2.properties").write_text(CONNECT_LOG4J.format(log=work / "connect.log"))
    (work / "worker.properties").write_text(
        "\n".join(
            [
                f"bootstrap.servers={settings.kafka_bootstrap}",
                "key.converter=org.apache.kafka.connect.storage.StringConverter",
                "value.converter=org.apache.kafka.connect.json.JsonConverter",
                "value.converter.schemas.enable=true",
                f"offset.storage.file.filename={work / 'offsets'}",
                "offset.flush.interval.ms=1000",
                f"listeners=http://127.0.0.1:{port}",
                "plugin.discovery=service_load",  # every jar here has its manifests (KIP-898)
            ]
        )
    )
    loader = settings.loader
    with scratch_table() as (conn, table):
        conn.commit()
        (work / "sink.properties").write_text(
            "\n".join(
                [
                    f"name={name}",
                    "connector.class=io.debezium.connector.jdbc.JdbcSinkConnector",
                    "tasks.max=1",
                    f"topics={topic}",
                    f"connection.url={settings.jdbc_url()}",
                    f"connection.username={loader.user}",
                    f"connection.password={loader.password}",
                    "insert.mode=upsert",
                    "primary.key.mode=record_value",
                    "primary.key.fields=event_id",
                    "schema.evolution=none",
                    f"collection.name.format={table}",
                    "transforms=kafka",
                    "transforms.kafka.type=org.apache.kafka.connect.transforms.InsertField$Value",
                    "transforms.kafka.topic.field=kafka_topic",
                    "transforms.kafka.partition.field=kafka_partition",
                    "transforms.kafka.offset.field=kafka_offset",
                    "transforms.kafka.timestamp.field=kafka_timestamp",
                ]
            )
        )
        command = [
            "java",
            *CONNECT_JVM,
            f"-Dlog4j2.configurationFile={work / 'log4j2.properties'}",
            "-cp",
            ":".join(map(str, jars)),
            "org.apache.kafka.connect.cli.ConnectStandalone",
            str(work / "worker.properties"),
            str(work / "sink.properties"),
        ]
        started = time.monotonic()
        jvm = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            rows, first_row_s, done_s = _wait_for_rows(
                conn, table, expected, jvm, name, port, started, bound_s, work
            )
            peak = peak_rss_mib(jvm.pid)
        finally:
            jvm.send_signal(signal.SIGTERM)
            try:
                jvm.wait(60)
            except subprocess.TimeoutExpired:
                jvm.kill()
                jvm.wait()
            admin = kafka_admin()
            groups = [
                g["group_id"] for g in admin.list_groups() if g["group_id"] == f"connect-{name}"
            ]
            if groups:
                admin.delete_groups(groups)
            admin.close()
        shutil.rmtree(work, ignore_errors=True)
    return PeerRun(rows, done_s, first_row_s, peak)


def _wait_for_rows(
    conn: Any,
    table: str,
    expected: int,
    jvm: subprocess.Popen[bytes],
    name: str,
    port: int,
    started: float,
    bound_s: float,
    work: Path,
) -> tuple[int, float, float]:
    """Poll the table until it holds ``expected`` rows; fail on a failed task or the bound."""
    first_row_s, checked = 0.0, 0.0
    while True:
        (rows,) = conn.execute(f"select count(*) from {table}").fetchone()
        conn.commit()
        now = time.monotonic() - started
        if rows and not first_row_s:
            first_row_s = now
        if rows >= expected:
            return rows, first_row_s, now
        failure = None
        if jvm.poll() is not None:
            failure = f"Kafka Connect exited with {jvm.returncode}"
        elif now - checked > 5:
            checked = now
            failure = _failed_task(port, name)
        if failure is None and now > bound_s:
            failure = f"{rows:,} of {expected:,} rows after {bound_s:.0f} s"
        if failure:
            log = (work / "connect.log").read_text(errors="replace")[-4000:]
            raise SystemExit(f"the Kafka Connect peer failed: {failure}\n{log}")
        time.sleep(0.25)


def _failed_task(port: int, name: str) -> str | None:
    """The connector's failed task's trace, from Connect's REST API (None: running or not up)."""
    try:
        status = httpx.get(f"http://127.0.0.1:{port}/connectors/{name}/status", timeout=5).json()
    except (httpx.HTTPError, ValueError):
        return None  # the REST server is not up yet
    for task in status.get("tasks", []):
        if task.get("state") == "FAILED":
            return f"task failed: {task.get('trace', '')[:2000]}"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reference-sample", type=int, default=20_000)
    parser.add_argument("--no-peer", action="store_true", help="Skip Kafka Connect.")
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="Landings and COPY ceilings, taken in turn; their medians are the figures "
        "(the COPY alone varied 109-131k events/s between quiet runs).",
    )
    parser.add_argument(
        "--compression",
        choices=["zstd", "gzip", "none"],
        default=COMPRESSION,
        help="The producers' codec (default: the platform's, ytempire.topics.COMPRESSION); "
        "gzip was the platform's before.",
    )
    parser.add_argument("--land-only", help=argparse.SUPPRESS)
    parser.add_argument("--pipelines-dir", help=argparse.SUPPRESS)
    add_smoke_flag(parser)
    args = parser.parse_args()
    if args.land_only:
        land_only(args.land_only, args.pipelines_dir)
        return
    if args.smoke:
        args.events, args.reference_sample, args.repeat = 4_000, 500, 2  # the re-landing too
    figures = Figures("events_landing", smoke=args.smoke)
    settings = get_settings()

    n, small = args.events, args.events // 4
    run = uuid.uuid4().hex[:8]
    big_topic, small_topic, peer_topic = (
        f"bench-events-{k}-{run}" for k in ("big", "small", "peer")
    )
    topics = [big_topic, small_topic] + ([] if args.no_peer else [peer_topic])
    with kafka_topics(dict.fromkeys(topics, 6)):
        peer = None
        try:
            codec = args.compression
            print(f"producing {n:,} + {small:,} events ({codec}) ...", flush=True)
            peer_events = None if args.no_peer else peer_topic
            sizes = produce(big_topic, n, seed=99, peer_topic=peer_events, compression=codec)
            # new event ids: lands like the big one
            produce(small_topic, small, seed=98, compression=codec)

            consumed, consume_s = consume_only(big_topic)
            consumed_kp, consume_kp_s = consume_only_kafka_python(big_topic)
            rows = parsed_rows(big_topic)
            copy_tmp_s = binary_copy(rows, temporary=True)
            reference_s = reference_per_event(rows, args.reference_sample)
            print(
                f"the dlt landing and the COPY ceiling, {args.repeat} each in turn ...", flush=True
            )
            copies, landings = [], []
            with tempfile.TemporaryDirectory() as pycache:
                landed_small = land_in_child(small_topic, pycache)  # first: fills the cache
                for i in range(args.repeat):
                    copies.append(len(rows) / binary_copy(rows))
                    if i:
                        forget_landed([big_topic])
                    landings.append(land_in_child(big_topic, pycache))
                    if landings[-1]["messages"] != n:
                        raise SystemExit(
                            f"landing run {i + 1} landed {landings[-1]['messages']:,} of {n:,} "
                            "events: the bench's own state was not reset"
                        )
            if not args.no_peer:
                print("the peer: Kafka Connect + Debezium JDBC sink ...", flush=True)
                peer = connect_peer(peer_topic, n, settings, bound_s=max(600.0, n / 500))
        finally:
            forget_landed([big_topic, small_topic])

    consume_rate, copy_rate = consumed / consume_s, statistics.median(copies)
    consume_kp_rate = consumed_kp / consume_kp_s
    rates = [run["messages"] / run["seconds"] for run in landings]
    land_rate = statistics.median(rates)
    # the run whose loads are printed: the median one (the lower middle of an even count)
    landed = sorted(landings, key=lambda run: run["messages"] / run["seconds"])[
        (len(landings) - 1) // 2
    ]
    ceiling = min(consume_rate, copy_rate)
    print(f"\nKafka -> raw_events, {n:,} events, 6 partitions, {args.compression}")
    print(
        f"  ceiling: librdkafka consume-only       {consume_rate:>10,.0f} events/s"
        "  (the landing's own reader)"
    )
    print(
        f"    (kafka-python consume-only, the client before: {consume_kp_rate:,.0f} events/s; "
        f"the landing at {land_rate / min(consume_kp_rate, copy_rate):.0%} of it or COPY)"
    )
    print(f"  ceiling: psycopg binary COPY           {copy_rate:>10,.0f} events/s{_runs(copies)}")
    print(
        f"    (same COPY into a temporary table, no WAL, one key: "
        f"{len(rows) / copy_tmp_s:,.0f} events/s)"
    )
    print(
        f"  dlt landing (ytempire ingest events)   {land_rate:>10,.0f} events/s{_runs(rates)}"
        f"  = {land_rate / ceiling:.0%} of the lower ceiling"
    )
    print(
        f"    (at {small:,} events, the first run, compiling its bytecode: "
        f"{landed_small['messages'] / landed_small['seconds']:,.0f} events/s)"
    )
    steps = landed["steps"]
    print(
        f"    its {landed['loads']} dlt loads (the median run), seconds in the main thread: "
        f"extract {steps.get('extract', 0):.1f} (waiting for the Kafka read-ahead), "
        f"normalize {steps.get('normalize', 0):.1f}, load {steps.get('load', 0):.1f}; "
        f"wall {landed['seconds']:.1f}"
    )
    print(
        f"  reference: INSERT+COMMIT per event     "
        f"{args.reference_sample / reference_s:>10,.0f} events/s"
        f"  (sample of {args.reference_sample:,})"
    )
    print(
        f"  peak RSS of the landing: {landed_small['peak_mib']:,.0f} MiB at {small:,} events, "
        f"{landed['peak_mib']:,.0f} MiB at {n:,} events; largest Kafka reader process "
        f"{landed_small['reader_peak_mib']:,.0f} and {landed['reader_peak_mib']:,.0f} MiB"
    )
    figures.add("dlt landing", land_rate, "ev/s", "ceiling: librdkafka consume-only", consume_rate)
    figures.add("dlt landing", land_rate, "ev/s", "kafka-python consume-only", consume_kp_rate)
    figures.add("dlt landing", land_rate, "ev/s", "ceiling: binary COPY (logged, keyed)", copy_rate)
    if peer is not None:
        peer_rate = peer.rows / peer.seconds
        steady_rate = peer.rows / max(peer.seconds - peer.first_row_s, 1e-9)
        print(
            f"  peer: Kafka Connect + Debezium JDBC sink (upsert on event_id) "
            f"{peer_rate:>10,.0f} events/s from a standing start ({peer.seconds:.1f} s, the first "
            f"row after {peer.first_row_s:.1f} s; {steady_rate:,.0f} events/s from it); "
            f"peak RSS {peer.peak_mib:,.0f} MiB; its topic {sizes[1] / n:,.0f} bytes/event "
            f"(schema inline) vs {sizes[0] / n:,.0f}"
        )
        figures.add(
            "dlt landing", land_rate, "ev/s", "peer: Connect + Debezium, standing", peer_rate
        )
        figures.add(
            "dlt landing", land_rate, "ev/s", "peer: Connect + Debezium, from row 1", steady_rate
        )
        figures.add(
            f"landing peak RSS ({n:,} ev)",
            landed["peak_mib"],
            "MiB",
            "peer: Connect JVM peak RSS",
            peer.peak_mib,
        )
    figures.print()


def _runs(rates: list[float]) -> str:
    """`` (median of 3: a, b, c)`` -- the runs in the order taken; nothing for one run."""
    if len(rates) < 2:
        return ""
    return f" (median of {len(rates)}: {', '.join(f'{r:,.0f}' for r in rates)})"


if __name__ == "__main__":
    main()
