"""The event contract: what validates, what is rejected and how the reason reads."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from ingestion.kafka_events.helpers import (
    DEAD_LETTERS_COLUMNS,
    EVENTS_COLUMNS,
    EVENTS_TUPLE_ORDER,
    quoted,
    split_page,
)
from simulation.traffic import simulated_events
from tests.consumed import binary_row, consumed_message
from ytempire.events import (
    EVENT_TYPES,
    MetricsUpdateEvent,
    Rejected,
    encode,
    new_event,
    parse_event,
)

EVENT_NAMES = [c["name"] for c in EVENTS_COLUMNS]
DEAD_NAMES = [c["name"] for c in DEAD_LETTERS_COLUMNS]
CHANNEL = "UC" + "A" * 22


def _metrics(**payload) -> dict:
    base = {
        "youtube_video_id": "abcdefghijk",
        "views": 10,
        "likes": 1,
        "comments": 0,
        "shares": 0,
        "watch_time_minutes": 2.5,
        "revenue_usd": 0.01,
    }
    event = new_event("metrics_update", CHANNEL, base, video_id=uuid.uuid4())
    data = json.loads(encode(event))
    data["payload"].update(payload)
    return data


def test_simulated_traffic_covers_every_event_type_and_all_of_it_validates():
    seen = set()
    for _, _, value, event_id in simulated_events(5_000, seed=5, channels=40):
        event = parse_event(value)
        assert not isinstance(event, Rejected), event
        assert str(event.event_id) == event_id
        seen.add(event.event_type)
    assert seen == set(EVENT_TYPES) - {"channel_created", "user_signed_up"}


def test_round_trip_keeps_utc_with_z():
    event = parse_event(json.dumps(_metrics()).encode())
    assert isinstance(event, MetricsUpdateEvent)
    assert json.loads(encode(event))["occurred_at"].endswith("Z")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"views": -1}, "metrics_update.payload.views: Input should be greater than or equal to 0"),
        ({"views": "12"}, "metrics_update.payload.views: Input should be a valid integer"),
        ({"youtube_video_id": "short"}, "payload.youtube_video_id: String should match pattern"),
        ({"bonus": 1}, "metrics_update.payload.bonus: Extra inputs are not permitted"),
    ],
)
def test_payload_errors_name_the_field_and_the_rule(change, expected):
    rejected = parse_event(json.dumps(_metrics(**change)).encode())
    assert isinstance(rejected, Rejected)
    assert expected in rejected.reason


def test_envelope_errors_name_the_field_and_the_rule():
    data = _metrics()
    data.update(event_type="video_exploded")
    assert "event_type: " in parse_event(json.dumps(data)).reason
    data = _metrics()
    data.update(schema_version=2, occurred_at="2026-01-01T00:00:00", video_id=None)
    reason = parse_event(json.dumps(data)).reason
    assert "schema_version: Input should be 1 [literal_error]" in reason
    assert "occurred_at: Input should be an ISO-8601 date-time string" in reason
    assert "[instant_format]" in reason
    assert "video_id: Input should be a UUID string" in reason
    assert "[json_invalid]" in parse_event(b"{not json").reason
    assert "tombstone" in parse_event(None).reason


UTC_2026 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("occurred_at", "expected"),
    [
        # the numbers: epoch milliseconds, a string of epoch seconds, 0 (1970)
        (1767225600000, "instant_format"),
        ("1767225600", "instant_format"),
        (0, "instant_format"),
        (1767225600.5, "instant_format"),
        (True, "instant_format"),
        (None, "instant_format"),
        # zone-less, a date alone, a space or lower-case t, no seconds, a basic-format offset
        ("2026-01-01T00:00:00", "instant_format"),
        ("2026-01-01", "instant_format"),
        ("2026-01-01 00:00:00Z", "instant_format"),
        ("2026-01-01t00:00:00z", "instant_format"),
        ("2026-01-01T00:00Z", "instant_format"),
        ("2026-01-01T05:30:00+0530", "instant_format"),
        ("2026-01-01T00:00:00Z\n", "instant_format"),
        # offsets: up to 18:00 either way, read as UTC
        ("2026-01-01T05:30:00+05:30", UTC_2026),
        ("2025-12-31T14:00:00-10:00", UTC_2026),
        ("2026-01-01T18:00:00+18:00", UTC_2026),
        ("2026-01-01T00:00:00+18:01", "instant_format"),
        ("2026-01-01T00:00:00+24:00", "instant_format"),
        ("2026-01-01T00:00:00+05:60", "instant_format"),
        # fractions: 1 to 6 digits (the microsecond every consumer keeps), a point only
        ("2026-01-01T00:00:00.5Z", UTC_2026.replace(microsecond=500_000)),
        ("2026-01-01T00:00:00.000001Z", UTC_2026.replace(microsecond=1)),
        ("2026-01-01T00:00:00.0000001Z", "instant_format"),
        ("2026-01-01T00:00:00,5Z", "instant_format"),
        ("2026-01-01T00:00:00.Z", "instant_format"),
        # calendar: leap days where they exist, no 24:00, no leap second
        ("2028-02-29T12:00:00Z", datetime(2028, 2, 29, 12, tzinfo=UTC)),
        ("2000-02-29T00:00:00Z", datetime(2000, 2, 29, tzinfo=UTC)),
        ("2026-02-29T00:00:00Z", "datetime_from_date_parsing"),
        ("1900-02-29T00:00:00Z", "datetime_from_date_parsing"),
        ("2026-13-01T00:00:00Z", "datetime_from_date_parsing"),
        ("2026-01-01T24:00:00Z", "datetime_from_date_parsing"),
        ("2026-01-01T23:59:60Z", "datetime_from_date_parsing"),
        # years: 1 to 9999 in UTC, what Python, PostgreSQL and Spark all hold
        ("0001-01-01T00:00:00Z", datetime(1, 1, 1, tzinfo=UTC)),
        ("9999-12-31T23:59:59.999999Z", datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("0000-01-01T00:00:00Z", "datetime_parsing"),
        ("0001-01-01T00:30:00+01:00", "instant_range"),
        ("9999-12-31T23:30:00-01:00", "instant_range"),
        ("10000-01-01T00:00:00Z", "instant_format"),
    ],
)
def test_an_instant_is_an_iso_8601_string_with_a_zone_and_nothing_else(occurred_at, expected):
    """Every kind of instant a lax reader would take, for both instants of the contract."""
    envelope, published = _metrics(), _published()
    envelope["occurred_at"] = published["payload"]["published_at"] = occurred_at
    for data, field in ((envelope, "occurred_at"), (published, "published_at")):
        event = parse_event(json.dumps(data).encode())
        if isinstance(expected, datetime):
            assert not isinstance(event, Rejected), event.reason
            read = event.occurred_at if field == "occurred_at" else event.payload.published_at
            assert read == expected
            assert read.utcoffset() == timedelta(0)
        else:
            assert isinstance(event, Rejected)
            assert f"{field}: " in event.reason
            assert f"[{expected}]" in event.reason


def _published() -> dict:
    payload = {"youtube_video_id": "abcdefghijk", "published_at": "2026-01-01T00:00:00Z"}
    event = new_event("video_published", CHANNEL, payload, video_id=uuid.uuid4())
    return json.loads(encode(event))


def test_an_instant_before_year_1000_keeps_four_digits_on_the_wire():
    moment = datetime(5, 6, 7, 8, 9, 10, 11, tzinfo=UTC)
    payload, video = _metrics()["payload"], uuid.uuid4()
    event = new_event("metrics_update", CHANNEL, payload, video_id=video, occurred_at=moment)
    wire = json.loads(encode(event))["occurred_at"]
    assert wire == "0005-06-07T08:09:10.000011Z"
    assert parse_event(encode(event)).occurred_at == moment


def test_a_page_splits_into_events_and_dead_letters_with_original_bytes():
    good = [v for *_, v, _ in simulated_events(3, seed=1)]
    message = consumed_message
    records = [message(0, good[0]), message(1, b"\xff"), message(2, good[1]), message(3, good[0])]
    page = split_page(records, set(), datetime.now(UTC))
    assert sorted(EVENTS_TUPLE_ORDER) == sorted(
        str(name) for name in EVENT_NAMES
    )  # every column, once
    events = [binary_row(row, EVENTS_TUPLE_ORDER) for row in page.events]
    assert [e["kafka_offset"] for e in events] == [0, 2]
    assert json.loads(events[0]["payload"]) == json.loads(good[0])["payload"]
    assert page.duplicates == 1
    dead = [dict(zip(DEAD_NAMES, row, strict=True)) for row in csv.reader(page.dead)]
    assert [(d["kafka_offset"], d["raw_value"]) for d in dead] == [("1", "/w==")]
    assert dead[0]["kafka_timestamp"] == "2023-11-14 22:13:20.000Z"


def test_csv_fields_keep_any_text_of_keys_and_payloads():
    text = 'a,"b"\n\x00c'
    (row,) = csv.reader([f"{quoted(text)},{quoted('')}\n"])
    assert row == ['a,"b"\n\\x00c', ""]
