"""The Kafka topics of the warehouse, with their partition counts, in one place.

``ytempire topics create`` (run by ``make setup``) creates them; producers and
consumers refer to these constants instead of repeating topic names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WEEK_MS = 7 * 24 * 3600 * 1000


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    config: dict[str, str] = field(default_factory=dict)


VIDEO_EVENTS = Topic("video-events", 6)
CHANNEL_EVENTS = Topic("channel-events", 3)
USER_EVENTS = Topic("user-events", 3)
VIDEO_ANALYTICS = Topic("video-analytics", 3)
NOTIFICATIONS = Topic("notifications", 1)
ERROR_QUEUE = Topic("error-queue", 1)
ALERTS = Topic("alerts", 1)
ANOMALY_ALERTS = Topic("anomaly-alerts", 1)
# Dead letters are evidence: keep them four weeks rather than the broker default.
DEAD_LETTER = Topic("dead-letter", 1, {"retention.ms": str(4 * WEEK_MS)})

ALL_TOPICS: tuple[Topic, ...] = (
    VIDEO_EVENTS,
    CHANNEL_EVENTS,
    USER_EVENTS,
    VIDEO_ANALYTICS,
    NOTIFICATIONS,
    ERROR_QUEUE,
    ALERTS,
    ANOMALY_ALERTS,
    DEAD_LETTER,
)
