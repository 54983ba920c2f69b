"""The windows job's pane aggregation, in the Python worker that reads the contract.

:func:`streaming.windows.pane_stats` aggregates parsed events per (pane,
channel, video) in Spark: each message's fields cross from the Python worker
(where the contract UDF reads them) back into the JVM as a row, and the JVM
hashes every row. Here the same aggregation runs where the fields are read:
``mapInArrow`` hands each Spark partition's Kafka values to :func:`pane_batches`,
which reads them with the contract (:func:`streaming.contract.read_values`)
and aggregates them with Arrow's own group-by, so only pane rows (a few per
channel and video, not one per message) go back to the JVM. There is no
shuffle: a key held by two partitions gives two rows, which the sink's SQL
combines as it expands them into windows (sums added, bounds widened).

Same result as ``pane_stats`` (the rules are its docstring's); the stream's
windows are checked against ``pane_stats`` and ``window_stats`` recomputed in
Spark by ``bench/streaming_windows.py`` and against a plain-Python computation
by ``tests/streaming/test_streaming_job.py``. Issue 26 measured why: the JVM's
share of the per-message work (the fields back into rows, the hash
aggregation) was about half of a batch's CPU.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from streaming.contract import read_values
from streaming.schema import COUNTED_EVENT_TYPES
from streaming.windows import NO_VIDEO

MONEY_PLACES = Decimal("0.000001")  # decimal(20, 6): streaming.schema.MONEY
TYPE_COUNTS = [f"{t}_count" for t in COUNTED_EVENT_TYPES] + ["other_event_count"]
# One row per (pane, channel, video) of one Spark partition: the columns of pane_stats.
PANE_SCHEMA = T.StructType(
    [
        T.StructField("pane_start", T.TimestampType()),
        T.StructField("channel_id", T.StringType()),
        T.StructField("video_id", T.StringType()),
        T.StructField("event_count", T.LongType()),
        *[T.StructField(c, T.LongType()) for c in TYPE_COUNTS],
        T.StructField("views_sum", T.LongType()),
        T.StructField("views_reports", T.LongType()),
        T.StructField("revenue_max_usd", T.DecimalType(20, 6)),
        T.StructField("revenue_min_usd", T.DecimalType(20, 6)),
        T.StructField("first_event_at", T.TimestampType()),
        T.StructField("last_event_at", T.TimestampType()),
    ]
)
_TIMESTAMP = pa.timestamp("us", tz="UTC")
_MONEY = pa.decimal128(20, 6)


def partition_panes(values: DataFrame, pane_s: int) -> DataFrame:
    """A DataFrame of Kafka ``value`` (binary) -> its pane rows (:data:`PANE_SCHEMA`), one
    per (pane, channel, video) of each Spark partition (a key held by several partitions
    repeats: combine by adding the counts and sums and widening the bounds)."""

    def aggregate(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        return pane_batches(batches, pane_s)

    return values.select("value").mapInArrow(aggregate, PANE_SCHEMA)


def pane_batches(batches: Iterator[pa.RecordBatch], pane_s: int) -> Iterator[pa.RecordBatch]:
    """Record batches of Kafka values (column ``value``, binary) -> their pane rows, as one
    record batch of :data:`PANE_SCHEMA` (none for no values)."""
    fields = [read_values(batch.column("value")) for batch in batches if batch.num_rows]
    if fields:
        yield pane_rows(pa.chunked_array(fields).combine_chunks(), pane_s)


def pane_rows(fields: pa.StructArray, pane_s: int) -> pa.RecordBatch:
    """The contract's fields of some messages (:data:`streaming.contract.EVENT_FIELDS`) ->
    one row per (pane, channel, video), as :func:`streaming.windows.pane_stats` gives:
    invalid messages (no event type, channel or time) in rows with a null ``pane_start``,
    counted in ``event_count`` only."""
    event_type = fields.field("event_type")
    micros = fields.field("occurred_at_us")
    valid = pc.and_(
        pc.and_(pc.is_valid(event_type), pc.is_valid(fields.field("channel_id"))),
        pc.is_valid(micros),
    )
    valid_micros = pc.if_else(valid, micros, pa.scalar(None, pa.int64()))
    metrics = pc.fill_null(pc.equal(event_type, "metrics_update"), False)
    other = pc.and_(
        pc.is_valid(event_type),
        pc.invert(pc.is_in(event_type, pa.array(COUNTED_EVENT_TYPES))),
    )
    columns = {
        "pane_start": _floor(valid_micros, pane_s * 1_000_000),
        "channel_id": fields.field("channel_id"),
        "video_id": pc.fill_null(fields.field("video_id"), NO_VIDEO),
        "one": pa.array([1] * len(fields), pa.int64()),
        **{
            f"{t}_count": _ones(pc.fill_null(pc.equal(event_type, t), False))
            for t in COUNTED_EVENT_TYPES
        },
        "other_event_count": _ones(other),
        "views": pc.if_else(metrics, fields.field("views"), pa.scalar(None, pa.int64())),
        # the float the message carried (its shortest text parses back to it exactly)
        "revenue": pc.if_else(
            metrics,
            pc.cast(fields.field("revenue_usd"), pa.float64()),
            pa.scalar(None, pa.float64()),
        ),
        "micros": valid_micros,
    }
    grouped = (
        pa.table(columns)
        .group_by(["pane_start", "channel_id", "video_id"], use_threads=False)
        .aggregate(
            [
                ("one", "sum"),
                *[(c, "sum") for c in TYPE_COUNTS],
                ("views", "sum"),
                ("views", "count"),
                ("revenue", "max"),
                ("revenue", "min"),
                ("micros", "min"),
                ("micros", "max"),
            ]
        )
    )
    return pa.RecordBatch.from_arrays(
        [
            grouped["pane_start"].cast(_TIMESTAMP).combine_chunks(),
            grouped["channel_id"].combine_chunks(),
            grouped["video_id"].combine_chunks(),
            grouped["one_sum"].combine_chunks(),
            *[grouped[f"{c}_sum"].combine_chunks() for c in TYPE_COUNTS],
            pc.fill_null(grouped["views_sum"], 0).combine_chunks(),
            grouped["views_count"].combine_chunks(),
            _money(grouped["revenue_max"]),
            _money(grouped["revenue_min"]),
            grouped["micros_min"].cast(_TIMESTAMP).combine_chunks(),
            grouped["micros_max"].cast(_TIMESTAMP).combine_chunks(),
        ],
        schema=pa.schema([pa.field(f.name, _arrow_type(f.dataType)) for f in PANE_SCHEMA.fields]),
    )


def _arrow_type(spark_type: T.DataType) -> pa.DataType:
    if isinstance(spark_type, T.TimestampType):
        return _TIMESTAMP
    if isinstance(spark_type, T.DecimalType):
        return _MONEY
    if isinstance(spark_type, T.StringType):
        return pa.string()
    return pa.int64()


def _ones(flags: pa.Array) -> pa.Array:
    return pc.cast(flags, pa.int64())


def _floor(micros: pa.Array, step: int) -> pa.Array:
    """``micros`` rounded down to a multiple of ``step`` (exact integers; nulls stay null)."""
    truncated = pc.multiply(pc.divide(micros, step), step)  # integer division rounds to zero
    return pc.if_else(pc.greater(truncated, micros), pc.subtract(truncated, step), truncated)


def _money(revenue: pa.ChunkedArray) -> pa.Array:
    """Floats -> decimal(20, 6) as Spark casts their text: rounded half up. (Rounding is
    monotone, so the rounded maximum is the maximum of the rounded values.)"""
    return pa.array(
        [
            None if r is None else Decimal(repr(r)).quantize(MONEY_PLACES, ROUND_HALF_UP)
            for r in revenue.to_pylist()
        ],
        _MONEY,
    )
