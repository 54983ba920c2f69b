"""The PostgreSQL sink of the channel-windows job, called by ``foreachBatch`` on each
micro-batch of Kafka records.

PostgreSQL holds the windows' state, not Spark. Each micro-batch is parsed
once (the contract UDF), aggregated per (window, channel, video) in Spark
and merged into ``streaming.channel_video_window_stats`` (counts and sums
added, revenue bounds and the last event time widened); the channel rows of
the windows it touched are recomputed from their videos; its late events and
counts are recorded; all in one transaction, with how far the query got:
``streaming.stream_progress`` holds, per query, the next Kafka offset of
each partition merged and the latest valid event time merged. So:

* a micro-batch replayed after a crash (Spark re-runs the last batch whose
  commit it did not record, with the same offsets) merges only the records
  past the offsets its transaction committed: none if it committed, all if
  it did not;
* the watermark of a batch is the latest event time of the batches merged
  before it, less the delay (Spark's rule, kept where the windows are), so a
  replay or a restart judges a batch as an uninterrupted run did;
* a query whose checkpoint was lost starts again from the earliest offsets
  and merges nothing twice.

(Until issue 26 the windows were a stateful Spark aggregation in update mode
and the sink re-read each batch's offsets range from Kafka to count its late
events: every message was read and parsed twice, and parsing is most of the
job's CPU.)
"""

from __future__ import annotations

import io
import logging
import operator
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow.csv as pa_csv
from psycopg import sql
from psycopg.types.json import Jsonb
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streaming.checkpoints import planned_batch
from streaming.schema import COUNTED_EVENT_TYPES
from streaming.windows import pane_late_report, pane_seconds, pane_stats, parse_events, window_stats
from ytempire.clients import kafka_admin, pg_connect
from ytempire.errors import YTEmpireError
from ytempire.settings import Settings

if TYPE_CHECKING:
    from kafka import KafkaAdminClient

log = logging.getLogger(__name__)

SINK_TABLES = (  # what the sink writes; truncated together to rebuild the windows
    "streaming.channel_window_stats",
    "streaming.channel_video_window_stats",
    "streaming.stream_batches",
    "streaming.late_events",
    "streaming.stream_progress",
)
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

# How a batch's row of a window combines with the row already there.
ADDED_COLUMNS = ["event_count", *TYPE_COUNT_COLUMNS, "views_sum", "views_reports"]
_COMBINE = {
    **{c: "target.{c} + excluded.{c}" for c in ADDED_COLUMNS},
    "revenue_max_usd": "greatest(target.{c}, excluded.{c})",  # greatest/least skip nulls
    "revenue_min_usd": "least(target.{c}, excluded.{c})",
    "last_event_at": "greatest(target.{c}, excluded.{c})",
}
assert set(_COMBINE) == set(VIDEO_COLUMNS) - set(KEY_COLUMNS)

_MERGE_VIDEOS = sql.SQL(
    "insert into {table} as target ({columns}, batch_id, processed_at) "
    "select {columns}, %(batch_id)s, clock_timestamp() from batch_rows "
    "on conflict ({keys}) do update set {updates}, "
    "batch_id = excluded.batch_id, processed_at = excluded.processed_at"
).format(
    table=VIDEO_TABLE,
    columns=sql.SQL(", ").join(map(sql.Identifier, VIDEO_COLUMNS)),
    keys=sql.SQL(", ").join(map(sql.Identifier, KEY_COLUMNS)),
    updates=sql.SQL(", ").join(
        sql.SQL("{c} = ").format(c=sql.Identifier(c))
        + sql.SQL(combine.replace("{c}", "{column}")).format(column=sql.Identifier(c))
        for c, combine in _COMBINE.items()
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


_START_PROGRESS = (
    "insert into streaming.stream_progress (query_name) values (%(query_name)s) "
    "on conflict (query_name) do nothing"
)
_LOCK_PROGRESS = (
    "select next_offsets, max_event_at, topic_ids from streaming.stream_progress "
    "where query_name = %(query_name)s for update"
)
_SAVE_PROGRESS = """
    update streaming.stream_progress
    set next_offsets = %(next_offsets)s, max_event_at = %(max_event_at)s,
        topic_ids = %(topic_ids)s, batch_id = %(batch_id)s, updated_at = clock_timestamp()
    where query_name = %(query_name)s
"""

Offsets = dict[str, dict[int, int]]  # topic -> partition -> offset
TopicIds = dict[str, str]  # topic -> its Kafka topic id (KIP-516), as text


class TopicRecreatedError(YTEmpireError):
    """A topic's offsets were merged under another topic id: it was deleted and recreated."""


def topic_ids(admin: KafkaAdminClient, topics: Iterable[str]) -> TopicIds:
    """The Kafka topic id of each of ``topics`` now (one metadata request).

    Raises :class:`YTEmpireError` for a topic the cluster does not know.
    """
    wanted = sorted(set(topics))
    if not wanted:
        return {}
    found = {d["name"]: d for d in admin.describe_topics(wanted)}
    missing = [t for t in wanted if t not in found or found[t]["error_code"]]
    if missing:
        raise YTEmpireError(
            f"Kafka topic(s) {', '.join(missing)} not found while merging a micro-batch. "
            "Next: check the job's topics (YTEMPIRE_STREAM_TOPICS, --topics)."
        )
    return {t: str(found[t]["topic_id"]) for t in wanted}


def check_topic_ids(query_name: str, checkpoint: Path, merged: TopicIds, now: TopicIds) -> TopicIds:
    """``merged`` updated with ``now``; raises :class:`TopicRecreatedError` if a topic whose
    offsets were merged under one id has another now (deleted and recreated: its offsets
    start again at 0, and its records would read as merged)."""
    changed = sorted(t for t, id_ in now.items() if merged.get(t, id_) != id_)
    if changed:
        raise TopicRecreatedError(
            f"{query_name}: Kafka topic(s) {', '.join(changed)} were deleted and recreated "
            f"(topic id {', '.join(f'{merged[t]} -> {now[t]}' for t in changed)}): their "
            "offsets start again at 0, so the window tables would take their records for ones "
            "already merged. Nothing of this micro-batch was merged. Next, to rebuild the "
            "windows from what the topics hold now: stop the job, truncate "
            f"{', '.join(SINK_TABLES)}, delete the query's checkpoint folder ({checkpoint}) "
            "and start it again."
        )
    return {**merged, **now}


def unmerged(next_offsets: Offsets) -> Column:
    """Kafka records at or past their partition's next offset to merge (all of a partition
    not merged yet)."""
    merged = [
        (F.col("topic") == topic) & (F.col("partition") == partition) & (F.col("offset") < offset)
        for topic, partitions in next_offsets.items()
        for partition, offset in partitions.items()
    ]
    return ~reduce(operator.or_, merged) if merged else F.lit(True)


def advanced(next_offsets: Offsets, batch_end: Offsets) -> Offsets:
    """``next_offsets`` moved up to the batch's end offsets (never back)."""
    out = {topic: dict(partitions) for topic, partitions in next_offsets.items()}
    for topic, partitions in batch_end.items():
        for partition, offset in partitions.items():
            mine = out.setdefault(topic, {})
            mine[partition] = max(mine.get(partition, offset), offset)
    return out


@dataclass
class WindowSink:
    """foreachBatch function: parse the micro-batch's Kafka records once, merge its windows
    into PostgreSQL, roll up channels, count late events, and advance the query's progress,
    in one transaction (see the module's docstring)."""

    query_name: str
    settings: Settings
    checkpoint: Path  # the query's checkpoint folder: its offset log gives each batch's end
    window_s: int
    slide_s: int
    watermark_s: int

    def __call__(self, batch: DataFrame, batch_id: int) -> None:
        clock = _PhaseClock()
        end = planned_batch(self.checkpoint, batch_id).end
        with pg_connect("loader", settings=self.settings) as conn, conn.cursor() as cur:
            cur.execute(_START_PROGRESS, {"query_name": self.query_name})
            cur.execute(_LOCK_PROGRESS, {"query_name": self.query_name})
            progress = cur.fetchone()
            assert progress is not None  # inserted above if missing
            next_offsets: Offsets = {
                t: {int(p): int(o) for p, o in parts.items()}
                for t, parts in (progress[0] or {}).items()
            }
            max_event_at: datetime | None = progress[1]
            ids = check_topic_ids(
                self.query_name, self.checkpoint, progress[2], self._topic_ids(end)
            )
            watermark = (
                None if max_event_at is None else max_event_at - timedelta(seconds=self.watermark_s)
            )
            clock.lap("progress")
            rows, report = self._compute(batch, next_offsets, watermark, clock)
            summary = {
                "input_rows": sum(r["input_rows"] for r in report),
                "invalid_rows": sum(r["invalid_rows"] for r in report),
                "late_rows": sum(r["late_count"] for r in report),
                "max_event_at": max(
                    (r["max_event_at"] for r in report if r["max_event_at"]), default=None
                ),
                "watermark": watermark,
            }
            if not summary["input_rows"]:  # every record merged before: a committed batch replayed
                log.info("%s batch %d: already merged", self.query_name, batch_id)
                return
            buffer = io.BytesIO()
            pa_csv.write_csv(rows, buffer, pa_csv.WriteOptions(include_header=False))
            clock.lap("encode")
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
            cur.execute(_MERGE_VIDEOS, {"batch_id": batch_id})
            clock.lap("merge")
            cur.execute(_ROLLUP_CHANNELS, {"batch_id": batch_id})
            channel_rows = cur.rowcount
            clock.lap("rollup")
            late_rows = [r for r in report if r["late_count"]]
            _write_late(cur, self.query_name, batch_id, late_rows, watermark)
            _record_batch(cur, self.query_name, batch_id, output_rows=channel_rows, **summary)
            newest = summary["max_event_at"]
            cur.execute(
                _SAVE_PROGRESS,
                {
                    "query_name": self.query_name,
                    "batch_id": batch_id,
                    "next_offsets": Jsonb(advanced(next_offsets, end)),
                    "topic_ids": Jsonb(ids),
                    "max_event_at": max(
                        (t for t in (max_event_at, newest) if t is not None), default=None
                    ),
                },
            )
        clock.lap("commit")
        if summary["late_rows"] or summary["invalid_rows"]:
            log.warning(
                "%s batch %d: %d events read, %d late (watermark %s), %d invalid",
                self.query_name,
                batch_id,
                summary["input_rows"],
                summary["late_rows"],
                watermark.isoformat() if watermark else "none yet",
                summary["invalid_rows"],
            )
        log.info(
            "%s batch %d: %d video rows merged, %d channel window rows upserted in %.2fs (%s)",
            self.query_name,
            batch_id,
            rows.num_rows,
            channel_rows,
            clock.total,
            clock,
            extra={"sink_batch": batch_id, "sink_phases": clock.phases},
        )

    def _topic_ids(self, end: Offsets) -> TopicIds:
        admin = kafka_admin(settings=self.settings)  # a few ms a batch; no connection kept
        try:
            return topic_ids(admin, end)
        finally:
            admin.close()

    def _compute(
        self,
        batch: DataFrame,
        next_offsets: Offsets,
        watermark: datetime | None,
        clock: _PhaseClock,
    ) -> tuple[Any, list[dict[str, Any]]]:
        """(the batch's window rows as an Arrow table, its late report per channel).

        One Spark job reads, parses and aggregates the records not merged yet
        into pane rows (:func:`~streaming.windows.pane_stats`), which it keeps;
        the windows and the late report are two small jobs on those rows. (Until
        issue 26 the parsed events themselves were cached for the late report:
        a 300k-event batch's cache pressed the driver's heap into long GC
        pauses.)
        """
        pane_s = pane_seconds(self.window_s, self.slide_s)
        panes = pane_stats(parse_events(batch.where(unmerged(next_offsets))), pane_s).persist()
        try:
            rows = (
                window_stats(
                    panes, f"{self.window_s} seconds", f"{self.slide_s} seconds", watermark
                )
                .select(*VIDEO_COLUMNS)
                .toArrow()
            )
            clock.lap("windows")
            report = (
                pane_late_report(panes, watermark, self.window_s, self.slide_s)
                .toArrow()
                .to_pylist()
            )
            clock.lap("late")
        finally:
            panes.unpersist()
        return rows, report


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
