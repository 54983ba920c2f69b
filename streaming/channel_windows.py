"""The channel-windows job: Kafka event topics -> sliding windows per channel -> PostgreSQL.

One query, ``channel_windows``, with its checkpoint: the Kafka records of
each micro-batch go to :class:`~streaming.sink.WindowSink`, which parses them
once, aggregates them per (window, channel, video) against the watermark and
merges the result into PostgreSQL, where the windows' state lives, so an open
window shows within one trigger and converges to its final value; in the same
transaction it counts the events the batch found late and records how far
the query got (the module docstring of :mod:`streaming.sink`).

Run continuously (``ytempire stream windows``) or as a bounded catch-up
(``--available-now``: everything in the topics now, then stop); both resume
from the checkpoints. The command line
(its options, SIGTERM handling, the stage record) is ``ytempire_cli.stream``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from streaming.config import WINDOWS_QUERY, StreamConfig
from streaming.sink import SINK_TABLES, WindowSink
from ytempire.clients import kafka_admin, pg_connect, spark_session
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings, get_settings

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.streaming import DataStreamWriter, StreamingQuery

log = logging.getLogger(__name__)

AWAIT_S = 1  # longest wait on the queries between two looks at the stop event
KAFKA_FETCH_BYTES = 16 * 1024 * 1024
KAFKA_POLL_RECORDS = 20_000


def kafka_rows(spark: SparkSession, config: StreamConfig, settings: Settings) -> DataFrame:
    """The event topics as a streaming DataFrame of Kafka records."""
    reader = (
        spark.readStream.format("kafka")
        .option("kafka.bootstrap.servers", settings.kafka_bootstrap)
        .option("subscribe", ",".join(config.topic_list))
        .option("startingOffsets", config.starting_offsets)
        # A topic recreated or truncated under a checkpoint fails the query loudly.
        .option("failOnDataLoss", "true")
        # Reading Kafka is most of a batch's work: fetch in fewer, larger round trips
        # than the consumer defaults (1 MiB per partition, 500 records per poll).
        .option("kafka.max.partition.fetch.bytes", str(KAFKA_FETCH_BYTES))
        .option("kafka.max.poll.records", str(KAFKA_POLL_RECORDS))
    )
    if config.max_offsets:
        reader = reader.option("maxOffsetsPerTrigger", str(config.max_offsets))
    return reader.load()


def _writer(frame: DataFrame, name: str, config: StreamConfig, available_now: bool) -> Any:
    writer: DataStreamWriter = frame.writeStream.queryName(config.query_name(name)).option(
        "checkpointLocation", config.checkpoint(name)
    )
    if available_now:
        return writer.trigger(availableNow=True)
    return writer.trigger(processingTime=config.trigger)


def start_queries(
    spark: SparkSession,
    config: StreamConfig,
    settings: Settings,
    *,
    available_now: bool = False,
) -> list[StreamingQuery]:
    """Start the window query (its sink parses, aggregates, merges and counts late events);
    return it running."""
    window_sink = WindowSink(
        config.query_name(WINDOWS_QUERY),
        settings,
        Path(config.checkpoint(WINDOWS_QUERY)),
        config.window_seconds,
        config.slide_seconds,
        config.watermark_seconds,
    )
    return [
        _writer(kafka_rows(spark, config, settings), WINDOWS_QUERY, config, available_now)
        .foreachBatch(window_sink)
        .start(),
    ]


def preflight(config: StreamConfig, settings: Settings) -> None:
    """Fail before starting Spark if a service, a topic or a sink table is missing."""
    with pg_connect("loader", settings=settings) as conn:
        for table in SINK_TABLES:
            found = conn.execute("select to_regclass(%s)", (table,)).fetchone()
            if not found or found[0] is None:
                raise YTEmpireError(
                    f"sink table {table} is missing in database {settings.pg_database}. "
                    "Next: run `ytempire db init` (applies sql/50_streaming.sql)."
                )
    admin = kafka_admin(settings=settings)
    try:
        existing = set(admin.list_topics())
    finally:
        admin.close()
    missing = [t for t in config.topic_list if t not in existing]
    if missing:
        raise YTEmpireError(
            f"Kafka topic(s) {', '.join(missing)} do not exist at {settings.kafka_bootstrap}. "
            "Next: run `ytempire topics create`, or pass --topics."
        )


@dataclass
class RunResult:
    batches: int
    input_rows: int


def run(
    config: StreamConfig,
    *,
    available_now: bool,
    settings: Settings | None = None,
    spark: SparkSession | None = None,
    stop: threading.Event | None = None,
) -> RunResult:
    """Run both queries until they finish (available-now) or one stops or fails.

    Setting ``stop`` (the SIGTERM handler of `ytempire stream windows` does)
    stops both queries between two waits of at most a second and raises
    ``KeyboardInterrupt``: no exception is thrown into a call to the JVM,
    so the queries stop cleanly and the next run resumes from their checkpoints.
    """
    from pyspark.errors import StreamingQueryException

    s = settings or get_settings()
    preflight(config, s)
    spark = spark or spark_session(
        "ytempire-channel-windows", settings=s, **{"spark.ui.showConsoleProgress": "false"}
    )
    queries = start_queries(spark, config, s, available_now=available_now)
    log.info(
        "started %s (%s), checkpoints under %s",
        ", ".join(q.name for q in queries),
        "available now" if available_now else f"trigger every {config.trigger}",
        config.checkpoint_root,
    )
    stop = stop or threading.Event()
    try:
        if available_now:
            for query in queries:
                while not stop.is_set() and not query.awaitTermination(AWAIT_S):
                    pass
        else:
            while not stop.is_set() and not spark.streams.awaitAnyTermination(AWAIT_S):
                pass
    except StreamingQueryException as exc:
        raise YTEmpireError(
            f"streaming query failed: {exc.getErrorClass() or ''} {str(exc)[:2000]}. "
            "Next: fix the cause; the rerun resumes from the checkpoint without duplicates."
        ) from exc
    finally:
        for query in queries:
            if query.isActive:
                query.stop()
    if stop.is_set():
        raise KeyboardInterrupt
    progress = [p for p in queries[0].recentProgress]
    return RunResult(
        batches=len(progress), input_rows=sum(int(p["numInputRows"]) for p in progress)
    )
