"""The event contract: what validates, what is rejected and how the reason reads."""

from __future__ import annotations

import csv
import json
import uuid
from datetime import UTC, datetime

import pytest

from ingestion.kafka_events.helpers import (
    DEAD_LETTERS_COLUMNS,
    EVENTS_COLUMNS,
    quoted,
    split_page,
)
from simulation.traffic import simulated_events
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
    assert "occurred_at: Input should have timezone info [timezone_aware]" in reason
    assert "video_id: " in reason
    assert "[json_invalid]" in parse_event(b"{not json").reason
    assert "tombstone" in parse_event(None).reason


def test_a_page_splits_into_events_and_dead_letters_with_original_bytes():
    class R:
        def __init__(self, offset, value):
            self.topic, self.partition, self.offset = "t", 0, offset
            self.key, self.value, self.timestamp = None, value, 1_700_000_000_000

    good = [v for *_, v, _ in simulated_events(3, seed=1)]
    records = [R(0, good[0]), R(1, b"\xff"), R(2, good[1]), R(3, good[0])]
    page = split_page(records, set(), datetime.now(UTC))
    events = [dict(zip(EVENT_NAMES, row, strict=True)) for row in csv.reader(page.events)]
    assert [e["kafka_offset"] for e in events] == ["0", "2"]
    assert json.loads(events[0]["payload"]) == json.loads(good[0])["payload"]
    assert page.duplicates == 1
    dead = [dict(zip(DEAD_NAMES, row, strict=True)) for row in csv.reader(page.dead)]
    assert [(d["kafka_offset"], d["raw_value"]) for d in dead] == [("1", "/w==")]
    assert dead[0]["kafka_timestamp"] == "2023-11-14 22:13:20.000Z"


def test_csv_fields_keep_any_text_of_keys_and_payloads():
    text = 'a,"b"\n\x00c'
    (row,) = csv.reader([f"{quoted(text)},{quoted('')}\n"])
    assert row == ['a,"b"\n\\x00c', ""]
