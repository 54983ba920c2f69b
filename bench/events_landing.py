"""Kafka -> raw_events landing throughput, next to its two ceilings and the reference design.

For N events (default 1,000,000) on a fresh 6-partition topic, in one run:

* ceiling 1 -- kafka-python consume-only: read every message to the
  high-water marks and do nothing with it;
* ceiling 2 -- psycopg binary COPY of the same rows (already parsed) into a
  scratch table shaped like raw_events.events: logged (WAL, as any durable
  landing must be) with its two keys, (topic, partition, offset) and
  event_id. The same COPY into a temporary table (no WAL, one key) is printed
  beside it to show what durability costs;
* the dlt landing (``ytempire ingest events``), in a child process, with its
  peak RSS and its largest Kafka reader's; repeated for N/4 events to show
  memory stays flat;
* the reference design: parse + INSERT + COMMIT per event, on a sample.

    uv run python bench/events_landing.py [--events 1000000] [--reference-sample 20000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ingestion.kafka_events.reader import high_water_marks, read_pages
from simulation.traffic import simulated_events
from ytempire.clients import kafka_admin, kafka_producer, pg_connect
from ytempire.events import Rejected, parse_event
from ytempire.settings import get_settings

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


def create_topic(name: str, partitions: int) -> None:
    from kafka.admin import NewTopic

    admin = kafka_admin()
    admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
    admin.close()


def delete_topic(name: str) -> None:
    admin = kafka_admin()
    admin.delete_topics([name])
    admin.close()


def produce(topic: str, count: int, seed: int) -> float:
    producer = kafka_producer(compression_type="gzip", linger_ms=20, batch_size=256 * 1024)
    started = time.perf_counter()
    for _, key, value, _ in simulated_events(count, seed=seed):
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()
    return time.perf_counter() - started


def consume_only(topic: str) -> tuple[int, float]:
    settings = get_settings()
    stop_at = high_water_marks([topic], settings)
    started = time.perf_counter()
    count = sum(len(page) for page, _ in read_pages([topic], {}, stop_at, None, 20_000, settings))
    return count, time.perf_counter() - started


def parsed_rows(topic: str) -> list[tuple[object, ...]]:
    """The rows the landing writes to raw_events.events, as typed values for a binary COPY."""
    settings = get_settings()
    rows: list[tuple[object, ...]] = []
    seen: set[str] = set()
    for page, _ in read_pages([topic], {}, None, None, 20_000, settings):
        for record in page:
            event = parse_event(record.value)
            if isinstance(event, Rejected) or str(event.event_id) in seen:
                continue
            seen.add(str(event.event_id))
            rows.append(
                (
                    record.topic,
                    record.partition,
                    record.offset,
                    None if record.key is None else record.key.decode(),
                    datetime.fromtimestamp(record.timestamp / 1000, UTC),
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
    """Delete what the landing wrote for the bench's topics (their event ids recur per seed),
    and vacuum, so the next run lands into the table as this one found it."""
    with pg_connect("loader", autocommit=True) as conn:
        for table in ("events", "dead_letters"):
            found = conn.execute("select to_regclass(%s)", (f"raw_events.{table}",)).fetchone()
            if found is not None and found[0] is not None:
                conn.execute(
                    f"delete from raw_events.{table} where kafka_topic = any(%s)", (topics,)
                )
                conn.execute(f"vacuum raw_events.{table}")


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


def land_in_child(topic: str) -> dict[str, Any]:
    """Run the landing in a fresh process; return its rate and peak RSS."""
    with tempfile.TemporaryDirectory() as pipelines_dir:
        out = subprocess.run(
            [sys.executable, __file__, "--land-only", topic, "--pipelines-dir", pipelines_dir],
            check=True,
            capture_output=True,
            text=True,
        )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def own_peak_rss_mib() -> float:
    """This process's peak RSS since it started. Not getrusage's ru_maxrss: Linux keeps
    that across exec, so it would report the benchmark's own memory at the fork."""
    status = Path("/proc/self/status").read_text()
    (line,) = (line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def land_only(topic: str, pipelines_dir: str) -> None:
    from ingestion.kafka_events.landing import land_events

    dlq = f"bench-dlq-{uuid.uuid4().hex[:8]}"
    create_topic(dlq, 1)
    try:
        summary = land_events(
            [topic], pipelines_dir=Path(pipelines_dir), pipeline_name=topic, dead_letter_topic=dlq
        )
    finally:
        delete_topic(dlq)
    peak_mib = own_peak_rss_mib()
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reference-sample", type=int, default=20_000)
    parser.add_argument("--land-only")
    parser.add_argument("--pipelines-dir")
    args = parser.parse_args()
    if args.land_only:
        land_only(args.land_only, args.pipelines_dir)
        return

    n, small = args.events, args.events // 4
    big_topic, small_topic = (f"bench-events-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for topic in (big_topic, small_topic):
        create_topic(topic, 6)
    try:
        print(f"producing {n:,} + {small:,} events (gzip) ...", flush=True)
        produce(big_topic, n, seed=99)
        produce(small_topic, small, seed=98)  # new event ids: lands like the big one

        consumed, consume_s = consume_only(big_topic)
        rows = parsed_rows(big_topic)
        copy_s = binary_copy(rows)
        copy_tmp_s = binary_copy(rows, temporary=True)
        reference_s = reference_per_event(rows, args.reference_sample)
        landed = land_in_child(big_topic)
        landed_small = land_in_child(small_topic)
    finally:
        forget_landed([big_topic, small_topic])
        for topic in (big_topic, small_topic):
            delete_topic(topic)

    consume_rate, copy_rate = consumed / consume_s, len(rows) / copy_s
    land_rate = landed["messages"] / landed["seconds"]
    ceiling = min(consume_rate, copy_rate)
    print(f"\nKafka -> raw_events, {n:,} events, 6 partitions, gzip")
    print(f"  ceiling: kafka-python consume-only     {consume_rate:>10,.0f} events/s")
    print(f"  ceiling: psycopg binary COPY           {copy_rate:>10,.0f} events/s")
    print(
        f"    (same COPY into a temporary table, no WAL, one key: "
        f"{len(rows) / copy_tmp_s:,.0f} events/s)"
    )
    print(
        f"  dlt landing (ytempire ingest events)   {land_rate:>10,.0f} events/s"
        f"  = {land_rate / ceiling:.0%} of the lower ceiling"
    )
    steps = landed["steps"]
    print(
        f"    its {landed['loads']} dlt loads, seconds in the main thread: "
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


if __name__ == "__main__":
    main()
