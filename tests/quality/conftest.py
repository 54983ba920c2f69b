"""Fixtures of the quality tests: reading a test topic to its end, the loader role."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from kafka import TopicPartition

from ytempire.clients import kafka_consumer, pg_connect

HUNG_AFTER_S = 60  # only a hung broker takes this long; normal reads end at the end offset


@pytest.fixture
def read_topic(settings) -> Callable[[str], list[dict[str, Any]]]:
    """Every message of a one-partition topic, from its start to its current end offset."""

    def read(topic: str) -> list[dict[str, Any]]:
        consumer = kafka_consumer(settings=settings)
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        end = consumer.end_offsets([partition])[partition]
        consumer.seek_to_beginning(partition)
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + HUNG_AFTER_S
        while consumer.position(partition) < end:
            assert time.monotonic() < deadline, f"reading {topic} hung"
            for records in consumer.poll(timeout_ms=500).values():
                messages.extend(json.loads(r.value) for r in records)
        consumer.close()
        return messages

    return read


@pytest.fixture
def loader(settings) -> Callable[..., list[tuple[Any, ...]]]:
    """Run one statement as the loader role (committed) and return its rows, if any."""

    def query(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with pg_connect("loader", settings=settings) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    return query
