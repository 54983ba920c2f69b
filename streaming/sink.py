"""PostgreSQL sinks of the channel-windows job, called by ``foreachBatch``.

Both sinks are idempotent: a micro-batch replayed after a crash (Spark
re-runs the last batch whose commit it did not record, with the same offsets
and the same state) writes the same rows over the ones it wrote before, all
in one transaction per batch. Nothing is appended.

* :class:`WindowSink` upserts the changed (window, channel, video) rows, then
  recomputes from them the channel rows of every window the batch touched.
* :class:`LateEvents` (called by the window sink, in its transaction) counts,
  per batch and channel, the events the batch dropped because all their
  windows had closed, judged by the batch's own watermark, and records the
  batch's counts and watermark in ``streaming.stream_batches``.
"""

from __future__ import annotations

import io
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.csv as pa_csv
from psycopg import sql
from pyspark.sql import DataFrame

from streaming.checkpoints import PlannedBatch, planned_batch
from streaming.schema import COUNTED_EVENT_TYPES
from streaming.windows import late_report
from ytempire.clients import pg_connect
from ytempire.settings import Settings

log = logging.getLogger(__name__)

TYPE_COUNT_COLUMNS = [f"{t}_count" for t in COUNTED_EVENT_TYPES] + ["other_event_count"]
KEY_COLUMNS = ["window_start", "window_end", "channel_id", "video_id"]
# The per-video rows, in the order the job selects and COPY loads them.
VIDEO_COLUMNS = [
    *KEY_COLUMNS,
    "event_count",
    *TYPE_COUNT_COLUMNS,
    "views_sum",
    "views_reports",
    "revenue_max_usd",
    "revenue_min_usd",
    "last_event_at",
]
VIDEO_TABLE = sql.Identifier("streaming", "channel_video_window_stats")

_UPSERT_VIDEOS = sql.SQL(
    "insert into {table} ({columns}, batch_id, processed_at) "
    "select {columns}, %(batch_id)s, clock_timestamp() from batch_rows "
    "on conflict ({keys}) do update set {updates}, "
    "batch_id = excluded.batch_id, processed_at = excluded.processed_at"
).format(
    table=VIDEO_TABLE,
    columns=sql.SQL(", ").join(map(sql.Identifier, VIDEO_COLUMNS)),
    keys=sql.SQL(", ").join(map(sql.Identifier, KEY_COLUMNS)),
    updates=sql.SQL(", ").join(
        sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c))
        for c in VIDEO_COLUMNS
        if c not in KEY_COLUMNS
    ),
)

# Channel rows of the windows this batch touched, recomputed from all their videos.
_ROLLUP_CHANNELS = sql.SQL(
    """
    insert into streaming.channel_window_stats as target (
        window_start, window_end, channel_id, event_count, video_count, {type_counts},
        avg_views, revenue_usd, revenue_gain_usd, last_event_at, batch_id, processed_at
    )
    select
        videos.window_start,
        videos.window_end,
        videos.channel_id,
        sum(videos.event_count),
        count(*) filter (where videos.video_id <> ''),
        {type_sums},
        round(sum(videos.views_sum)::numeric / nullif(sum(videos.views_reports), 0), 4),
        coalesce(sum(videos.revenue_max_usd), 0),
        coalesce(sum(videos.revenue_max_usd - videos.revenue_min_usd), 0),
        max(videos.last_event_at),
        %(batch_id)s,
        clock_timestamp()
    from streaming.channel_video_window_stats as videos
    where (videos.window_start, videos.window_end, videos.channel_id) in (
        select distinct window_start, window_end, channel_id from batch_rows
    )
    group by videos.window_start, videos.window_end, videos.channel_id
    on conflict (window_start, window_end, channel_id) do update set
        event_count = excluded.event_count,
        video_count = excluded.video_count,
        {type_updates},
        avg_views = excluded.avg_views,
        revenue_usd = excluded.revenue_usd,
        revenue_gain_usd = excluded.revenue_gain_usd,
        last_event_at = excluded.last_event_at,
        batch_id = excluded.batch_id,
        processed_at = excluded.processed_at
    """
).format(
    type_counts=sql.SQL(", ").join(map(sql.Identifier, TYPE_COUNT_COLUMNS)),
    type_sums=sql.SQL(", ").join(
        sql.SQL("sum(videos.{c})").format(c=sql.Identifier(c)) for c in TYPE_COUNT_COLUMNS
    ),
    type_updates=sql.SQL(", ").join(
        sql.SQL("{c} = excluded.{c}").format(c=sql.Identifier(c)) for c in TYPE_COUNT_COLUMNS
    ),
)

_RECORD_BATCH = """
    insert into streaming.stream_batches as target (
        query_name, batch_id, input_rows, invalid_rows, late_rows, output_rows,
        max_event_at, watermark, processed_at
    )
    values (
        %(query_name)s, %(batch_id)s, %(input_rows)s, %(invalid_rows)s, %(late_rows)s,
        %(output_rows)s, %(max_event_at)s, %(watermark)s, clock_timestamp()
    )
    on conflict (query_name, batch_id) do update set
        input_rows = excluded.input_rows,
        invalid_rows = excluded.invalid_rows,
        late_rows = excluded.late_rows,
        output_rows = excluded.output_rows,
        max_event_at = excluded.max_event_at,
        watermark = excluded.watermark,
        processed_at = excluded.processed_at
"""


def _record_batch(cur: Any, query_name: str, batch_id: int, **values: Any) -> None:
    row = dict.fromkeys(
        ("input_rows", "invalid_rows", "late_rows", "output_rows", "max_event_at", "watermark")
    )
    row.update(values, query_name=query_name, batch_id=batch_id)
    cur.execute(_RECORD_BATCH, row)


@dataclass
class WindowSink:
    """foreachBatch function: upsert the per-video window rows, roll up channels, and count
    the batch's late events (:class:`LateEvents`), in one transaction."""

    query_name: str
    settings: Settings
    late: LateEvents | None = None

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        clock = _PhaseClock()
        rows = batch.select(*VIDEO_COLUMNS).toArrow()
        clock.lap("collect")
        late_rows: list[dict[str, Any]] = []
        summary: dict[str, Any] = {}
        if self.late is not None:
            late_rows, summary = self.late.report(batch.sparkSession, batch_id)
            clock.lap("late")
        buffer = io.BytesIO()
        pa_csv.write_csv(rows, buffer, pa_csv.WriteOptions(include_header=False))
        clock.lap("encode")
        with pg_connect("loader", settings=self.settings) as conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL(
                    "create temp table batch_rows on commit drop as "
                    "select {columns} from {table} with no data"
                ).format(
                    columns=sql.SQL(", ").join(map(sql.Identifier, VIDEO_COLUMNS)),
                    table=VIDEO_TABLE,
                )
            )
            with cur.copy("copy batch_rows from stdin (format csv)") as copy:
                copy.write(buffer.getvalue())
            clock.lap("copy")
            cur.execute(_UPSERT_VIDEOS, {"batch_id": batch_id})
            clock.lap("upsert")
            cur.execute(_ROLLUP_CHANNELS, {"batch_id": batch_id})
            channel_rows = cur.rowcount
            clock.lap("rollup")
            if self.late is not None:
                _write_late(cur, self.query_name, batch_id, late_rows, summary["watermark"])
            _record_batch(cur, self.query_name, batch_id, output_rows=channel_rows, **summary)
        clock.lap("commit")
        if summary.get("late_rows") or summary.get("invalid_rows"):
            log.warning(
                "%s batch %d: %d events read, %d late (watermark %s), %d invalid",
                self.query_name,
                batch_id,
                summary["input_rows"],
                summary["late_rows"],
                summary["watermark"].isoformat() if summary["watermark"] else "none yet",
                summary["invalid_rows"],
            )
        log.info(
            "%s batch %d: %d video rows, %d channel window rows upserted in %.2fs (%s)",
            self.query_name,
            batch_id,
            rows.num_rows,
            channel_rows,
            clock.total,
            clock,
            extra={"sink_batch": batch_id, "sink_phases": clock.phases},
        )


class _PhaseClock:
    """Seconds spent in each named phase of a sink call, for the log and the benchmark."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self._last = self._start = time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.phases[name] = now - self._last
        self._last = now

    @property
    def total(self) -> float:
        return self._last - self._start

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:.2f}s" for k, v in self.phases.items())


@dataclass
class LateEvents:
    """The late-event report of one window micro-batch: exactly the events it dropped.

    Spark drops an event from a windowed aggregation when every window holding
    it ended at or before the batch's watermark (:func:`streaming.windows.is_late`);
    which events those are depends on how the stream was cut into micro-batches
    (the watermark is the latest event time of the earlier batches, less the
    delay). So the report is computed from the window query's own batch: the
    offsets range and the watermark Spark recorded in the query's offset log
    before running it (:func:`streaming.checkpoints.planned_batch`), the range
    read again from Kafka (``read_range``). A batch replayed after a crash has
    the same range and watermark, so the same report; two runs whose windows
    are the same dropped the same events and report the same late rows.
    """

    checkpoint: Path
    read_range: Callable[[Any, PlannedBatch], DataFrame | None]
    window_s: int
    slide_s: int

    def report(self, spark: Any, batch_id: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """(late rows per channel, the batch's counts) of micro-batch ``batch_id``."""
        planned = planned_batch(self.checkpoint, batch_id)
        watermark = (
            datetime.fromtimestamp(planned.watermark_ms / 1000, UTC)
            if planned.watermark_ms > 0
            else None
        )
        events = self.read_range(spark, planned)
        report = (
            []
            if events is None
            else late_report(events, watermark, self.window_s, self.slide_s).toArrow().to_pylist()
        )
        late_rows = [r for r in report if r["late_count"]]
        summary = {
            "input_rows": sum(r["input_rows"] for r in report),
            "invalid_rows": sum(r["invalid_rows"] for r in report),
            "late_rows": sum(r["late_count"] for r in late_rows),
            "max_event_at": max(
                (r["max_event_at"] for r in report if r["max_event_at"]), default=None
            ),
            "watermark": watermark,
        }
        return late_rows, summary


def _write_late(
    cur: Any, query_name: str, batch_id: int, rows: list[dict[str, Any]], watermark: datetime | None
) -> None:
    """Replace the batch's late-event rows (a replayed batch writes the same ones)."""
    cur.execute(
        "delete from streaming.late_events where query_name = %s and batch_id = %s",
        (query_name, batch_id),
    )
    cur.executemany(
        "insert into streaming.late_events (query_name, batch_id, channel_id, "
        "late_count, oldest_event_at, newest_event_at, watermark) "
        "values (%s, %s, %s, %s, %s, %s, %s)",
        [
            (
                query_name,
                batch_id,
                r["channel_id"],
                r["late_count"],
                r["oldest_event_at"],
                r["newest_event_at"],
                watermark,
            )
            for r in rows
        ],
    )
