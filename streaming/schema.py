"""The event types the windows count, and the decimal type money is read as.

What a message must hold is the event contract's (``ytempire/events.py``), which
the windows evaluate through :mod:`streaming.contract`; money is read as a
decimal so sums are exact.
"""

from __future__ import annotations

# Decimal of revenue and cost: 14 digits before the point, 6 after (Spark SQL type).
MONEY = "decimal(20,6)"

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
