"""The PostgreSQL sink of the channel-windows job, called by ``foreachBatch`` on each
micro-batch of Kafka records.

PostgreSQL holds the windows' state, not Spark. Each micro-batch is read
once in one Spark job whose Python workers parse it with the contract and
aggregate it per (pane, channel, video) (:mod:`streaming.panes`; a pane is
the gcd of window and slide: its events share their windows); the pane rows
come back to the driver and, in PostgreSQL, are expanded into their windows
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

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
from psycopg import sql
from psycopg.types.json import Jsonb
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from streaming.checkpoints import planned_batch
from streaming.panes import partition_panes
from streaming.schema import COUNTED_EVENT_TYPES
from streaming.windows import latest_window_start, pane_seconds
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

# The pane rows of a batch (streaming.panes: the columns of streaming.windows.pane_stats, one row
# per (pane, channel, video) of each Spark partition, so a key may repeat), plus the start of the
# latest window holding each pane, in the order the job selects and COPY loads them; invalid rows
# have a null pane_start and latest_window_start.
PANE_COLUMNS = [
    "pane_start",
    "latest_window_start",
    "channel_id",
    "video_id",
    "event_count",
    *TYPE_COUNT_COLUMNS,
    "views_sum",
    "views_reports",
    "revenue_max_usd",
    "revenue_min_usd",
    "first_event_at",
    "last_event_at",
]
_PANE_TYPES = {
    "pane_start": "timestamptz",
    "latest_window_start": "timestamptz",
    "channel_id": "text",
    "video_id": "text",
    "revenue_max_usd": "numeric(20, 6)",
    "revenue_min_usd": "numeric(20, 6)",
    "first_event_at": "timestamptz",
    "last_event_at": "timestamptz",
}
_CREATE_PANES = sql.SQL("create temp table batch_panes ({columns}) on commit drop").format(
    columns=sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(_PANE_TYPES.get(c, "bigint")))
        for c in PANE_COLUMNS
    )
)

# The batch's rows of each (window, channel, video): every valid pane row expanded into the
# windows holding it (window_start = latest_window_start - k * slide, k = 0, 1, ... while the
# window still contains pane_start; the rule of Spark's window(): start <= t < start + window),
# those ended at or before the watermark dropped, then summed per window. The same result as
# streaming.windows.window_stats, which the bench's and the tests' batch recomputes run in Spark.
_EXPAND_WINDOWS = sql.SQL(
    """
    create temp table batch_rows on commit drop as
    select
        windows.window_start,
        windows.window_start + %(window)s as window_end,
        panes.channel_id,
        panes.video_id,
        {sums},
        max(panes.revenue_max_usd) as revenue_max_usd,
        min(panes.revenue_min_usd) as revenue_min_usd,
        max(panes.last_event_at) as last_event_at
    from batch_panes as panes
    cross join lateral (
        select panes.latest_window_start - k * %(slide)s as window_start
        from generate_series(0, %(windows_per_pane)s - 1) as k
    ) as windows
    where panes.pane_start is not null
        and windows.window_start + %(window)s > panes.pane_start
        and (%(watermark)s::timestamptz is null
            or windows.window_start + %(window)s > %(watermark)s::timestamptz)
    group by windows.window_start, panes.channel_id, panes.video_id
    """
).format(
    sums=sql.SQL(", ").join(
        sql.SQL("sum(panes.{c})::bigint as {c}").format(c=sql.Identifier(c))
        for c in ["event_count", *TYPE_COUNT_COLUMNS, "views_sum", "views_reports"]
    )
)

# Per channel, the batch's late events: those of the valid panes whose latest window ended at
# or before the watermark (all of a pane's events share their windows, so a pane is late or not
# as a whole; one whose older windows closed but whose latest is open is not late: it counts in
# the open ones, as Spark does). The rule of streaming.windows.pane_late_report.
_WRITE_LATE = """
    insert into streaming.late_events (
        query_name, batch_id, channel_id, late_count, oldest_event_at, newest_event_at, watermark
    )
    select
        %(query_name)s, %(batch_id)s, channel_id, sum(event_count), min(first_event_at),
        max(last_event_at), %(watermark)s
    from batch_panes
    where pane_start is not null and latest_window_start + %(window)s <= %(watermark)s
    group by channel_id
    returning late_count
"""

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
            panes = self._panes(batch, next_offsets)
            clock.lap("panes")
            summary = _summary(panes)
            summary["watermark"] = watermark
            if not summary["input_rows"]:  # every record merged before: a committed batch replayed
                log.info("%s batch %d: already merged", self.query_name, batch_id)
                return
            buffer = io.BytesIO()
            pa_csv.write_csv(panes, buffer, pa_csv.WriteOptions(include_header=False))
            clock.lap("encode")
            cur.execute(_CREATE_PANES)
            with cur.copy("copy batch_panes from stdin (format csv)") as copy:
                copy.write(buffer.getvalue())
            clock.lap("copy")
            window = timedelta(seconds=self.window_s)
            cur.execute(
                _EXPAND_WINDOWS,
                {
                    "window": window,
                    "slide": timedelta(seconds=self.slide_s),
                    "windows_per_pane": -(-self.window_s // self.slide_s),
                    "watermark": watermark,
                },
            )
            video_rows = cur.rowcount
            clock.lap("windows")
            cur.execute(_MERGE_VIDEOS, {"batch_id": batch_id})
            clock.lap("merge")
            cur.execute(_ROLLUP_CHANNELS, {"batch_id": batch_id})
            channel_rows = cur.rowcount
            clock.lap("rollup")
            summary["late_rows"] = _write_late(cur, self.query_name, batch_id, watermark, window)
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
            "%s batch %d: %d pane rows, %d video window rows merged, %d channel window rows "
            "upserted in %.2fs (%s)",
            self.query_name,
            batch_id,
            panes.num_rows,
            video_rows,
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

    def _panes(self, batch: DataFrame, next_offsets: Offsets) -> pa.Table:
        """The batch's records not merged yet, read, parsed and aggregated per (pane, channel,
        video) in one Spark job (:func:`~streaming.panes.partition_panes`), with each pane's
        latest window start: ``PANE_COLUMNS``, a few rows per channel and video (a key held
        by several Spark partitions repeats; the SQL that reads them combines them).

        PostgreSQL expands them into the windows and the late report inside the merge's
        transaction. (Issue 26, CPU of whole sink calls on the same 300k events: the pane
        rows kept and two more Spark jobs for the windows and the late report
        cost 32-34 us of CPU an event; one job with Spark's aggregation 25-28; the aggregation
        in the Python workers 23-24.)
        """
        pane_s = pane_seconds(self.window_s, self.slide_s)
        panes = partition_panes(batch.where(unmerged(next_offsets)), pane_s)
        return panes.select(
            *[
                latest_window_start(F.col("pane_start"), self.slide_s).alias(c)
                if c == "latest_window_start"
                else c
                for c in PANE_COLUMNS
            ]
        ).toArrow()


def _summary(panes: pa.Table) -> dict[str, Any]:
    """Events read, invalid events and the latest valid event time of a batch's pane rows."""
    invalid = pc.is_null(panes["pane_start"])
    return {
        "input_rows": pc.sum(panes["event_count"]).as_py() or 0,
        "invalid_rows": pc.sum(pc.filter(panes["event_count"], invalid)).as_py() or 0,
        "max_event_at": pc.max(panes["last_event_at"]).as_py(),  # null for invalid rows
    }


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
    cur: Any, query_name: str, batch_id: int, watermark: datetime | None, window: timedelta
) -> int:
    """Replace the batch's late-event rows (a replayed batch writes the same ones) from its pane
    rows in ``batch_panes``; return the number of late events."""
    cur.execute(
        "delete from streaming.late_events where query_name = %s and batch_id = %s",
        (query_name, batch_id),
    )
    if watermark is None:  # the query's first batch: no window has closed yet
        return 0
    cur.execute(
        _WRITE_LATE,
        {"query_name": query_name, "batch_id": batch_id, "watermark": watermark, "window": window},
    )
    return sum(int(row[0]) for row in cur.fetchall())
