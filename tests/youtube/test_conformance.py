"""The Data API simulator accepts and answers what the real API does (its discovery document).

Every collector test trusts the simulator's answers, so each check here reads
the rule from ``youtube.v3.json`` (required and repeated parameters, ranges,
enums, the parts a resource has, the response schemas) or from Google's
documented error reasons (developers.google.com/youtube/v3/docs/errors and
core_errors), never from the simulator. The Reporting and Analytics
simulators have checks of their own in ``test_owner_conformance.py``.
"""

from __future__ import annotations

import pytest

from simulation import ids
from tests.youtube.conformance import (
    Answer,
    call,
    document,
    parameters,
    schema_parts,
    schema_problems,
)
from tests.youtube.conftest import DAY1

SERVICE = ("youtube", "v3")
KEY = ("key", "test-key")
RESOURCES = {  # method -> (path, the resource schema, the list response schema)
    "channels.list": ("youtube/v3/channels", "Channel", "ChannelListResponse"),
    "videos.list": ("youtube/v3/videos", "Video", "VideoListResponse"),
    "playlistItems.list": ("youtube/v3/playlistItems", "PlaylistItem", "PlaylistItemListResponse"),
    "search.list": ("youtube/v3/search", "SearchResult", "SearchListResponse"),
}
# the schema's words for a part only the resource's owner may read (403 forbidden otherwise)
OWNER_ONLY = "can only be retrieved by the video owner"


def _owner_only(schema: str) -> set[str]:
    props = document(*SERVICE)["schemas"][schema]["properties"]
    return {p for p, spec in props.items() if OWNER_ONLY in spec.get("description", "")}


def _filters(sim, method: str) -> list[tuple[str, str]]:
    """A filter naming two real resources, as two values of the repeated parameter if it is one."""
    net = sim.network
    if method == "channels.list":
        return [("id", net.channels[0].channel_id), ("id", net.channels[1].channel_id)]
    if method == "videos.list":
        return [("id", net.video(0, 0).video_id), ("id", net.video(0, 1).video_id)]
    if method == "playlistItems.list":
        return [("playlistId", net.channels[0].uploads_playlist_id)]
    return [("channelId", net.channels[0].channel_id)]


def _get(sim, method: str, params: list[tuple[str, str]], key: tuple[str, str] | None = KEY):
    return call(sim.url, RESOURCES[method][0], [*params, *([key] if key else [])])


def _is_error(answer: Answer, status: int, reason: str, domain: str, location: str | None):
    body = answer.json or {}
    assert answer.status == status, answer
    assert body["error"]["code"] == status, answer
    assert body["error"]["message"], answer
    error = answer.error
    assert (error.get("reason"), error.get("domain")) == (reason, domain), answer
    if location is not None:
        assert (error.get("location"), error.get("locationType")) == (location, "parameter"), answer


# --- parameters ---------------------------------------------------------------------------


@pytest.mark.parametrize("method", RESOURCES)
def test_missing_part_is_required(simulator, method):
    assert parameters(*SERVICE, method)["part"]["required"]
    answer = _get(simulator, method, _filters(simulator, method))
    _is_error(answer, 400, "required", "global", "part")


@pytest.mark.parametrize("method", RESOURCES)
def test_repeated_part_keeps_every_value(simulator, method):
    assert parameters(*SERVICE, method)["part"]["repeated"]
    first, second = {"search.list": ("id", "snippet")}.get(method, ("snippet", "contentDetails"))
    answer = _get(
        simulator, method, [("part", first), ("part", second), *_filters(simulator, method)]
    )
    assert answer.status == 200, answer
    items = answer.json["items"]
    assert items, answer
    assert all(first in i and second in i for i in items), answer


@pytest.mark.parametrize("method", ["channels.list", "videos.list", "playlistItems.list"])
def test_repeated_id_keeps_every_value(simulator, method):
    assert parameters(*SERVICE, method)["id"]["repeated"]
    if method == "playlistItems.list":
        listed = _get(simulator, method, [("part", "id"), *_filters(simulator, method)])
        wanted = [i["id"] for i in listed.json["items"][:2]]
    else:
        wanted = [v for _, v in _filters(simulator, method)]
    answer = _get(simulator, method, [("part", "id"), *(("id", w) for w in wanted)])
    assert answer.status == 200, answer
    assert sorted(i["id"] for i in answer.json["items"]) == sorted(wanted), answer


@pytest.mark.parametrize("method", RESOURCES)
def test_max_results_outside_its_range_is_refused(simulator, method):
    spec = parameters(*SERVICE, method)["maxResults"]
    low, high = int(spec["minimum"]), int(spec["maximum"])
    for value in (low - 1, high + 1):
        params = [("part", "id"), ("maxResults", str(value)), *_filters(simulator, method)]
        _is_error(_get(simulator, method, params), 400, "invalidParameter", "global", "maxResults")


@pytest.mark.parametrize("method", RESOURCES)
def test_max_results_at_its_bounds_is_accepted(simulator, method):
    spec = parameters(*SERVICE, method)["maxResults"]
    for value in (spec["minimum"], spec["maximum"]):
        params = [("part", "id"), ("maxResults", str(value)), *_filters(simulator, method)]
        assert _get(simulator, method, params).status == 200, (value, method)


@pytest.mark.parametrize("method", ["videos.list", "search.list"])
def test_enum_parameters_refuse_other_values(simulator, method):
    enums = {n: p for n, p in parameters(*SERVICE, method).items() if "enum" in p}
    assert enums
    for name in enums:
        params = [("part", "id"), (name, "notAValue"), *_filters(simulator, method)]
        _is_error(_get(simulator, method, params), 400, "invalidParameter", "global", name)


@pytest.mark.parametrize("method", RESOURCES)
def test_fields_selects_what_the_answer_holds(simulator, method):
    params = [("part", "snippet"), ("fields", "items(id,snippet/title),pageInfo/totalResults")]
    answer = _get(simulator, method, [*params, *_filters(simulator, method)])
    assert answer.status == 200, answer
    assert set(answer.json) == {"items", "pageInfo"}, answer
    assert set(answer.json["pageInfo"]) == {"totalResults"}, answer
    for item in answer.json["items"]:
        assert set(item) == {"id", "snippet"}, item
        assert set(item["snippet"]) == {"title"}, item


@pytest.mark.parametrize("method", RESOURCES)
def test_fields_naming_nothing_of_the_schema_is_refused(simulator, method):
    params = [("part", "id"), ("fields", "items(notAField)"), *_filters(simulator, method)]
    _is_error(_get(simulator, method, params), 400, "invalidParameter", "global", "fields")


# --- parts ----------------------------------------------------------------------------------


@pytest.mark.parametrize("method", RESOURCES)
def test_every_part_of_the_resource_is_accepted(simulator, method):
    owner_only = _owner_only(RESOURCES[method][1])
    parts = [p for p in schema_parts(*SERVICE, RESOURCES[method][1]) if p not in owner_only]
    answer = _get(simulator, method, [("part", ",".join(parts)), *_filters(simulator, method)])
    assert answer.status == 200, answer
    assert not schema_problems(answer.json, RESOURCES[method][2], *SERVICE), answer


def test_owner_only_parts_are_forbidden_to_an_api_key(simulator):
    assert {"fileDetails", "processingDetails", "suggestions"} <= _owner_only("Video")
    for part in sorted(_owner_only("Video")):
        params = [("part", part), *_filters(simulator, "videos.list")]
        _is_error(_get(simulator, "videos.list", params), 403, "forbidden", "youtube.video", None)


def test_status_branding_and_live_details_are_served(simulator):
    net = simulator.network
    channel = _get(
        simulator,
        "channels.list",
        [("part", "status,brandingSettings"), ("id", net.channels[0].channel_id)],
    )
    item = channel.json["items"][0]
    assert item["status"]["privacyStatus"] == "public"
    assert item["brandingSettings"]["channel"]["title"] == net.channels[0].title
    video = _get(
        simulator,
        "videos.list",
        [("part", "status,liveStreamingDetails"), ("id", net.video(0, 0).video_id)],
    )
    assert video.json["items"][0]["status"]["uploadStatus"] == "processed"
    assert "liveStreamingDetails" not in video.json["items"][0]  # not a broadcast


@pytest.mark.parametrize("method", RESOURCES)
def test_an_unknown_part_names_itself(simulator, method):
    params = [("part", "snippet,notAPart"), *_filters(simulator, method)]
    _is_error(_get(simulator, method, params), 400, "unknownPart", "youtube.part", "part")


@pytest.mark.parametrize("method", ["channels.list", "videos.list", "playlistItems.list"])
def test_a_missing_filter_is_a_missing_required_parameter(simulator, method):
    answer = _get(simulator, method, [("part", "id")])
    _is_error(answer, 400, "missingRequiredParameter", "youtube.parameter", None)
    assert answer.error.get("location"), answer
    assert answer.error.get("locationType"), answer


def test_an_unknown_playlist_is_not_found_at_its_parameter(simulator):
    params = [("part", "id"), ("playlistId", ids.uploads_playlist_id("UC" + "x" * 22))]
    answer = _get(simulator, "playlistItems.list", params)
    _is_error(answer, 404, "playlistNotFound", "youtube.playlistItem", "playlistId")


def test_search_type_selects_the_kind_of_result(simulator):
    channel = simulator.network.channels[0].channel_id
    for kind in ("channel", "video"):
        params = [("part", "id"), ("channelId", channel), ("type", kind), ("maxResults", "50")]
        answer = _get(simulator, "search.list", params)
        assert answer.status == 200, answer
        assert answer.json["items"], answer
        assert {i["id"]["kind"] for i in answer.json["items"]} == {f"youtube#{kind}"}, answer


# --- keys and answers -----------------------------------------------------------------------


def test_a_missing_api_key_is_forbidden(simulator):
    params = [("part", "id"), *_filters(simulator, "channels.list")]
    answer = _get(simulator, "channels.list", params, key=None)
    _is_error(answer, 403, "forbidden", "global", None)
    assert answer.json["error"]["status"] == "PERMISSION_DENIED"


def test_an_invalid_api_key_is_a_bad_request(simulator):
    params = [("part", "id"), *_filters(simulator, "channels.list")]
    answer = _get(simulator, "channels.list", params, key=("key", "not-the-key"))
    _is_error(answer, 400, "badRequest", "global", None)
    assert answer.json["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize("method", RESOURCES)
def test_answers_match_the_response_schema(simulator, method):
    parts = {"search.list": "id,snippet"}.get(method, "id,snippet,contentDetails,statistics")
    if method == "playlistItems.list":
        parts = "id,snippet,contentDetails,status"
    simulator.set_day(DAY1)
    answer = _get(simulator, method, [("part", parts), *_filters(simulator, method)])
    assert answer.status == 200, answer
    schema = RESOURCES[method][2]
    assert (
        answer.json["kind"]
        == "youtube#" + schema[0].lower() + schema[1 : -len("Response")] + "Response"
    )
    assert not schema_problems(answer.json, schema, *SERVICE), answer
