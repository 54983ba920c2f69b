"""The explicit Spark schema of the Kafka event envelope (see the shared event contract).

``payload`` is the union of the payload fields of every event type; fields a
type does not carry parse as null. Money is parsed as a decimal so sums are
exact, and ``occurred_at`` as a string converted separately, so a malformed
time makes one invalid row instead of failing the batch.
"""

from __future__ import annotations

from pyspark.sql import types as T

# Decimal of revenue and cost: 14 digits before the point, 6 after.
MONEY = T.DecimalType(20, 6)

VIDEO_EVENT_TYPES = (
    "video_generated",
    "video_uploaded",
    "video_published",
    "metrics_update",
    "quality_check",
)
CHANNEL_EVENT_TYPES = ("channel_created", "channel_updated")
# Event types counted in their own column; anything else is counted as "other".
COUNTED_EVENT_TYPES = VIDEO_EVENT_TYPES + CHANNEL_EVENT_TYPES

PAYLOAD_SCHEMA = T.StructType(
    [
        # video_generated
        T.StructField("title", T.StringType()),
        T.StructField("duration_seconds", T.LongType()),
        T.StructField("generation_cost_usd", MONEY),
        T.StructField("niche", T.StringType()),
        # video_uploaded / video_published / metrics_update
        T.StructField("youtube_video_id", T.StringType()),
        T.StructField("published_at", T.StringType()),
        # metrics_update: cumulative counters of the video as of occurred_at
        T.StructField("views", T.LongType()),
        T.StructField("likes", T.LongType()),
        T.StructField("comments", T.LongType()),
        T.StructField("shares", T.LongType()),
        T.StructField("watch_time_minutes", T.DoubleType()),
        T.StructField("revenue_usd", MONEY),
        # quality_check
        T.StructField("quality_score", T.DoubleType()),
        # channel_created / channel_updated
        T.StructField("status", T.StringType()),
        # user events
        T.StructField("user_id", T.StringType()),
        T.StructField("action", T.StringType()),
    ]
)

ENVELOPE_SCHEMA = T.StructType(
    [
        T.StructField("event_id", T.StringType()),
        T.StructField("event_type", T.StringType()),
        T.StructField("schema_version", T.IntegerType()),
        T.StructField("occurred_at", T.StringType()),
        T.StructField("channel_id", T.StringType()),
        T.StructField("video_id", T.StringType()),
        T.StructField("payload", PAYLOAD_SCHEMA),
    ]
)

# What the windows read: a message parses into these fields only. Every other
# field is skipped unconverted, so validity (event type, channel, time) is
# judged on the same fields by the window query and the late-event count.
WINDOW_FIELDS = ("event_type", "occurred_at", "channel_id", "video_id")
WINDOW_PAYLOAD_FIELDS = ("views", "revenue_usd")
ENVELOPE_WINDOW_SCHEMA = T.StructType(
    [f for f in ENVELOPE_SCHEMA.fields if f.name in WINDOW_FIELDS]
    + [
        T.StructField(
            "payload",
            T.StructType([f for f in PAYLOAD_SCHEMA.fields if f.name in WINDOW_PAYLOAD_FIELDS]),
        )
    ]
)

# What the late-event count needs: validity and event time, nothing else.
ENVELOPE_TIME_SCHEMA = T.StructType(
    [f for f in ENVELOPE_SCHEMA.fields if f.name in ("event_type", "occurred_at", "channel_id")]
)
