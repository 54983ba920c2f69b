"""The event contract in Spark: each message judged by the function the other consumers call.

The landing (``ingestion.kafka_events``) and the real-time processor
(``streaming.processor``) validate a message with
:func:`ytempire.events.parse_event`; the windows job calls the same function,
in a native Arrow UDF (``arrow_udf``: Arrow arrays in and out, no pandas), so
the three accept and refuse the same messages and read the same instant by
construction, not by keeping two implementations in step. (Spark's own JSON
readers are laxer: ``from_json`` turns a number into a string field's text,
keeps the first of two JSON values and reads ``NaN``; rules re-derived in Spark
SQL cost the job more than this UDF does: ``bench/streaming_windows.py``. The
same loop as a pandas UDF ran at 38 % of this one's rate on the same values:
converting the values and the nullable result columns through pandas cost more
than the contract itself.)

:func:`read_events` gives, per Kafka value, the fields the windows use, all
null for a message the contract refuses. ``occurred_at`` leaves the UDF as
epoch microseconds (pandas' nanosecond timestamps end in 2262; the contract's
instants run to 9999) and ``revenue_usd`` as the float's shortest text, cast
to the job's decimal in Spark. The executors' Python needs this project
installed: docker-compose's ``spark-worker`` runs the project image.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
from pyspark.sql import Column
from pyspark.sql import types as T
from pyspark.sql.functions import arrow_udf
from pyspark.sql.pandas.types import to_arrow_type

from ytempire.events import MetricsUpdate, Rejected, parse_event

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)
# what the UDF returns per message; null everywhere but ``accepted`` for a refused message
EVENT_FIELDS = T.StructType(
    [
        T.StructField("accepted", T.BooleanType()),
        T.StructField("event_type", T.StringType()),
        T.StructField("occurred_at_us", T.LongType()),
        T.StructField("channel_id", T.StringType()),
        T.StructField("video_id", T.StringType()),
        T.StructField("views", T.LongType()),
        T.StructField("revenue_usd", T.StringType()),
    ]
)
ARROW_FIELDS = to_arrow_type(EVENT_FIELDS)  # the same, as the UDF builds it


def read_values(values: pa.Array) -> pa.Array:
    """Kafka values (binary, null for a tombstone) -> one row of :data:`EVENT_FIELDS` each (a
    struct array: the return hint says "array to array" to ``arrow_udf``, not "aggregate").

    Pure: :func:`parse_event` per value, never raising.
    """
    accepted: list[bool] = []
    event_types: list[str | None] = []
    micros: list[int | None] = []
    channels: list[str | None] = []
    videos: list[str | None] = []
    views: list[int | None] = []
    revenue: list[str | None] = []
    for value in values.to_pylist():
        event = parse_event(value)
        if isinstance(event, Rejected):
            accepted.append(False)
            for column in (event_types, micros, channels, videos, views, revenue):
                column.append(None)
            continue
        accepted.append(True)
        event_types.append(event.event_type)
        micros.append((event.occurred_at - EPOCH) // MICROSECOND)
        channels.append(event.channel_id)
        videos.append(None if event.video_id is None else str(event.video_id))
        metrics = event.payload if isinstance(event.payload, MetricsUpdate) else None
        views.append(None if metrics is None else metrics.views)
        revenue.append(None if metrics is None else repr(metrics.revenue_usd))
    return pa.StructArray.from_arrays(
        [
            pa.array(accepted, pa.bool_()),
            pa.array(event_types, pa.string()),
            pa.array(micros, pa.int64()),
            pa.array(channels, pa.string()),
            pa.array(videos, pa.string()),
            pa.array(views, pa.int64()),
            pa.array(revenue, pa.string()),
        ],
        fields=list(ARROW_FIELDS),
    )


# Deterministic, but marked otherwise so that the optimizer evaluates it once per message: a
# filter on its fields (the windows' validity check, or one on a grouping key derived from them)
# pushed below the projection that calls it runs it a second time, every message through Python
# twice (issue 26: the batch recompute's plan had two ArrowEvalPython nodes).
read_events = arrow_udf(read_values, EVENT_FIELDS).asNondeterministic()  # type: ignore[call-overload]


def event_fields(value: Column) -> Column:
    """A Kafka ``value`` column -> the struct of :data:`EVENT_FIELDS` the contract reads."""
    column: Column = read_events(value)
    return column
