"""Fixtures of the Kafka event tests: producing traffic and reading raw_events."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from ytempire.clients import kafka_producer, pg_connect


@pytest.fixture
def produce(settings) -> Callable[..., int]:
    """Produce (key, value) pairs to a topic with the platform's codec; return how many
    were sent."""

    def send(topic: str, messages: Iterable[tuple[str | None, bytes | None]]) -> int:
        producer = kafka_producer(settings=settings, linger_ms=20, batch_size=256 * 1024)
        count = 0
        for key, value in messages:
            producer.send(topic, key=None if key is None else key.encode(), value=value)
            count += 1
        producer.flush()
        producer.close()
        return count

    return send


@pytest.fixture
def loader(settings) -> Callable[[str], list[tuple[Any, ...]]]:
    """Run one query as the loader role and return its rows."""

    def query(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with pg_connect("loader", settings=settings) as conn:
            return conn.execute(sql, params).fetchall()

    return query
