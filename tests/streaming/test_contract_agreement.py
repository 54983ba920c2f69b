"""The three consumers of the event topics agree on every message (issue 27).

One property: the same generated messages go to the landing's contract
(``ingestion.kafka_events.helpers.split_page``), the real-time processor's
(``streaming.processor.parse_event``, what ``Processor.handle`` calls) and the Spark
windows' parse (``streaming.windows.parse_events`` + ``is_valid`` on the local
session); each message is accepted by all three or by none, and an accepted one is
read at the same instant. Hypothesis checks the landing against the processor per
example (and shrinks a disagreement); every message it drew then goes to Spark in one
job (a Spark job per example costs seconds each), compared message by message.

The messages (``tests/event_messages.py``) are valid events of every type with a few
fields replaced by what a lax reader would also take, and byte-level flaws.
``YTEMPIRE_CONTRACT_EXAMPLES (default 150) sets
how many batches hypothesis draws; unset, the draws are the same on every run.
"""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import types as T

from ingestion.kafka_events.helpers import EVENTS_TUPLE_ORDER, split_page
from streaming import processor
from streaming.windows import is_valid, parse_events
from tests.consumed import binary_row, consumed_message
from tests.event_messages import messages
from ytempire.events import Rejected

pytestmark = pytest.mark.services  # a local Spark session

EXAMPLES = int(os.environ.get("YTEMPIRE_CONTRACT_EXAMPLES", "150"))
KAFKA_SCHEMA = T.StructType(
    [
        T.StructField("value", T.BinaryType()),
        T.StructField("topic", T.StringType()),
        T.StructField("partition", T.IntegerType()),
        T.StructField("offset", T.LongType()),
        T.StructField("timestamp", T.TimestampType()),
    ]
)

# --- the three consumers --------------------------------------------------------------------


def _landing(values: list[bytes]) -> list[datetime | None]:
    """The landing's verdict: an events row (its occurred_at) or a dead letter (None)."""
    out: list[datetime | None] = []
    for offset, value in enumerate(values):
        message = consumed_message(
            offset, value, topic="video-events", timestamp_ms=1_767_225_600_000
        )
        page = split_page([message], set(), datetime.now(UTC))
        if page.events:
            (row,) = page.events
            out.append(binary_row(row, EVENTS_TUPLE_ORDER)["occurred_at"])
        else:
            assert len(page.dead) == 1
            out.append(None)
    return out


def _processor(values: list[bytes]) -> list[datetime | None]:
    verdicts = [processor.parse_event(v) for v in values]
    return [None if isinstance(v, Rejected) else v.occurred_at for v in verdicts]


def _spark(spark: Any, values: list[bytes]) -> list[datetime | None]:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    rows = [(v, "video-events", 0, i, now) for i, v in enumerate(values)]
    parsed = parse_events(spark.createDataFrame(rows, KAFKA_SCHEMA))
    judged = parsed.select("offset", is_valid().alias("valid"), "occurred_at").toArrow().to_pylist()
    by_offset = {r["offset"]: r["occurred_at"] if r["valid"] else None for r in judged}
    return [by_offset[i] for i in range(len(values))]


def test_landing_processor_and_spark_accept_the_same_messages_at_the_same_instant(spark):
    drawn: list[tuple[bytes, datetime | None]] = []

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize="YTEMPIRE_CONTRACT_EXAMPLES" not in os.environ,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(values=st.lists(messages(), min_size=1, max_size=40))
    def landing_and_processor_agree(values: list[bytes]) -> None:
        landing, real_time = _landing(values), _processor(values)
        for value, a, b in zip(values, landing, real_time, strict=True):
            assert a == b, (value, a, b)
        drawn.extend(zip(values, landing, strict=True))

    landing_and_processor_agree()
    windows = _spark(spark, [value for value, _ in drawn])
    disagreements = [
        (value, expected, seen)
        for (value, expected), seen in zip(drawn, windows, strict=True)
        if expected != seen
    ]
    assert not disagreements, disagreements[:5]
    # the property says something: both verdicts are common among the draws
    accepted = sum(instant is not None for _, instant in drawn)
    assert 0.1 * len(drawn) < accepted < 0.9 * len(drawn), (accepted, len(drawn))


def test_the_issues_numbers_are_refused_by_all_three(spark):
    """1767225600000, "1767225600" and 0 were events of 2026 and 1970 to the landing and
    the processor, and nothing to the Spark windows."""
    base = {
        "event_id": str(uuid.uuid4()),
        "event_type": "quality_check",
        "occurred_at": "2026-01-01T00:00:00Z",
        "channel_id": "UC" + "a" * 22,
        "video_id": str(uuid.uuid4()),
        "payload": {"quality_score": 50},
    }
    values = [
        json.dumps({**base, "occurred_at": v}).encode() for v in (1767225600000, "1767225600", 0)
    ]
    values.append(json.dumps(base).encode())
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    expected = [None, None, None, instant]
    assert _landing(values) == _processor(values) == _spark(spark, values) == expected
