"""Create the warehouse's Kafka topics (``ytempire topics create``)."""

from __future__ import annotations

from collections.abc import Iterable

from kafka.admin import NewTopic

from ytempire.clients import kafka_admin
from ytempire.settings import Settings
from ytempire.topics import ALL_TOPICS, Topic


def ensure_topics(
    topics: Iterable[Topic] = ALL_TOPICS, settings: Settings | None = None
) -> list[str]:
    """Create the topics that do not exist yet; return the names created."""
    admin = kafka_admin(settings=settings)
    try:
        existing = set(admin.list_topics())
        new = [
            NewTopic(
                t.name, num_partitions=t.partitions, replication_factor=1, topic_configs=t.config
            )
            for t in topics
            if t.name not in existing
        ]
        if new:
            admin.create_topics(new, timeout_ms=30_000)
            admin.wait_for_topics([t.name for t in new]) if hasattr(
                admin, "wait_for_topics"
            ) else None
        return [t.name for t in new]
    finally:
        admin.close()
