"""Generated event messages for the contract's tests: valid events of every type, then
fields replaced by what a lax reader would also take, and byte-level flaws.

The messages are valid events of every type with a few fields replaced by what a
lax reader would also take: instants as epoch numbers, digit strings, zone-less or
space-separated times, offsets past 18:00, impossible dates; counts as floats,
strings or booleans; amounts as strings; ids in other UUID forms; wrong JSON types,
missing and extra keys; and byte-level flaws (a key twice, NUL, a lone surrogate,
invalid UTF-8, trailing text). :func:`messages` draws one message (bytes).
"""

from __future__ import annotations

import json
import string
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

from ytempire.events import BIGINT_MAX

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
    st.sampled_from(["", " "]),
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
