"""PostgreSQL sinks of the channel-windows job, called by ``foreachBatch``.

Both sinks are idempotent: a micro-batch replayed after a crash (Spark
re-runs the last batch whose commit it did not record, with the same offsets
and the same state) writes the same rows over the ones it wrote before, all
in one transaction per batch. Nothing is appended.

* :class:`WindowSink` upserts the changed (window, channel, video) rows, then
  recomputes from them the channel rows of every window the batch touched.
* :class:`LateEventSink` counts, per batch and channel, the events that
  arrived after all their windows had closed, and keeps the watermark it
  judges them by in ``streaming.stream_batches``.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow.csv as pa_csv
from psycopg import sql
from pyspark.sql import DataFrame

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
    """foreachBatch function: upsert the per-video window rows, then roll up channels."""

    query_name: str
    settings: Settings

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        clock = _PhaseClock()
        rows = batch.select(*VIDEO_COLUMNS).toArrow()
        clock.lap("collect")
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
            _record_batch(cur, self.query_name, batch_id, output_rows=channel_rows)
        clock.lap("commit")
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
class LateEventSink:
    """foreachBatch function over parsed events: count and record late events.

    Its watermark follows Spark's rule for the window query: the latest event
    time seen in earlier batches minus the allowed delay. Both queries read the
    same offsets per batch when they share ``maxOffsetsPerTrigger`` and start
    together (always so for ``availableNow`` on a settled log); otherwise the
    two may split batches differently, and events within one batch of the
    boundary can be judged differently.
    """

    query_name: str
    settings: Settings
    window_s: int
    slide_s: int
    watermark_s: int

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        clock = _PhaseClock()
        with pg_connect("loader", settings=self.settings) as conn, conn.cursor() as cur:
            previous_max = self._previous_max_event_at(cur, batch_id)
        watermark = previous_max - timedelta(seconds=self.watermark_s) if previous_max else None
        report = late_report(batch, watermark, self.window_s, self.slide_s).toArrow().to_pylist()
        clock.lap("report")
        late_rows = [r for r in report if r["late_count"]]
        batch_max = max((r["max_event_at"] for r in report if r["max_event_at"]), default=None)
        summary = {
            "input_rows": sum(r["input_rows"] for r in report),
            "invalid_rows": sum(r["invalid_rows"] for r in report),
            "late_rows": sum(r["late_count"] for r in late_rows),
            "max_event_at": _latest(previous_max, batch_max),
            "watermark": watermark,
        }
        self._write(batch_id, late_rows, summary)
        clock.lap("write")
        self._report(batch_id, summary)
        log.debug(
            "%s batch %d: late-event sink %.2fs (%s)",
            self.query_name,
            batch_id,
            clock.total,
            clock,
            extra={"sink_batch": batch_id, "sink_phases": clock.phases},
        )

    def _write(
        self, batch_id: int, late_rows: list[dict[str, Any]], summary: dict[str, Any]
    ) -> None:
        """Replace the batch's late-event rows and record the batch, in one transaction."""
        with pg_connect("loader", settings=self.settings) as conn, conn.cursor() as cur:
            cur.execute(
                "delete from streaming.late_events where query_name = %s and batch_id = %s",
                (self.query_name, batch_id),
            )
            cur.executemany(
                "insert into streaming.late_events (query_name, batch_id, channel_id, "
                "late_count, oldest_event_at, newest_event_at, watermark) "
                "values (%s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        self.query_name,
                        batch_id,
                        r["channel_id"],
                        r["late_count"],
                        r["oldest_event_at"],
                        r["newest_event_at"],
                        summary["watermark"],
                    )
                    for r in late_rows
                ],
            )
            _record_batch(cur, self.query_name, batch_id, **summary)

    def _previous_max_event_at(self, cur: Any, batch_id: int) -> datetime | None:
        cur.execute(
            "select max_event_at from streaming.stream_batches "
            "where query_name = %s and batch_id < %s order by batch_id desc limit 1",
            (self.query_name, batch_id),
        )
        row = cur.fetchone()
        return row[0] if row else None

    def _report(self, batch_id: int, summary: dict[str, Any]) -> None:
        late, invalid, watermark = (
            summary["late_rows"],
            summary["invalid_rows"],
            summary["watermark"],
        )
        log.log(
            logging.WARNING if late or invalid else logging.INFO,
            "%s batch %d: %d events read, %d late (watermark %s), %d invalid",
            self.query_name,
            batch_id,
            summary["input_rows"],
            late,
            watermark.isoformat() if watermark else "none yet",
            invalid,
        )


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    present = [t for t in (a, b) if t is not None]
    return max(present) if present else None
