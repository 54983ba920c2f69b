"""The three consumers of the event topics agree on every message (issue 27).

One property: the same generated messages go to the landing's contract
(``ingestion.kafka_events.helpers.split_page``), the real-time processor's
(``streaming.processor.parse_event``, what ``Processor.handle`` calls) and the Spark
windows' parse (``streaming.windows.parse_events`` + ``is_valid`` on the local
session); each message is accepted by all three or by none, and an accepted one is
read at the same instant. Hypothesis checks the landing against the processor per
example (and shrinks a disagreement); every message it drew then goes to Spark in one
job (a Spark job per example costs seconds each), compared message by message.

The messages are valid events of every type with a few fields replaced by what a
lax reader would also take: instants as epoch numbers, digit strings, zone-less or
space-separated times, offsets past 18:00, impossible dates; counts as floats,
strings or booleans; amounts as strings; ids in other UUID forms; wrong JSON types,
missing and extra keys; and byte-level flaws (a key twice, NUL, a lone surrogate,
invalid UTF-8, trailing text). ``YTEMPIRE_CONTRACT_EXAMPLES`` (default 150) sets
how many batches hypothesis draws; unset, the draws are the same on every run.
"""

from __future__ import annotations

import json
import os
import string
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import types as T

from ingestion.kafka_events.helpers import EVENTS_TUPLE_ORDER, split_page
from streaming import processor
from streaming.windows import is_valid, parse_events
from tests.consumed import binary_row, consumed_message
from ytempire.events import BIGINT_MAX, Rejected

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

# --- valid events ---------------------------------------------------------------------------

ID_CHARS = string.ascii_letters + string.digits + "_-"
channel_ids = st.text(ID_CHARS, min_size=22, max_size=22).map(lambda s: "UC" + s)
youtube_ids = st.text(ID_CHARS, min_size=11, max_size=11)
texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), min_size=1)
counts = st.integers(0, BIGINT_MAX)
# years 1 to 9999 (an offset may carry one past either end in UTC: refused by all three),
# leap days included
instants = st.datetimes(
    min_value=datetime(1, 1, 1),
    max_value=datetime(9999, 12, 31, 23, 59, 59, 999999),
    timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=9, minutes=45))]
    ),
)


def _iso(moment: datetime, digits: int = 6, zone: str | None = None) -> str:
    text = f"{moment.year:04d}" + moment.strftime("-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{moment.microsecond:06d}{'0' * 3}"[:digits]
    offset = moment.utcoffset() or timedelta(0)
    if zone is None:
        minutes = int(offset.total_seconds() // 60)
        zone = (
            "Z"
            if minutes == 0
            else f"{'+' if minutes > 0 else '-'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
        )
    return text + zone


PAYLOADS: dict[str, Any] = {
    "video_generated": st.fixed_dictionaries(
        {
            "title": texts.filter(lambda t: len(t) <= 200),
            "duration_seconds": st.integers(30, 3600),
            "generation_cost_usd": st.floats(0, 3),
            "niche": texts.filter(lambda t: len(t) <= 64),
        }
    ),
    "video_uploaded": st.fixed_dictionaries({"youtube_video_id": youtube_ids}),
    "video_published": st.fixed_dictionaries(
        {"youtube_video_id": youtube_ids, "published_at": instants.map(_iso)}
    ),
    "metrics_update": st.fixed_dictionaries(
        {
            "youtube_video_id": youtube_ids,
            "views": counts,
            "likes": counts,
            "comments": counts,
            "shares": counts,
            "watch_time_minutes": st.floats(0, 999_999_999_999),
            "revenue_usd": st.floats(0, 99_999_999_999_999),
        }
    ),
    "quality_check": st.fixed_dictionaries({"quality_score": st.floats(0, 100)}),
    "channel_created": st.fixed_dictionaries(
        {
            "title": texts.filter(lambda t: len(t) <= 200),
            "niche": texts.filter(lambda t: len(t) <= 64),
            "status": st.sampled_from(["active", "paused", "archived"]),
        }
    ),
    "user_action": st.fixed_dictionaries(
        {
            "user_id": texts.filter(lambda t: len(t) <= 64),
            "action": texts.filter(lambda t: len(t) <= 64),
        }
    ),
}
PAYLOADS["channel_updated"] = PAYLOADS["channel_created"]
PAYLOADS["user_signed_up"] = PAYLOADS["user_action"]
VIDEO_TYPES = {
    "video_generated",
    "video_uploaded",
    "video_published",
    "metrics_update",
    "quality_check",
}


@st.composite
def valid_events(draw: st.DrawFn) -> dict[str, Any]:
    event_type = draw(st.sampled_from(sorted(PAYLOADS)))
    event: dict[str, Any] = {
        "event_id": str(draw(st.uuids())),
        "event_type": event_type,
        "occurred_at": draw(instants.map(_iso)),
        "channel_id": draw(channel_ids),
        "payload": draw(PAYLOADS[event_type]),
    }
    if draw(st.booleans()):
        event["schema_version"] = 1
    if event_type in VIDEO_TYPES or draw(st.booleans()):
        event["video_id"] = (
            str(draw(st.uuids())) if event_type in VIDEO_TYPES or draw(st.booleans()) else None
        )
    return event


# --- what a lax reader would also take ------------------------------------------------------

epochs = st.integers(-(10**13), 10**13)
lax_instants = st.one_of(
    epochs,
    epochs.map(str),
    st.floats(allow_nan=False, allow_infinity=False),
    instants.map(lambda m: _iso(m, zone="")),  # no zone
    instants.map(lambda m: _iso(m).replace("T", " ")),
    instants.map(lambda m: _iso(m).replace("T", "t").replace("Z", "z")),
    instants.map(lambda m: _iso(m, digits=0)),  # no fraction: valid
    st.tuples(instants, st.integers(1, 9)).map(lambda t: _iso(t[0], digits=t[1])),
    st.tuples(instants, st.integers(-24 * 60 + 1, 24 * 60 - 1)).map(
        lambda t: _iso(
            t[0].replace(tzinfo=None),
            zone=f"{'+' if t[1] >= 0 else '-'}{abs(t[1]) // 60:02d}:{abs(t[1]) % 60:02d}",
        )
    ),
    instants.map(lambda m: _iso(m).replace("+05:30", "+0530").replace("-09:45", "-0945")),
    instants.map(lambda m: _iso(m)[:16] + "Z"),  # no seconds
    instants.map(lambda m: _iso(m)[:10]),  # a date alone
    st.sampled_from(
        [
            "2026-02-30T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2028-02-29T12:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T23:59:60Z",
            "0000-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00:00-01:00",
            "9999-12-31T23:59:59Z",
            "9999-12-31T23:59:59-01:00",
            "2026-01-01T00:00:00+18:00",
            "2026-01-01T00:00:00-18:00",
            "2026-01-01T00:00:00+18:01",
            "2026-01-01T00:00:00.5Z",
            "2026-01-01T00:00:00,5Z",
            "2026-01-01T00:00:00Z\n",
            " 2026-01-01T00:00:00Z",
            "1767225600",
            "",
        ]
    ),
)
lax_integers = st.one_of(
    st.integers(-(2**65), 2**65),
    st.sampled_from([BIGINT_MAX, BIGINT_MAX + 1, -1, 0, 29, 30, 3600, 3601]),
    st.integers(-1000, 1000).map(float),
    st.integers(0, 1000).map(str),
    st.booleans(),
)
lax_numbers = st.one_of(
    st.floats(),
    st.integers(-(2**70), 2**70),
    st.floats(0, 100).map(str),
    st.booleans(),
    st.sampled_from([1e14, 99_999_999_999_999.0, 1e12, 999_999_999_999, 3.0000001, 100.0, -0.0]),
)
lax_uuids = st.one_of(
    st.uuids().map(str),
    st.uuids().map(lambda u: str(u).upper()),
    st.uuids().map(lambda u: u.hex),
    st.uuids().map(lambda u: "{" + str(u) + "}"),
    st.uuids().map(lambda u: u.urn),
    st.uuids().map(lambda u: str(u)[:-1] + "g"),
    st.integers(),
)
lax_texts = st.one_of(
    st.text(max_size=260),
    st.integers(),
    st.text(ID_CHARS, min_size=10, max_size=12),
    st.text(ID_CHARS, min_size=21, max_size=23).map(lambda s: "UC" + s),
    channel_ids.map(lambda c: c + "\n"),
    st.sampled_from(["active", "Active", "deleted", "", "x\x00y"]),
)
anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)

LAX_BY_FIELD = {
    "occurred_at": lax_instants,
    "published_at": lax_instants,
    "event_id": lax_uuids,
    "video_id": st.one_of(lax_uuids, st.none()),
    "schema_version": st.sampled_from([1, 1.0, "1", True, 2, 0, None]),
    "event_type": st.one_of(st.sampled_from(sorted(PAYLOADS)), st.text(max_size=15)),
    "channel_id": lax_texts,
    "youtube_video_id": lax_texts,
    "title": lax_texts,
    "niche": lax_texts,
    "status": lax_texts,
    "user_id": lax_texts,
    "action": lax_texts,
    "views": lax_integers,
    "likes": lax_integers,
    "comments": lax_integers,
    "shares": lax_integers,
    "duration_seconds": lax_integers,
    "watch_time_minutes": lax_numbers,
    "revenue_usd": lax_numbers,
    "generation_cost_usd": lax_numbers,
    "quality_score": lax_numbers,
}


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    """A valid event, then a few replaced, dropped or added fields, then maybe a byte flaw."""
    event = draw(valid_events())
    for _ in range(draw(st.integers(0, 3))):
        target = draw(st.sampled_from(["envelope", "payload"]))
        node = (
            event
            if target == "envelope" or not isinstance(event.get("payload"), dict)
            else event["payload"]
        )
        action = draw(st.sampled_from(["replace", "replace", "replace", "drop", "add", "anything"]))
        if action == "add":
            node[draw(st.text(max_size=8))] = draw(anything)
            continue
        if not node:
            continue
        name = draw(st.sampled_from(sorted(node)))
        if action == "drop":
            del node[name]
        elif action == "anything":
            node[name] = draw(anything)
        elif name in LAX_BY_FIELD:
            node[name] = draw(LAX_BY_FIELD[name])
    text = json.dumps(event, ensure_ascii=draw(st.booleans()), allow_nan=True)
    flaw = draw(
        st.sampled_from(
            ["none"] * 12
            + ["duplicate key", "nul", "lone surrogate", "surrogate pair", "invalid utf-8"]
            + ["trailing text", "whitespace", "bom", "array", "nan", "empty"]
        )
    )
    if flaw == "duplicate key":
        first = draw(st.sampled_from(sorted(event))) if event else "x"
        text = "{" + json.dumps(first) + ": " + json.dumps(draw(anything)) + ", " + text[1:]
    elif flaw == "nul" and '": "' in text:
        text = text.replace('": "', '": "\\u0000', 1)
    elif flaw == "lone surrogate" and '": "' in text:
        text = text.replace('": "', '": "\\ud83d', 1)
    elif flaw == "surrogate pair" and '": "' in text:
        text = text.replace('": "', '": "\\ud83d\\ude00', 1)
    elif flaw == "trailing text":
        text += draw(st.sampled_from([" x", "}", " ", "\n", "{}"]))
    elif flaw == "whitespace":
        text = " \n\t" + text + " \r\n"
    elif flaw == "bom":
        text = "\ufeff" + text
    elif flaw == "array":
        text = "[" + text + "]"
    elif flaw == "nan":
        text = text.replace("1", "NaN", 1) if '": 1' in text else text
    elif flaw == "empty":
        text = ""
    raw = text.encode("utf-8", "surrogatepass")
    if flaw == "invalid utf-8":
        raw = raw.replace(b'": "', b'": "\xff', 1)
    return raw


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
