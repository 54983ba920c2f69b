"""The contract's fast path (``ytempire.wire_events``) never says more than the contract.

What :func:`read_wire_event` accepts, :func:`parse_event` accepts, with the same fields
and the same payload bytes; what it refuses goes to the contract for the verdict. And it
is a fast path in fact: it takes the valid events, not only refuses everything.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.event_messages import messages, valid_events
from ytempire import events as contract
from ytempire import wire_events as wire
from ytempire.events import Rejected, parse_event
from ytempire.wire_events import read_wire_event, wire_event_of

EXAMPLES = int(os.environ.get("YTEMPIRE_CONTRACT_EXAMPLES", "150"))
_SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize="YTEMPIRE_CONTRACT_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _agrees(raw: bytes) -> bool:
    """Assert the fast path says nothing the contract does not; True if it accepted."""
    fast = read_wire_event(raw)
    verdict = parse_event(raw)
    if fast is None:
        return False
    assert not isinstance(verdict, Rejected), (raw, verdict.reason)
    assert fast == wire_event_of(verdict), raw
    return True


@_SETTINGS
@given(st.lists(messages(), min_size=1, max_size=40))
def test_what_the_fast_path_accepts_the_contract_accepts_with_the_same_fields(values):
    for raw in values:
        _agrees(raw)


@_SETTINGS
@given(valid_events(), st.booleans())
def test_the_fast_path_takes_every_valid_event(event, ascii_only):
    raw = json.dumps(event, ensure_ascii=ascii_only).encode()
    # an offset may carry an instant of year 1 or 9999 past either end in UTC (the
    # generator's instants do, on purpose): refused by the contract, deferred here
    assume(not isinstance(parse_event(raw), Rejected))
    assert _agrees(raw), raw


_BASE = {
    "event_id": "6122e3db-c669-4b39-bc65-05f18e0975ed",
    "event_type": "video_published",
    "schema_version": 1,
    "occurred_at": "2026-01-01T05:30:00.250+05:30",
    "channel_id": "UC" + "a" * 22,
    "video_id": "3637dd9b-4906-505d-8870-fe848f7381ac",
    "payload": {"youtube_video_id": "abcdefghijk", "published_at": "2026-01-01T00:00:00Z"},
}
_RAW = json.dumps(_BASE).encode()


# (case, message, accepted by the contract, taken by the fast path)
EDGES = [
    ("valid", _RAW, True, True),
    ("schema_version left out", _RAW.replace(b'"schema_version": 1, ', b""), True, True),
    ("uppercase UUID", _RAW.replace(b"6122e3db", b"6122E3DB"), True, True),
    ("an escaped key", _RAW.replace(b'"channel_id"', b'"channel\\u005fid"'), True, True),
    ("whitespace around", b" \n" + _RAW + b"\r\n", True, True),
    ("offset +18:00", _RAW.replace(b"+05:30", b"+18:00"), True, True),
    (
        "a key twice, the last valid",
        _RAW.replace(b'{"event_id"', b'{"channel_id": 1, "event_id"'),
        True,
        False,
    ),
    (
        "a key twice, the last invalid",
        _RAW[:-1] + b', "channel_id": 1}',
        False,
        False,
    ),
    ("NUL in a text", _RAW.replace(b"abcdefghijk", b"abcdefghij\\u0000"), False, False),
    ("NUL in a key", _RAW.replace(b'"payload"', b'"pay\\u0000load"'), False, False),
    ("lone surrogate", _RAW.replace(b"abcdefghijk", b"abcdefghij\\ud83d"), False, False),
    ("invalid UTF-8", _RAW.replace(b"abcdefghijk", b"abcdefghij\xff"), False, False),
    ("a final newline in published_at", _RAW.replace(b'00:00Z"', b'00:00Z\\n"'), False, False),
    ("a final newline in youtube_video_id", _RAW.replace(b'ijk"', b'ijk\\n"'), False, False),
    (
        "hex UUID",
        _RAW.replace(b"6122e3db-c669-4b39-bc65-05f18e0975ed", uuid.uuid4().hex.encode()),
        False,
        False,
    ),
    ("February 30th", _RAW.replace(b"2026-01-01T00:00:00Z", b"2026-02-30T00:00:00Z"), False, False),
    ("hour 24", _RAW.replace(b"2026-01-01T00:00:00Z", b"2026-01-01T24:00:00Z"), False, False),
    ("second 60", _RAW.replace(b"2026-01-01T00:00:00Z", b"2026-01-01T23:59:60Z"), False, False),
    ("year 0", _RAW.replace(b"2026-01-01T00:00:00Z", b"0000-01-01T00:00:00Z"), False, False),
    (
        "before year 1 in UTC",
        _RAW.replace(b"2026-01-01T00:00:00Z", b"0001-01-01T00:00:00+01:00"),
        False,
        False,
    ),
    (
        "after year 9999 in UTC",
        _RAW.replace(b"2026-01-01T05:30:00.250+05:30", b"9999-12-31T23:59:59-01:00"),
        False,
        False,
    ),
    (
        "schema_version true",
        _RAW.replace(b'"schema_version": 1', b'"schema_version": true'),
        False,
        False,
    ),
    (
        "schema_version 1.0",
        _RAW.replace(b'"schema_version": 1', b'"schema_version": 1.0'),
        False,
        False,
    ),
    ("an extra key", _RAW.replace(b'"payload"', b'"extra": 1, "payload"'), False, False),
    (
        "a video event without video_id",
        _RAW.replace(b'"video_id": "3637dd9b-4906-505d-8870-fe848f7381ac", ', b""),
        False,
        False,
    ),
    *(
        (
            f"a final newline in {field}",
            json.dumps({**_BASE, field: _BASE[field] + "\n"}).encode(),
            False,
            False,
        )
        for field in ("event_id", "occurred_at", "channel_id", "video_id")
    ),
    ("an empty video_id", _RAW.replace(b"3637dd9b-4906-505d-8870-fe848f7381ac", b""), False, False),
    (
        "an empty video_id, a channel event",
        json.dumps(
            {
                **_BASE,
                "event_type": "channel_created",
                "video_id": "",
                "payload": {"title": "t", "niche": "n", "status": "active"},
            }
        ).encode(),
        False,
        False,
    ),
    *(
        (
            f"an amount of {digits} integer digits",
            json.dumps({**_BASE, "event_type": "quality_check", "payload": {"quality_score": 0}})
            .replace('"quality_score": 0', f'"quality_score": 1{"0" * (digits - 1)}e-{digits - 1}')
            .encode(),
            digits <= 4300,  # jiter's limit: number out of range
            False,  # longer than LONGEST_FAST
        )
        for digits in (4300, 4301, 20_000)
    ),
    ("trailing text", _RAW + b" x", False, False),
    ("a BOM", b"\xef\xbb\xbf" + _RAW, False, False),
    ("an array", b"[" + _RAW + b"]", False, False),
    ("empty", b"", False, False),
]


@pytest.mark.parametrize(
    ("raw", "accepted", "fast"), [e[1:] for e in EDGES], ids=[e[0] for e in EDGES]
)
def test_edges(raw, accepted, fast):
    assert (not isinstance(parse_event(raw), Rejected)) is accepted
    assert _agrees(raw) is fast


@pytest.mark.parametrize(
    ("amount", "written"),
    [("2", "2.0"), ("1e0", "1.0"), ("-0.0", "-0.0"), ("3.0000000000000001", "3.0"), ("0.1", "0.1")],
)
def test_amounts_are_written_as_the_contract_writes_them(amount, written):
    event = {**_BASE, "event_type": "quality_check", "payload": {"quality_score": 0}}
    raw = (
        json.dumps(event)
        .encode()
        .replace(b'"quality_score": 0', f'"quality_score": {amount}'.encode())
    )
    fast = read_wire_event(raw)
    assert fast is not None
    assert _agrees(raw)
    assert fast.payload == f'{{"quality_score":{written}}}'.encode()


def test_instants_are_read_as_utc():
    fast = read_wire_event(_RAW)
    assert fast is not None
    assert fast.occurred_at == datetime(2026, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)
    assert fast.occurred_at.utcoffset() == timedelta(0)
    published = _RAW.replace(b"2026-01-01T00:00:00Z", b"2026-01-01T05:30:00.000001+05:30")
    fast = read_wire_event(published)
    assert fast is not None
    assert _agrees(published)
    assert b'"published_at":"2026-01-01T00:00:00.000001Z"' in fast.payload
    assert datetime.fromisoformat("2026-01-01T05:30:00+05:30").tzinfo == timezone(
        timedelta(hours=5, minutes=30)
    )


def _rules(schema: dict[str, Any], defs: dict[str, Any]) -> Any:
    """A JSON Schema reduced to the rules a validator applies: references resolved; titles,
    descriptions and formats dropped; ``const`` as a one-value ``enum``, an ``enum`` sorted
    (then no ``type``);
    a pattern's end anchor as ``$`` (msgspec's ``\\Z`` is Rust's ``$``)."""
    if "$ref" in schema:
        return _rules(defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    out = {k: v for k, v in schema.items() if k not in ("title", "description", "format", "$defs")}
    if "anyOf" in out:
        out["anyOf"] = sorted(
            (_rules(s, defs) for s in out["anyOf"]), key=lambda r: json.dumps(r, sort_keys=True)
        )
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "enum" in out:
        out["enum"] = sorted(out["enum"])
        out.pop("type", None)
    if "pattern" in out:
        out["pattern"] = out["pattern"].removesuffix(r"\Z").removesuffix("$") + "$"
    if "properties" in out:
        out["properties"] = {k: _rules(v, defs) for k, v in out["properties"].items()}
        out["required"] = sorted(out.get("required", []))
    return out


@pytest.mark.parametrize("event_type", sorted(contract.EVENT_TYPES))
def test_mirrors_every_model(event_type):
    """Each event type's envelope and payload, as JSON Schema: the same fields, required
    ones, types, bounds, patterns, enums and defaults, no extra keys, in both."""
    model = contract.EVENT_TYPES[event_type].model_json_schema()
    mirror = msgspec.json.schema(wire.WIRE_EVENT_TYPES[event_type])
    assert _rules(mirror, mirror["$defs"]) == _rules(model, model.get("$defs", {}))


# one valid payload of each event type
PAYLOADS: dict[str, dict[str, Any]] = {
    "video_generated": {
        "title": "t",
        "duration_seconds": 60,
        "generation_cost_usd": 1,
        "niche": "n",
    },
    "video_uploaded": {"youtube_video_id": "abcdefghijk"},
    "video_published": {
        "youtube_video_id": "abcdefghijk",
        "published_at": "2026-01-01T00:00:00Z",
    },
    "metrics_update": {
        "youtube_video_id": "abcdefghijk",
        **dict.fromkeys(("views", "likes", "comments", "shares"), 1),
        "watch_time_minutes": 1,
        "revenue_usd": 1,
    },
    "quality_check": {"quality_score": 1},
    "channel_created": {"title": "t", "niche": "n", "status": "active"},
    "channel_updated": {"title": "t", "niche": "n", "status": "active"},
    "user_action": {"user_id": "u", "action": "a"},
    "user_signed_up": {"user_id": "u", "action": "a"},
}


def _text_fields(event: dict[str, Any]) -> list[tuple[str, ...]]:
    """Paths of every string value of ``event`` (envelope and payload)."""
    paths: list[tuple[str, ...]] = [(k,) for k, v in event.items() if isinstance(v, str)]
    return paths + [("payload", k) for k, v in event["payload"].items() if isinstance(v, str)]


@pytest.mark.parametrize("event_type", sorted(contract.EVENT_TYPES))
@pytest.mark.parametrize("spelled", ["\x00", "\x1f", "\n"])
def test_a_nul_the_separator_or_a_newline_in_any_text_is_left_to_the_contract(event_type, spelled):
    """NUL in any string of any event type: refused by both (the contract: unstorable).
    The envelope check's separator, \\x1f, and a newline, first or last in any string:
    never accepted by the fast path where the contract refuses it."""
    event = {**_BASE, "event_type": event_type, "payload": PAYLOADS[event_type]}
    assert _agrees(json.dumps(event).encode())
    for path in _text_fields(event):
        spoiled = json.loads(json.dumps(event))
        node = spoiled if len(path) == 1 else spoiled["payload"]
        for at in (0, len(node[path[-1]])):  # first and last
            text = node[path[-1]]
            node[path[-1]] = text[:at] + spelled + text[at:]
            raw = json.dumps(spoiled).encode()
            _agrees(raw)
            if spelled == "\x00":
                assert read_wire_event(raw) is None, path
                assert isinstance(parse_event(raw), Rejected), path
            node[path[-1]] = text


@pytest.mark.parametrize("event_type", sorted(contract.EVENT_TYPES))
@pytest.mark.parametrize("blank", ["", " ", "\x1f"])
def test_an_empty_or_blank_string_in_any_field(event_type, blank):
    """Every string of every event type replaced by ``blank``: the fast path never accepts
    what the contract refuses, and "" is refused by both (a pattern, a minimum length or an
    enum). A ``video_id`` of "" once passed the envelope check, whose video part was
    optional."""
    event = {**_BASE, "event_type": event_type, "payload": PAYLOADS[event_type]}
    for path in _text_fields(event):
        spoiled = json.loads(json.dumps(event))
        (spoiled if len(path) == 1 else spoiled["payload"])[path[-1]] = blank
        raw = json.dumps(spoiled).encode()
        _agrees(raw)
        if blank == "":
            assert read_wire_event(raw) is None, path
            assert isinstance(parse_event(raw), Rejected), path


# past Python's recursion limit; as an array (2 bytes a level) within LONGEST_FAST, so
# msgspec reads it; as an object (6 bytes a level) longer, so the length gate defers it
_DEEP = sys.getrecursionlimit() + 200


@pytest.mark.parametrize(
    ("opening", "closing"), [("[" * _DEEP, "]" * _DEEP), ('{"a":' * _DEEP + "1", "}" * _DEEP)]
)
@pytest.mark.parametrize("where", ["an unknown key first", "the payload first", "last"])
def test_a_deeply_nested_message_is_left_to_the_contract(opening, closing, where):
    """msgspec skips the values before the tag and raises RecursionError past Python's
    recursion limit: the fast path defers, the contract refuses (json_invalid)."""
    deep = f"{opening}{closing}"
    event = {**_BASE, "payload": PAYLOADS["video_published"]}
    if where == "an unknown key first":
        raw = f'{{"x":{deep},{json.dumps(event)[1:]}'.encode()
    elif where == "the payload first":
        del event["payload"]
        raw = f'{{"payload":{deep},{json.dumps(event)[1:]}'.encode()
    else:
        raw = f'{json.dumps(event)[:-1]},"x":{deep}}}'.encode()
    assert (len(raw) <= wire.LONGEST_FAST) is (opening[0] == "[")
    assert read_wire_event(raw) is None
    verdict = parse_event(raw)
    assert isinstance(verdict, Rejected)
    assert "[json_invalid]" in verdict.reason


def test_the_longest_valid_event_is_on_the_fast_path():
    """Every text at its longest, of astral characters written as \\u escapes (12 bytes
    each): still within LONGEST_FAST, so the length gate defers no valid event written
    compactly."""
    astral = "\U0001f600"
    longest = {
        "video_generated": {
            **PAYLOADS["video_generated"],
            "title": astral * 200,
            "niche": astral * 64,
            "generation_cost_usd": 2.2250738585072014e-308,
        },
        "channel_updated": {"title": astral * 200, "niche": astral * 64, "status": "archived"},
        "user_action": {"user_id": astral * 64, "action": astral * 64},
    }
    for event_type, payload in longest.items():
        event = {**_BASE, "event_type": event_type, "payload": payload}
        raw = json.dumps(event, separators=(",", ":")).encode()
        assert len(raw) <= wire.LONGEST_FAST, (event_type, len(raw))
        assert _agrees(raw), event_type
