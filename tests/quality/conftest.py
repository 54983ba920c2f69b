"""Fixtures of the quality tests: a test topic's JSON messages, the loader role."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.read_topic import read_topic as read_messages
from ytempire.clients import pg_connect


@pytest.fixture
def read_topic(settings) -> Callable[[str], list[dict[str, Any]]]:
    """Every message of a topic, to its current end offsets, decoded from JSON."""

    def read(topic: str) -> list[dict[str, Any]]:
        return [json.loads(record.value) for record in read_messages(topic, settings)]

    return read


@pytest.fixture
def loader(settings) -> Callable[..., list[tuple[Any, ...]]]:
    """Run one statement as the loader role (committed) and return its rows, if any."""

    def query(sql: str, params: Any = None) -> list[tuple[Any, ...]]:
        with pg_connect("loader", settings=settings) as conn:
            cursor = conn.execute(sql, params)
            return cursor.fetchall() if cursor.description else []

    return query
