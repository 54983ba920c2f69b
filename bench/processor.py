"""The real-time processor on the demo's events: events/s beside consume-only, and kill -9.

In one run, on fresh topics holding the events ``make demo`` sends (the
simulated network's platform stream from the oldest tracked upload to
2025-01-03, as ``ytempire simulate events --to 2025-01-03``: 43,664 events
over video-, channel- and user-event topics of the standard partitions):

* ceiling -- kafka-python consume-only: one consumer reads every message of
  the same topics to their end offsets, with the processor's poll size, and
  does nothing with them;
* the processor (:class:`streaming.processor.EventProcessor`, the class and run
  loop ``ytempire process events`` runs) in ``--processes`` child processes of
  one consumer group (the way to use more cores: each member takes its share of
  the partitions), uninterrupted, into a database of its own: the topics'
  messages a second from the first partition assignment to the last commit,
  the peak RSS, and the CPU seconds of the processors and of their PostgreSQL
  backends (which of the two the work waits on);
* the same processor into a second database, SIGKILLed once the database
  shows ``--kill-at`` of the handled events processed, then restarted with the
  same consumer group (as many processes) until it is idle. The check: every table of the
  ``ytempire`` schema (columns stamped with the wall clock left out) and
  every Redis key it wrote equal the uninterrupted run's; the side messages
  (notifications, alerts, dead letters) are the same set, repeats allowed
  (they are at least once by design, keyed by ``source_event_id``).

The child's side topics are the bench's own (the CLI's are the shared
``notifications``/``alerts``/``dead-letter``); everything the bench creates
(topics, consumer groups, the two ``<database>_procbench_{a,b}_test``
databases, Redis keys) is removed at the end. Exits 1 if the states differ.

    uv run python bench/processor.py [--events N] [--kill-at 0.5] [--max-poll-records N]
                                     [--processes N]
    uv run python bench/processor.py --smoke   # the first 3,000 events in polls of 500
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import date
from itertools import islice
from typing import IO, Any

from benchlib import Figures, add_smoke_flag, kafka_topics, peak_rss_mib
from kafka import TopicPartition

from simulation.network import Network
from simulation.seed import seed_channels
from simulation.traffic import network_events, tracked_since
from streaming.processor import POLL_RECORDS
from ytempire.clients import kafka_admin, kafka_consumer, kafka_producer, pg_connect, redis_client
from ytempire.db import drop_database, init_database
from ytempire.settings import Settings, get_settings
from ytempire.topics import CHANNEL_EVENTS, USER_EVENTS, VIDEO_EVENTS, consumer_group_lag

DEMO_LAST_DAY = date(2025, 1, 3)  # scripts/demo.sh: `ytempire simulate events --to 2025-01-03`
# Smoke: six polls of 500, the kill after the second: room for it to land in the middle.
SMOKE_EVENTS, SMOKE_KILL_AT, SMOKE_POLL_RECORDS = 3_000, 0.3, 500
WALL_CLOCK_DEFAULTS = ("now()", "clock_timestamp()", "current_timestamp", "transaction_timestamp")


@dataclass(frozen=True)
class Bench:
    """Names of what one run creates."""

    run: str
    base_database: str
    redis_base: str
    poll_records: int
    processes: int = 1

    @property
    def sources(self) -> dict[str, tuple[str, int]]:
        """topic kind -> (bench topic, partitions of the standard topic)."""
        return {
            "video": (f"bench-proc-video-{self.run}", VIDEO_EVENTS.partitions),
            "channel": (f"bench-proc-channel-{self.run}", CHANNEL_EVENTS.partitions),
            "user": (f"bench-proc-user-{self.run}", USER_EVENTS.partitions),
        }

    def side_topic(self, leg: str) -> str:
        return f"bench-proc-side-{leg}-{self.run}"

    def group(self, leg: str) -> str:
        return f"bench-proc-{leg}-{self.run}"

    def database(self, leg: str) -> str:
        return f"{self.base_database.removesuffix('_test')}_procbench_{leg}_test"

    def redis_prefix(self, leg: str) -> str:
        return f"{self.redis_base}bench-proc:{self.run}:{leg}:"


# --- the events -----------------------------------------------------------------------------


def demo_events(count: int | None) -> tuple[Network, list[tuple[str, str, bytes]]]:
    """The demo's platform stream, (topic kind, key, value) in order; the first ``count``."""
    network = Network()
    first = tracked_since(network, network.epoch)
    stream = network_events(network, first, DEMO_LAST_DAY)
    return network, [(kind, key, value) for kind, key, value, _ in islice(stream, count)]


def produce(bench: Bench, events: list[tuple[str, str, bytes]]) -> None:
    producer = kafka_producer(linger_ms=20)  # as `simulate events`
    for kind, key, value in events:
        producer.send(bench.sources[kind][0], key=key.encode(), value=value)
    producer.flush()
    producer.close()


def consume_only(topics: list[str], settings: Settings, poll_records: int) -> tuple[int, float]:
    """(messages, seconds) of one kafka-python consumer reading ``topics`` to their ends,
    ``poll_records`` at most a poll (as the processor)."""
    consumer = kafka_consumer(settings=settings, max_poll_records=poll_records)
    try:
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(partitions)
        count, started = 0, time.perf_counter()
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            count += sum(len(r) for r in consumer.poll(timeout_ms=1_000).values())
        return count, time.perf_counter() - started
    finally:
        consumer.close()


# --- the processor, in a child process ------------------------------------------------------


def run_processor(args: argparse.Namespace) -> None:
    """Child mode: the processor as `ytempire process events --idle-timeout` runs it; JSON out."""
    from streaming.processor import EventProcessor, Topics

    side = args.side_topic
    processor = EventProcessor(
        group_id=args.group,
        topics=Topics(sources=tuple(args.topic), notifications=side, alerts=side, dead_letter=side),
        redis_prefix=args.redis_prefix,
        settings=get_settings(),
        poll_records=args.max_poll_records,
    )
    marks: dict[str, float] = {}
    done = 0
    backend = processor.conn.info.backend_pid
    cpu_before = (process_cpu_s(os.getpid()), process_cpu_s(backend))

    def progress(_message: str) -> None:
        nonlocal done
        now = time.monotonic()
        marks.setdefault("assigned", now)  # the first call: the partition assignment
        total = sum(processor.counts.values())
        if total > done:
            done, marks["last"] = total, now

    try:
        counts = processor.run(idle_timeout_s=args.idle_timeout, progress=progress)
        client_cpu, server_cpu = (
            process_cpu_s(os.getpid()) - cpu_before[0],
            process_cpu_s(backend) - cpu_before[1],
        )
        lag = processor.lag()
    finally:
        processor.close()
    print(
        json.dumps(
            {
                "counts": dict(counts),
                # CLOCK_MONOTONIC: one clock for every process of the machine
                "assigned": marks.get("assigned"),
                "last": marks.get("last"),
                "lag": sum(lag.values()),
                "peak_mib": peak_rss_mib(),
                "client_cpu_s": client_cpu,
                "server_cpu_s": server_cpu,
            }
        )
    )


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` of this machine has used, from
    ``/proc/<pid>/stat``; the processor's PostgreSQL backend runs here too."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def processor_command(bench: Bench, leg: str, idle_timeout: float) -> list[str]:
    command = [sys.executable, __file__, "--run-processor", "--group", bench.group(leg)]
    command += ["--max-poll-records", str(bench.poll_records)]
    for topic, _ in bench.sources.values():
        command += ["--topic", topic]
    command += ["--side-topic", bench.side_topic(leg), "--redis-prefix", bench.redis_prefix(leg)]
    return [*command, "--idle-timeout", str(idle_timeout)]


def child_env(bench: Bench, leg: str) -> dict[str, str]:
    return {**os.environ, "YTEMPIRE_PG_DATABASE": bench.database(leg)}


@dataclass
class Child:
    """A processor process: stdout a pipe (one JSON line at the end), stderr a file (a pipe
    nobody reads could stall it)."""

    popen: subprocess.Popen[bytes]
    stderr: IO[bytes]

    def error_tail(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")[-3000:]


@contextmanager
def processors(bench: Bench, leg: str, idle_timeout: float) -> Iterator[list[Child]]:
    """``bench.processes`` processors in one consumer group, each in its own session; any
    still running when the block ends is SIGKILLed."""
    with ExitStack() as files:
        children = []
        for _ in range(bench.processes):
            stderr = files.enter_context(tempfile.TemporaryFile())
            popen = subprocess.Popen(
                processor_command(bench, leg, idle_timeout),
                env=child_env(bench, leg),
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
            children.append(Child(popen, stderr))
        try:
            yield children
        finally:
            for child in children:
                if child.popen.poll() is None:
                    os.killpg(child.popen.pid, signal.SIGKILL)
                child.popen.wait()
                if child.popen.stdout is not None:
                    child.popen.stdout.close()


def process(bench: Bench, settings: Settings, leg: str, idle_timeout: float) -> dict[str, Any]:
    """Run the processors until each is idle; return their summaries added up: counts and
    CPU summed, ``seconds`` from the first assignment to the last commit of any of them,
    ``peak_mib`` the largest, ``lag`` the group's, read once all have stopped."""
    summaries = []
    with processors(bench, leg, idle_timeout) as children:
        for child in children:
            out, _ = child.popen.communicate()
            if child.popen.returncode != 0:
                raise SystemExit(f"a processor ({leg}) failed:\n{child.error_tail()}")
            summaries.append(json.loads(out.decode().strip().splitlines()[-1]))
    assigned = [s["assigned"] for s in summaries if s["assigned"] is not None]
    last = [s["last"] for s in summaries if s["last"] is not None]
    counts: Counter[str] = Counter()
    for summary in summaries:
        counts.update(summary["counts"])
    topics = [t for t, _ in bench.sources.values()]
    return {
        "counts": dict(counts),
        "seconds": max(last) - min(assigned) if last and assigned else 0.0,
        "lag": sum(consumer_group_lag(bench.group(leg), topics, settings).values()),
        "peak_mib": max(s["peak_mib"] for s in summaries),
        "client_cpu_s": sum(s["client_cpu_s"] for s in summaries),
        "server_cpu_s": sum(s["server_cpu_s"] for s in summaries),
    }


def processed(settings: Settings, database: str) -> int:
    with pg_connect("loader", database, settings=settings) as conn:
        row = conn.execute("select count(*) from ytempire.processed_events").fetchone()
    return int(row[0]) if row else 0


def kill_in_the_middle(
    bench: Bench, settings: Settings, handled: int, kill_at: float
) -> tuple[int, float]:
    """Start the processors, SIGKILL every one once ``kill_at`` of ``handled`` events are in
    the database; return (events processed at the kill, seconds they ran)."""
    leg = "b"
    threshold = max(1, int(handled * kill_at))
    with processors(bench, leg, idle_timeout=5.0) as children:
        started = time.monotonic()
        with pg_connect("loader", bench.database(leg), autocommit=True, settings=settings) as db:
            while True:
                row = db.execute("select count(*) from ytempire.processed_events").fetchone()
                done = int(row[0]) if row else 0
                if done >= threshold or any(c.popen.poll() is not None for c in children):
                    break
                time.sleep(0.02)
        exited = [c for c in children if c.popen.poll() is not None]
        if exited:
            raise SystemExit(
                f"a processor exited before the kill ({done:,} of {handled:,} events "
                f"processed, exit {exited[0].popen.returncode}): nothing was checked. Give "
                f"it more --events (a kill needs several polls to land in).\n"
                + exited[0].error_tail()
            )
    # the block's end SIGKILLed every processor
    return processed(settings, bench.database(leg)), time.monotonic() - started


# --- the comparison -------------------------------------------------------------------------


def table_rows(settings: Settings, database: str) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every table of the ``ytempire`` schema as a multiset of rows, leaving out the columns
    whose default stamps the wall clock or counts (they differ between any two runs)."""
    out: dict[str, Counter[tuple[Any, ...]]] = {}
    with pg_connect("admin", database, settings=settings) as conn:
        columns = conn.execute(
            "select table_name, column_name, coalesce(column_default, ''), is_identity "
            "from information_schema.columns c join information_schema.tables t "
            "using (table_schema, table_name) "
            "where table_schema = 'ytempire' and t.table_type = 'BASE TABLE' "
            "order by table_name, ordinal_position"
        ).fetchall()
        kept: dict[str, list[str]] = {}
        for table, column, default, identity in columns:
            stamped = any(f in default.lower() for f in WALL_CLOCK_DEFAULTS)
            if not (stamped or "nextval(" in default or identity == "YES"):
                kept.setdefault(table, []).append(column)
        for table, names in kept.items():
            select = ", ".join(f'"{n}"' for n in names)
            rows = conn.execute(f'select {select} from ytempire."{table}"').fetchall()
            out[table] = Counter(tuple(r) for r in rows)
    return out


def redis_state(settings: Settings, prefix: str) -> dict[str, Any]:
    """Every key under ``prefix`` (without it) and its value (hashes as dicts)."""
    client = redis_client(settings=settings)
    state: dict[str, Any] = {}
    for key in client.scan_iter(f"{prefix}*"):
        name = key.decode() if isinstance(key, bytes) else key
        kind = client.type(key)
        kind = kind.decode() if isinstance(kind, bytes) else kind
        value: Any = client.hgetall(key) if kind == "hash" else client.dump(key)
        state[name.removeprefix(prefix)] = value
    return state


def side_messages(topic: str, settings: Settings) -> Counter[tuple[str, ...]]:
    """The side topic's messages, each by what identifies it: (type, source event) for a
    notification or alert, its headers (reason and source coordinates) for a dead letter."""
    consumer = kafka_consumer(settings=settings)
    found: Counter[tuple[str, ...]] = Counter()
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(partitions)
        while any(consumer.position(tp) < end[tp] for tp in partitions):
            for records in consumer.poll(timeout_ms=1_000).values():
                for record in records:
                    headers = {k: v.decode() for k, v in record.headers or ()}
                    if "reason" in headers:
                        found[("dead_letter", *sorted(f"{k}={v}" for k, v in headers.items()))] += 1
                    else:
                        message = json.loads(record.value)
                        found[(str(message.get("type")), str(message.get("source_event_id")))] += 1
    finally:
        consumer.close()
    return found


def compare(bench: Bench, settings: Settings) -> bool:
    """Print the comparison of the killed-and-restarted run with the uninterrupted one."""
    a, b = (table_rows(settings, bench.database(leg)) for leg in ("a", "b"))
    same = True
    print("state after kill -9 + restart vs the uninterrupted run:")
    for table in sorted(set(a) | set(b)):
        rows_a, rows_b = a.get(table, Counter()), b.get(table, Counter())
        equal = rows_a == rows_b
        same &= equal
        detail = (
            "equal"
            if equal
            else f"DIFFER: {sum((rows_a - rows_b).values()):,} rows only in the uninterrupted "
            f"run, {sum((rows_b - rows_a).values()):,} only in the restarted one"
        )
        print(f"  ytempire.{table:<22} {sum(rows_a.values()):>8,} rows  {detail}")
    redis_a, redis_b = (redis_state(settings, bench.redis_prefix(leg)) for leg in ("a", "b"))
    equal = redis_a == redis_b
    same &= equal
    print(f"  Redis keys               {len(redis_a):>8,} keys  {'equal' if equal else 'DIFFER'}")
    side_a, side_b = (side_messages(bench.side_topic(leg), settings) for leg in ("a", "b"))
    equal = set(side_a) == set(side_b) and all(n == 1 for n in side_a.values())
    same &= equal
    repeats = sum(side_b.values()) - len(side_b)
    print(
        f"  side messages            {len(side_a):>8,} msgs  "
        + ("the same set" if equal else "DIFFER")
        + f" (the restarted run repeated {repeats:,}: at least once, by design)"
    )
    return same


# --- setup and teardown ---------------------------------------------------------------------


@contextmanager
def bench_resources(bench: Bench, settings: Settings, network: Network) -> Iterator[None]:
    """The topics and the two databases (with the network's channels), removed afterwards."""
    topics = dict(bench.sources.values()) | {bench.side_topic(leg): 1 for leg in ("a", "b")}
    with kafka_topics(topics, settings):
        admin = kafka_admin(settings=settings)
        try:
            for leg in ("a", "b"):
                name = bench.database(leg)
                drop_database(name, settings=settings)
                init_database(name, settings=settings)
                seed_channels(network, settings=replace(settings, pg_database=name))
            yield
        finally:
            groups = {bench.group("a"), bench.group("b")}
            admin.delete_groups(
                [g["group_id"] for g in admin.list_groups() if g["group_id"] in groups]
            )
            admin.close()
            client = redis_client(settings=settings)
            for leg in ("a", "b"):
                for key in client.scan_iter(f"{bench.redis_prefix(leg)}*"):
                    client.delete(key)
                drop_database(bench.database(leg), settings=settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=None, help="default: all the demo's")
    parser.add_argument(
        "--kill-at", type=float, default=0.5, help="share of handled events before the kill"
    )
    parser.add_argument(
        "--max-poll-records",
        type=int,
        default=POLL_RECORDS,
        help="records a poll applies at most (default: the processor's, %(default)s)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="processors in the consumer group (default %(default)s; the machine's cores "
        "are the useful bound)",
    )
    add_smoke_flag(parser)
    # child mode (the processor itself)
    parser.add_argument("--run-processor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--group", help=argparse.SUPPRESS)
    parser.add_argument("--topic", action="append", help=argparse.SUPPRESS)
    parser.add_argument("--side-topic", help=argparse.SUPPRESS)
    parser.add_argument("--redis-prefix", help=argparse.SUPPRESS)
    parser.add_argument("--idle-timeout", type=float, default=2.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_processor:
        run_processor(args)
        return
    if args.smoke:
        args.events, args.kill_at = SMOKE_EVENTS, SMOKE_KILL_AT
        args.max_poll_records = SMOKE_POLL_RECORDS
    if not 0 < args.kill_at < 1:
        parser.error("--kill-at is a share of the events: between 0 and 1")

    figures = Figures("processor", smoke=args.smoke)
    settings = get_settings()
    if args.processes < 1:
        parser.error("--processes: at least 1")
    bench = Bench(
        uuid.uuid4().hex[:8],
        settings.pg_database,
        settings.redis_key_prefix,
        args.max_poll_records,
        args.processes,
    )
    network, events = demo_events(args.events)
    kinds = Counter(kind for kind, _, _ in events)
    print(
        f"demo events: {len(events):,} ({', '.join(f'{k} {n:,}' for k, n in kinds.items())}), "
        f"polls of at most {args.max_poll_records:,}, {args.processes} processor(s), "
        f"databases {bench.database('a')} and {bench.database('b')}",
        flush=True,
    )
    with bench_resources(bench, settings, network):
        produce(bench, events)
        topics = [t for t, _ in bench.sources.values()]
        consumed, consume_s = consume_only(topics, settings, args.max_poll_records)
        print(f"ceiling: kafka-python consume-only: {consumed:,} messages in {consume_s:.2f} s")

        print("processor, uninterrupted ...", flush=True)
        whole = process(bench, settings, "a", idle_timeout=2.0)
        # every message once, however often a rebalance between processors replayed one
        total = len(events)
        rate = total / whole["seconds"] if whole["seconds"] else 0.0
        replayed = whole["counts"].get("replayed", 0)
        print(
            f"  {total:,} events in {whole['seconds']:.2f} s ({rate:,.0f}/s; {replayed:,} "
            f"replayed after a rebalance), lag left "
            f"{whole['lag']:,}, peak RSS {whole['peak_mib']:,.0f} MiB; {whole['counts']}"
        )
        client, server = whole["client_cpu_s"], whole["server_cpu_s"]
        print(
            f"  CPU over the run: the processor {client:.1f} s, its PostgreSQL backend "
            f"{server:.1f} s ({client / max(client + server, 1e-9):.0%} client), "
            f"{(client + server) / max(total, 1) * 1e6:,.0f} us an event"
        )
        handled = processed(settings, bench.database("a"))

        print(f"processor, SIGKILLed at {args.kill_at:.0%} of {handled:,} then restarted ...")
        at_kill, ran_s = kill_in_the_middle(bench, settings, handled, args.kill_at)
        print(f"  killed after {ran_s:.1f} s with {at_kill:,} of {handled:,} events processed")
        restart = process(bench, settings, "b", idle_timeout=2.0)
        print(
            f"  the restart: {sum(restart['counts'].values()):,} events "
            f"({restart['counts'].get('replayed', 0):,} replayed), lag left {restart['lag']:,}"
        )
        ok = 0 < at_kill < handled and whole["lag"] == 0 and restart["lag"] == 0
        ok &= compare(bench, settings)

    name = "processor events/s" + (f", {args.processes} processes" if args.processes > 1 else "")
    figures.add(name, rate, "ev/s", "kafka-python consume-only", consumed / consume_s)
    figures.print()
    print("outcome: " + ("kill -9 + restart ends as the uninterrupted run" if ok else "MISMATCH"))
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
