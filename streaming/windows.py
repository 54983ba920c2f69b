"""Pure DataFrame -> DataFrame transforms of the channel-windows job.

Nothing here reads or writes a service, so each step is tested on static
DataFrames. They define the windows: Kafka rows -> :func:`parse_events` ->
:func:`pane_stats` (one aggregation per (pane, channel, video)) ->
:func:`window_stats` with a watermark, and, on the same pane rows,
:func:`pane_late_report` against it; :func:`video_window_stats` and
:func:`late_report` chain them. The job's sink computes the same panes in
its Python workers (:mod:`streaming.panes`) and expands them in PostgreSQL
(:mod:`streaming.sink`); the bench's batch recompute and the tests run these
transforms in Spark and compare.

A message counts only if the event contract accepts it (:mod:`streaming.contract`
calls the landing's and the processor's own :func:`ytempire.events.parse_event`):
the fields of a message it refuses are null, so :func:`is_valid` keeps it out of
the windows and the late report counts it as invalid.

Cumulative counters. A ``metrics_update`` carries the lifetime ``views`` and
``revenue_usd`` of one video as of ``occurred_at``, so summing them over a
window would count a video once per report. The stats are therefore kept per
(window, channel, video): the views reports (sum and count, for the mean of
reported views that the reference design shows as "avg views") and the
highest and lowest reported revenue (counters only grow, so these are the
latest and earliest). The sink rolls videos up to channels: revenue is the
sum over videos of their latest report, and revenue gained the sum of
(latest - earliest) within the window.
"""

from __future__ import annotations

import math
from datetime import datetime

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streaming.config import duration_seconds
from streaming.contract import event_fields
from streaming.schema import COUNTED_EVENT_TYPES, MONEY

NO_VIDEO = ""  # video_id of channel-level events in the per-video stats


def _read(kafka_rows: DataFrame, *columns: str) -> DataFrame:
    """``columns`` of each Kafka row and the contract's reading of its value (``event.*``:
    :data:`streaming.contract.EVENT_FIELDS`, null where the contract refuses it)."""
    return kafka_rows.select(*columns, event_fields(F.col("value")).alias("event"))


def _occurred_at() -> Column:
    return F.timestamp_micros(F.col("event.occurred_at_us"))


def parse_events(kafka_rows: DataFrame) -> DataFrame:
    """Kafka source rows -> one row per message with the fields the windows use (null if the
    contract refuses it)."""
    return _read(kafka_rows, "topic", "partition", "offset", "timestamp").select(
        "topic",
        "partition",
        "offset",
        F.col("timestamp").alias("kafka_timestamp"),
        F.col("event.event_type").alias("event_type"),
        _occurred_at().alias("occurred_at"),
        F.col("event.channel_id").alias("channel_id"),
        F.col("event.video_id").alias("video_id"),
        F.col("event.views").alias("views"),
        F.col("event.revenue_usd").cast(MONEY).alias("revenue_usd"),
    )


def is_valid() -> Column:
    """Rows a window can hold: an event type, a channel and a parseable time."""
    return (
        F.col("event_type").isNotNull()
        & F.col("channel_id").isNotNull()
        & F.col("occurred_at").isNotNull()
    )


def valid_events(events: DataFrame) -> DataFrame:
    return events.where(is_valid())


def _count_type(event_type: str) -> Column:
    return F.count_if(F.col("event_type") == event_type).alias(f"{event_type}_count")


def _metrics(column: str) -> Column:
    return F.when(F.col("event_type") == "metrics_update", F.col(column))


# the per-window columns that add up over events (and over panes, and batches)
ADDED = [
    "event_count",
    *(f"{t}_count" for t in COUNTED_EVENT_TYPES),
    "other_event_count",
    "views_sum",
    "views_reports",
]


def pane_seconds(window_s: int, slide_s: int) -> int:
    """Length of a pane in seconds: the gcd of window and slide, so that all the events of one
    pane belong to the same windows."""
    return math.gcd(window_s, slide_s)


def pane_stats(events: DataFrame, pane_s: int) -> DataFrame:
    """Parsed events, valid or not -> one row per (pane, channel, video): the per-window
    columns of :func:`window_stats` plus ``first_event_at``.

    A batch is aggregated once, per pane (``pane_s`` seconds, aligned to the
    epoch; :func:`pane_seconds`); its far fewer pane rows are then expanded
    into their windows (:func:`window_stats`) and rolled up per channel for the
    late report (:func:`pane_late_report`), instead of expanding every event
    into every window. Rows :func:`is_valid` refuses fall in a pane row with a
    null ``pane_start`` (their times null), counted in ``event_count`` only.
    """
    valid = is_valid()
    other = ~F.col("event_type").isin(*COUNTED_EVENT_TYPES)
    occurred_at = F.when(valid, F.col("occurred_at"))
    return events.groupBy(
        F.when(valid, _floor_to(F.col("occurred_at"), pane_s)).alias("pane_start"),
        F.col("channel_id"),
        F.coalesce(F.col("video_id"), F.lit(NO_VIDEO)).alias("video_id"),
    ).agg(
        F.count(F.lit(1)).alias("event_count"),
        *[_count_type(t) for t in COUNTED_EVENT_TYPES],
        F.count_if(other).alias("other_event_count"),
        F.coalesce(F.sum(_metrics("views")), F.lit(0)).alias("views_sum"),
        F.count(_metrics("views")).alias("views_reports"),
        F.max(_metrics("revenue_usd")).alias("revenue_max_usd"),
        F.min(_metrics("revenue_usd")).alias("revenue_min_usd"),
        F.min(occurred_at).alias("first_event_at"),
        F.max(occurred_at).alias("last_event_at"),
    )


def window_stats(
    panes: DataFrame, window: str, slide: str, watermark: datetime | None = None
) -> DataFrame:
    """Pane rows (:func:`pane_stats`) -> one row per (window, channel, video) with counts,
    views and revenue.

    Windows are ``window`` long and start every ``slide`` (aligned to the
    epoch); an event at ``t`` belongs to every window with start <= t < end.
    With a ``watermark``, a window that ended at or before it takes no more
    events (Spark's rule for a watermarked window aggregation): an event
    counts in its windows still open, and in none if all have closed
    (:func:`pane_late_report` counts those).

    The counts, sums and bounds combine across micro-batches (add the counts
    and sums, take the greater maximum and the lesser minimum): the sink
    merges each batch's rows into the ones in PostgreSQL.
    """
    windowed = panes.where(F.col("pane_start").isNotNull()).withColumn(
        "window", F.window("pane_start", window, slide)
    )
    if watermark is not None:
        windowed = windowed.where(F.unix_micros(F.col("window.end")) > _micros(watermark))
    return (
        windowed.groupBy("window", "channel_id", "video_id")
        .agg(
            *[F.sum(c).alias(c) for c in ADDED],
            F.max("revenue_max_usd").alias("revenue_max_usd"),
            F.min("revenue_min_usd").alias("revenue_min_usd"),
            F.max("last_event_at").alias("last_event_at"),
        )
        .select(
            F.col("window.start").alias("window_start"),
            F.col("window.end").alias("window_end"),
            "*",
        )
        .drop("window")
    )


def video_window_stats(
    events: DataFrame, window: str, slide: str, watermark: datetime | None = None
) -> DataFrame:
    """Valid events -> their windows' rows: :func:`window_stats` of :func:`pane_stats`."""
    pane_s = pane_seconds(duration_seconds(window), duration_seconds(slide))
    return window_stats(pane_stats(events, pane_s), window, slide, watermark)


def _floor_to(moment: Column, step_s: int) -> Column:
    """``moment`` rounded down to a multiple of ``step_s`` seconds since the epoch, in exact
    integer microseconds (``F.window`` would also drop rows whose time is null)."""
    micros = F.unix_micros(moment)
    return F.timestamp_micros(micros - F.pmod(micros, F.lit(step_s * 1_000_000)))


def latest_window_start(moment: Column, slide_s: int) -> Column:
    """Start of the latest window (``slide_s`` apart, aligned to the epoch) that contains
    ``moment``: ``moment`` rounded down to a multiple of the slide."""
    return _floor_to(moment, slide_s)


def last_window_end(occurred_at: Column, window_s: int, slide_s: int) -> Column:
    """End (epoch microseconds) of the latest window that contains ``occurred_at``."""
    return F.unix_micros(_floor_to(occurred_at, slide_s)) + F.lit(window_s * 1_000_000)


def _micros(moment: datetime) -> Column:
    return F.unix_micros(F.lit(moment).cast("timestamp"))


def pane_late_report(
    panes: DataFrame, watermark: datetime | None, window_s: int, slide_s: int
) -> DataFrame:
    """Pane rows of one batch (:func:`pane_stats`) -> one row per channel (null: rows without
    one): rows read, invalid rows, latest valid event time, and the late events' count and
    time range against ``watermark``.

    An event is late when every window holding it has ended at or before
    ``watermark`` (the windows drop it); one whose older windows closed but
    whose latest is still open is not late: it counts in the open ones, as
    Spark does. All events of a pane share their latest window, so a pane is
    late or not as a whole. The latest time is taken over valid events only,
    as a watermark is: invalid rows never reach the windows.
    """
    valid = F.col("pane_start").isNotNull()
    late = (
        F.lit(False)
        if watermark is None
        else valid & (last_window_end(F.col("pane_start"), window_s, slide_s) <= _micros(watermark))
    )
    return panes.groupBy("channel_id").agg(
        F.sum("event_count").alias("input_rows"),
        F.coalesce(F.sum(F.when(~valid, F.col("event_count"))), F.lit(0)).alias("invalid_rows"),
        F.max("last_event_at").alias("max_event_at"),
        F.coalesce(F.sum(F.when(late, F.col("event_count"))), F.lit(0)).alias("late_count"),
        F.min(F.when(late, F.col("first_event_at"))).alias("oldest_event_at"),
        F.max(F.when(late, F.col("last_event_at"))).alias("newest_event_at"),
    )


def late_report(
    events: DataFrame, watermark: datetime | None, window_s: int, slide_s: int
) -> DataFrame:
    """Parsed events of one batch -> :func:`pane_late_report` of their panes."""
    return pane_late_report(
        pane_stats(events, pane_seconds(window_s, slide_s)), watermark, window_s, slide_s
    )
