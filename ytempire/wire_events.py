"""The event contract's fast path: an event's fields straight from its bytes, with msgspec.

:func:`ytempire.events.parse_event` validates a message into the contract's pydantic
models: 4.5 us a message, the largest part of what the landing spends on an event
outside PostgreSQL. The landing needs only the fields, to write them as they are.
:func:`read_wire_event` decodes the message with msgspec Structs that mirror those
models field by field and rule by rule (the same patterns, bounds, strict types,
forbidden extra keys, the ``event_type`` tag, the defaults): 3.6 us a message, fields
and payload JSON included, against 4.5 us for ``parse_event`` and ~0.8 more to write its
payload back as JSON (50k demo events in memory).

It is a fast path, never a second verdict: it returns ``None`` for anything it does
not accept, and the caller asks :func:`~ytempire.events.parse_event` for the verdict and
its reason. So what it accepts must be accepted by the contract, field for field:

* patterns end in ``\\Z``: the contract's ``$`` (Rust's regex, in pydantic-core) matches
  only at the end, Python's also before a final newline; the envelope's four patterned
  fields are checked together, in one ``fullmatch`` of their text joined by ``\\x1f``;
* a NUL (``\\u0000``) can get through only inside a field of free text (the patterns, the
  enum, the tag and every key refuse it): a message of a payload with such a field that
  spells NUL anywhere goes to the contract, which rejects it where it is text;
* a key given twice: msgspec checks each value against the field's type and keeps the
  last, as the contract reads the last one; a value of the wrong type refuses it;
* a number whose integer part has more than 4,300 digits is refused by the contract's JSON
  parser (jiter: ``number out of range``, a fixed limit, even as ``1000...0e-4300`` = 1.0),
  read by msgspec: a message longer than :data:`LONGEST_FAST` bytes, which any such number
  makes it, goes to the contract (every valid event written compactly is shorter, even
  with its texts \\u-escaped: ``test_the_longest_valid_event_is_on_the_fast_path``);
* a message nested deeper than Python's recursion limit (msgspec's RecursionError,
  met where it skips values before the tag) goes to the contract (json_invalid);
* an instant is checked against the contract's pattern, then read by
  :meth:`datetime.fromisoformat`, which refuses what the pattern lets through and is
  no date (February 30th, hour 24, second 60); one whose UTC falls outside years 1 to
  9999 goes to the contract (its ``instant_range``).

Agreement is tested, not assumed (``tests/events/test_wire_events.py``): every message of
the contract tests' generated families (``tests/event_messages.py``), a NUL in every text
field of every event type and a table of byte-level edge cases get the same verdict both
ways, and an accepted one the same fields and the same payload bytes as the contract's
models serialised (``payload``: the payload object as pydantic writes it, instants in UTC).
A rule added to the contract's models without its mirror here fails
``test_mirrors_every_model``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal, Union, get_type_hints

import msgspec
from msgspec import Meta, Struct

from ytempire.events import (
    BIGINT_MAX,
    CHANNEL_ID_PATTERN,
    MONEY_MAX,
    UUID_PATTERN,
    WATCH_TIME_MAX,
    YOUTUBE_VIDEO_ID_PATTERN,
    Event,
)
from ytempire.timestamps import INSTANT_PATTERN


def _to_end(pattern: str) -> str:
    """``pattern`` (``^...$``) anchored at the very end, as the contract's regex engine does."""
    if not pattern.endswith("$"):
        raise ValueError(f"expected a pattern anchored with $: {pattern!r}")
    return pattern[:-1] + r"\Z"


def _checked_apart(pattern: str) -> Meta:
    """The contract's ``pattern`` of an envelope field, in the JSON Schema only: msgspec
    calls Python's ``re`` once per patterned field (~0.4 us each); :func:`read_wire_event`
    checks the envelope's four in one call instead (:data:`_ENVELOPE_TEXT`, ~0.6 us)."""
    return Meta(extra_json_schema={"pattern": pattern})


YouTubeVideoId = Annotated[str, Meta(pattern=_to_end(YOUTUBE_VIDEO_ID_PATTERN))]
Instant = Annotated[str, Meta(pattern=_to_end(INSTANT_PATTERN))]
EnvelopeUuid = Annotated[str, _checked_apart(UUID_PATTERN)]
EnvelopeInstant = Annotated[str, _checked_apart(INSTANT_PATTERN)]
EnvelopeChannelId = Annotated[str, _checked_apart(CHANNEL_ID_PATTERN)]
# event_id, occurred_at, channel_id and, when the message gives one, video_id, joined by
# \x1f, which no field's pattern takes: the text matches only with one separator between
# each two fields, each field matching its own pattern. An absent video_id adds no
# separator, so a given one is always checked, an empty one ("") too: the contract refuses
# it. (fullmatch ends at the very end, as the contract's $ does.)
_ENVELOPE_TEXT = re.compile(
    "\x1f".join(p[1:-1] for p in (UUID_PATTERN, INSTANT_PATTERN, CHANNEL_ID_PATTERN))
    + f"(?:\x1f{UUID_PATTERN[1:-1]})?"
).fullmatch
Count = Annotated[int, Meta(ge=0, le=BIGINT_MAX)]
Title = Annotated[str, Meta(min_length=1, max_length=200)]
Niche = Annotated[str, Meta(min_length=1, max_length=64)]
Name = Annotated[str, Meta(min_length=1, max_length=64)]


# msgspec is strict by default, as the contract's fields are: an int field takes only a
# JSON integer (not 5.0 nor true), a float field a JSON number, a str field a string;
# NaN and Infinity are not JSON. ``kw_only`` (which each class sets for its own fields) lets
# a required field follow a default.
class _Strict(Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class VideoGenerated(_Strict):
    title: Title
    duration_seconds: Annotated[int, Meta(ge=30, le=3600)]
    generation_cost_usd: Annotated[float, Meta(ge=0, le=3)]
    niche: Niche


class VideoUploaded(_Strict):
    youtube_video_id: YouTubeVideoId


class VideoPublished(_Strict):
    youtube_video_id: YouTubeVideoId
    published_at: Instant


class MetricsUpdate(_Strict):
    youtube_video_id: YouTubeVideoId
    views: Count
    likes: Count
    comments: Count
    shares: Count
    watch_time_minutes: Annotated[float, Meta(ge=0, le=WATCH_TIME_MAX)]
    revenue_usd: Annotated[float, Meta(ge=0, le=MONEY_MAX)]


class QualityCheck(_Strict):
    quality_score: Annotated[float, Meta(ge=0, le=100)]


class ChannelChange(_Strict):
    title: Title
    niche: Niche
    status: Literal["active", "paused", "archived"]


class UserAction(_Strict):
    user_id: Name
    action: Name


class _Envelope(_Strict, tag_field="event_type", kw_only=True):
    event_id: EnvelopeUuid
    schema_version: Literal[1] = 1
    occurred_at: EnvelopeInstant
    channel_id: EnvelopeChannelId
    video_id: EnvelopeUuid | None = None


class _VideoEnvelope(_Envelope, kw_only=True):
    video_id: EnvelopeUuid  # required for video events, as in the contract


class VideoGeneratedEvent(_VideoEnvelope, tag="video_generated", kw_only=True):
    payload: VideoGenerated


class VideoUploadedEvent(_VideoEnvelope, tag="video_uploaded", kw_only=True):
    payload: VideoUploaded


class VideoPublishedEvent(_VideoEnvelope, tag="video_published", kw_only=True):
    payload: VideoPublished


class MetricsUpdateEvent(_VideoEnvelope, tag="metrics_update", kw_only=True):
    payload: MetricsUpdate


class QualityCheckEvent(_VideoEnvelope, tag="quality_check", kw_only=True):
    payload: QualityCheck


class ChannelCreatedEvent(_Envelope, tag="channel_created"):
    payload: ChannelChange


class ChannelUpdatedEvent(_Envelope, tag="channel_updated"):
    payload: ChannelChange


class UserSignedUpEvent(_Envelope, tag="user_signed_up"):
    payload: UserAction


class UserActionEvent(_Envelope, tag="user_action"):
    payload: UserAction


WIRE_EVENT_TYPES: dict[str, type[_Envelope]] = {
    str(cls.__struct_config__.tag): cls
    for cls in (
        VideoGeneratedEvent,
        VideoUploadedEvent,
        VideoPublishedEvent,
        MetricsUpdateEvent,
        QualityCheckEvent,
        ChannelCreatedEvent,
        ChannelUpdatedEvent,
        UserSignedUpEvent,
        UserActionEvent,
    )
}
_DECODE = msgspec.json.Decoder(Union[tuple(WIRE_EVENT_TYPES.values())]).decode  # noqa: UP007
_ENCODE = msgspec.json.Encoder().encode
# The contract's JSON parser (jiter) refuses a number with more than 4,300 integer digits
# ("number out of range"; its own constant, not Python's int_max_str_digits); msgspec reads
# it. A message that long goes to the contract.
LONGEST_FAST = 4300
_NUL_ESCAPE = b"\\u0000"
# Payloads with a field of free text: only there can a NUL pass the decoder (a patterned
# field, an enum, the tag and every key refuse it), so only their messages are searched.
_FREE_TEXT = frozenset(
    cls
    for cls in {get_type_hints(event)["payload"] for event in WIRE_EVENT_TYPES.values()}
    if any(
        isinstance(f.type, msgspec.inspect.StrType) and f.type.pattern is None
        for f in msgspec.inspect.type_info(cls).fields  # type: ignore[attr-defined]
    )
)


class WireEvent(Struct, frozen=True):
    """An accepted event's fields, as the contract's models give them.

    ``event_id`` and ``video_id`` are the UUIDs' canonical text (lowercase);
    ``occurred_at`` is aware, in UTC; ``payload`` is the payload object as UTF-8
    JSON, byte for byte what pydantic writes for the contract's payload model.
    """

    event_id: str
    event_type: str
    schema_version: int
    occurred_at: datetime
    channel_id: str
    video_id: str | None
    payload: bytes


def _instant(text: str) -> datetime | None:
    """An instant text that matched the contract's pattern, read as UTC; ``None`` when it
    is no date or its UTC falls outside years 1 to 9999."""
    try:
        moment = datetime.fromisoformat(text)
        return moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def read_wire_event(raw: bytes) -> WireEvent | None:
    """The fields of the event ``raw`` holds, or ``None`` when the fast path does not
    accept it (the message then goes to :func:`ytempire.events.parse_event`, whose verdict
    stands). Never raises."""
    if len(raw) > LONGEST_FAST:
        return None
    try:
        event = _DECODE(raw)
    # a ValidationError; invalid UTF-8 in a string; nesting deeper than Python's recursion
    # limit, met where msgspec skips values looking for the tag (the contract: json_invalid)
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None
    payload = event.payload
    video_id = event.video_id
    event_id, occurred_at_text, channel_id = event.event_id, event.occurred_at, event.channel_id
    if _ENVELOPE_TEXT(
        f"{event_id}\x1f{occurred_at_text}\x1f{channel_id}"
        if video_id is None  # one f-string either way: a second costs ~0.1 us
        else f"{event_id}\x1f{occurred_at_text}\x1f{channel_id}\x1f{video_id}"
    ) is None or (type(payload) in _FREE_TEXT and _NUL_ESCAPE in raw):
        return None
    occurred_at = _instant(occurred_at_text)
    if occurred_at is None:
        return None
    if type(payload) is VideoPublished:
        published_at = _instant(payload.published_at)
        if published_at is None:
            return None
        payload_json = _ENCODE(
            {"youtube_video_id": payload.youtube_video_id, "published_at": published_at}
        )
    else:
        payload_json = _ENCODE(payload)
    return WireEvent(
        event_id.lower(),
        event.__struct_config__.tag,
        event.schema_version,
        occurred_at,
        channel_id,
        None if video_id is None else video_id.lower(),
        payload_json,
    )


def wire_event_of(event: Event) -> WireEvent:
    """``event`` (a contract model) as the fast path gives it: for a message the contract
    accepts and the fast path defers (longer than :data:`LONGEST_FAST`, or a key given twice
    whose first value is of the wrong type)."""
    return WireEvent(
        str(event.event_id),
        event.event_type,
        event.schema_version,
        event.occurred_at,
        event.channel_id,
        None if event.video_id is None else str(event.video_id),
        event.payload.__pydantic_serializer__.to_json(event.payload),
    )
