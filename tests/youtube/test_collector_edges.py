"""The collector's edges (issue 27): page tokens, each channel's share, Google's two error
lists, and malformed items.

Each kind runs against the simulator, which serves the flaw (``Fault``), through the
stock client; the runs that land go through dlt into the real test database.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from ingestion.youtube.api import (
    ApiCallFailed,
    QuotaExhausted,
    RepeatedPageToken,
    RetryPolicy,
    YouTubeApi,
    build_client,
)
from ingestion.youtube.collector import Collector, Known, channel_share
from ingestion.youtube.landing import run_day
from ingestion.youtube.transforms import (
    REQUIRED_FIELDS,
    MalformedItem,
    RefreshRule,
    channel_row,
    playlist_row,
    playlist_upload,
    video_row,
    video_snapshot_row,
)
from simulation import ids
from simulation.network import Network, day_end
from simulation.youtube import (
    ENDLESS_PAGES,
    MISSING_FIELD,
    REPEAT_PAGING,
    Fault,
    YouTubeSimulator,
)
from ytempire.clients import redis_client
from ytempire.quota import QuotaBudget

DAY = date(2025, 6, 20)  # a day of its own: other YouTube tests land other days
NO_WAIT = RetryPolicy(max_attempts=3, base_s=0.0, cap_s=0.0)


@pytest.fixture
def sim(request):
    """A three-channel network (A, B, C) of the test's own, at ``DAY``: ~400 uploads each."""
    seed = 3000 + abs(hash(request.node.name)) % 100_000
    simulator = YouTubeSimulator(Network(seed=seed, channels=3, real_world={}), day=DAY)
    simulator.start()
    yield simulator
    simulator.stop()


def _abc(sim: YouTubeSimulator) -> list[str]:
    return [c.channel_id for c in sim.network.channels]


def _budget(settings, prefix: str, limit: int) -> QuotaBudget:
    return QuotaBudget(redis_client(settings=settings), limit, prefix, where=settings.redis_url)


def _api(sim: YouTubeSimulator, budget: QuotaBudget) -> YouTubeApi:
    # the quota day is the test's own day: no reading of the Pacific clock; the simulator
    # accepts its one API key, as Google refuses any other
    client = build_client(sim.url, sim.api_key)
    return YouTubeApi(client, budget, DAY, NO_WAIT, sleep=lambda _s: None)


def _land(settings, sim, redis_prefix, tmp_path, day: date = DAY, **changes):
    yt = replace(settings, youtube_api_url=sim.url, **changes)
    return run_day(
        day,
        _abc(sim),
        settings=yt,
        pipelines_dir=tmp_path,
        redis_prefix=redis_prefix,
        retry=NO_WAIT,
        pipeline_name=f"yt_edges_{sim.network.seed}",
    )


def _uploads(sim: YouTubeSimulator, index: int, count: int) -> set[str]:
    """The ``count`` newest uploads of channel ``index``."""
    net = sim.network
    total = net.uploads(net.channels[index], day_end(DAY))
    return {net.video(index, n).video_id for n in range(total - 1, total - 1 - count, -1)}


# --- page tokens ---------------------------------------------------------------------------


def test_a_repeated_page_token_is_never_asked_for_again(
    settings, sim, redis_prefix, tmp_path, pg_admin
):
    """The issue's case: a listing that hands back the same nextPageToken before it reaches
    the channel's cursor spent 296 of 300 units on one channel."""
    b = _abc(sim)[1]
    sim.set_day(DAY - timedelta(days=60))
    _land(settings, sim, redis_prefix, tmp_path, day=DAY - timedelta(days=60))
    sim.set_day(DAY)  # 60 days later: ~120 new uploads a channel, three pages down to the cursor
    sim.inject(Fault(200, REPEAT_PAGING, target=ids.uploads_playlist_id(b), times=10_000))
    before = sim.ledger.calls("playlistItems.list")

    report = _land(settings, sim, redis_prefix, tmp_path, youtube_daily_quota=300)

    # B: page 1, page 2 (which names page 2's own token again), and nothing more
    assert sim.ledger.calls("playlistItems.list") - before == 3 + 2 + 3
    assert report.channel_issues[b].status == "failed"
    assert "already asked for" in report.channel_issues[b].reason
    assert set(report.channel_issues) == {b}
    new_b = pg_admin.execute(
        "select count(*) from raw_youtube.playlist_items where channel_id = %s "
        "and video_published_at > %s",
        (b, day_end(DAY - timedelta(days=60))),
    ).fetchone()[0]
    assert new_b == 100  # B's two pages landed; its cursor stays for the next run
    assert report.units_used < 20


def test_the_page_token_guard_holds_for_any_cycle(settings, sim, redis_prefix):
    """A token seen anywhere earlier in the listing (not only the last one) ends it."""
    budget = _budget(settings, redis_prefix, 100)
    api = _api(sim, budget)
    playlist = ids.uploads_playlist_id(_abc(sim)[0])
    # asked with page 2's token, the answer names page 2's token again: a cycle of one
    sim.inject(Fault(200, REPEAT_PAGING, target=playlist, after=1, times=10))
    listing = api.pages("playlistItems.list", part="id", playlistId=playlist, maxResults=50)
    bodies = [next(listing), next(listing)]
    with pytest.raises(RepeatedPageToken, match="already asked for"):
        next(listing)
    assert bodies[0]["nextPageToken"] == bodies[1]["nextPageToken"]
    assert sim.ledger.calls("playlistItems.list") == 2
    # a listing that starts from a token counts that token as asked for
    token = bodies[0]["nextPageToken"]
    again = api.pages(
        "playlistItems.list", part="id", playlistId=playlist, maxResults=50, pageToken=token
    )
    next(again)
    with pytest.raises(RepeatedPageToken):
        next(again)
    assert sim.ledger.calls("playlistItems.list") == 3


# --- each channel's share of the day's budget ----------------------------------------------


def test_share_is_an_equal_part_of_the_days_budget():
    assert channel_share(10_000, 250) == 40
    assert channel_share(300, 3) == 100
    assert channel_share(5, 250) == 1  # never zero: every channel may make its first call
    assert channel_share(10_000, 0) == 10_000


def test_no_channel_spends_more_than_its_share(settings, sim, redis_prefix):
    """A listing that never ends (fresh tokens forever) stops at the channel's share; the
    other channels are collected in full on what is left."""
    a, b, c = _abc(sim)
    sim.inject(Fault(200, ENDLESS_PAGES, target=ids.uploads_playlist_id(b), times=10_000))
    budget = _budget(settings, redis_prefix, 300)  # three channels: 100 units each
    refresh_all = RefreshRule(last_n=1_000_000)  # every upload is wanted: read to the end

    def collector() -> Collector:
        return Collector(
            _api(sim, budget), DAY, Known(), {}, refresh=refresh_all, max_first_run_pages=10_000
        )

    out = collector().run([a, b, c])

    assert budget.spent_by(b, DAY) == 100
    assert out.issues[b].status == "failed"
    assert "share" in out.issues[b].reason
    assert set(out.issues) == {b}
    found = {r["video_id"] for r in out.tables["playlist_items"]}
    total = [sim.network.uploads(ch, day_end(DAY)) for ch in sim.network.channels]
    assert found >= _uploads(sim, 0, total[0]) | _uploads(sim, 2, total[2])
    assert len(out.tables["video_snapshots"]) == sum(total)  # B's uploads read once each
    assert budget.used(DAY) == out.units_used <= 300

    # the share is the day's: another run that day asks nothing for B
    calls = sim.ledger.calls("playlistItems.list")
    again = collector().run([b])
    assert sim.ledger.calls("playlistItems.list") == calls
    assert "share" in again.issues[b].reason


# --- Google's two error lists --------------------------------------------------------------

PER_DAY = {
    "reason": "RATE_LIMIT_EXCEEDED",
    "domain": "googleapis.com",
    "metadata": {
        "service": "youtube.googleapis.com",
        "quota_metric": "youtube.googleapis.com/default",
        "quota_limit": "defaultPerDayPerProject",
        "quota_limit_value": "10000",
        "consumer": "projects/123",
    },
}
PER_MINUTE = {**PER_DAY, "metadata": {**PER_DAY["metadata"], "quota_limit": "defaultPerMinute"}}


@pytest.mark.parametrize(
    ("fault", "raised", "attempts"),
    [
        # errors[] says quotaExceeded, details[] an ErrorInfo: the client library keeps only
        # details[], where the quota is not named
        (Fault(403, "quotaExceeded", error_info=PER_DAY), QuotaExhausted, 1),
        (Fault(403, "dailyLimitExceeded", error_info={"reason": "X"}), QuotaExhausted, 1),
        # AIP-193 only: a per-day limit is the day's quota; a per-minute one passes
        (Fault(429, "x", error_info=PER_DAY, errors=False), QuotaExhausted, 1),
        (Fault(403, "x", error_info=PER_MINUTE, errors=False, times=3), ApiCallFailed, 3),
        (Fault(403, "rateLimitExceeded", error_info=PER_MINUTE, times=3), ApiCallFailed, 3),
        # a cause named only in details[] still fails the call at once
        (Fault(400, "x", error_info={"reason": "API_KEY_INVALID"}, errors=False), ApiCallFailed, 1),
    ],
)
def test_error_reasons_are_read_from_errors_and_details(
    settings, sim, redis_prefix, fault, raised, attempts
):
    sim.inject(fault)
    api = _api(sim, _budget(settings, redis_prefix, 100))
    with pytest.raises(raised) as caught:
        api.list("videos.list", part="statistics", id="x")
    assert sim.ledger.calls() == attempts
    if isinstance(caught.value, ApiCallFailed) and fault.error_info:
        assert caught.value.says(fault.error_info["reason"])


def test_a_reason_in_details_only_keeps_its_meaning(settings, sim, redis_prefix):
    """A playlist without uploads said in AIP-193's words is still 'no uploads'."""
    a, b, _c = _abc(sim)
    not_found = {"reason": "PLAYLIST_NOT_FOUND", "domain": "youtube.googleapis.com"}
    sim.inject(
        Fault(
            404,
            "playlistNotFound",
            target=ids.uploads_playlist_id(b),
            error_info=not_found,
            errors=False,
        )
    )
    out = Collector(_api(sim, _budget(settings, redis_prefix, 100)), DAY, Known(), {}).run([a, b])
    assert out.issues[b].status == "no_uploads"


def test_a_quota_error_in_both_lists_stops_the_run(settings, sim, redis_prefix):
    """The run stops at Google's quotaExceeded instead of calling on, channel after channel."""
    a, b, c = _abc(sim)
    sim.inject(
        Fault(
            403,
            "quotaExceeded",
            method="playlistItems.list",
            error_info=PER_DAY,
            times=10_000,
        )
    )
    out = Collector(_api(sim, _budget(settings, redis_prefix, 100)), DAY, Known(), {}).run(
        [a, b, c]
    )
    assert out.status == "partial"
    assert "quota" in (out.error or "")
    assert sim.ledger.calls("playlistItems.list") == 1
    assert sim.ledger.calls("videos.list") == 0


# --- malformed items -----------------------------------------------------------------------


def _served_item(method: str) -> dict:
    """The first item of a real-shaped answer (the simulator's, called without a server)."""
    offline = YouTubeSimulator(Network(seed=7, channels=1, real_world={}), day=DAY)
    channel = offline.network.channels[0].channel_id
    video = offline.network.video(0, 0).video_id
    query = {
        "channels.list": ("channels", {"id": [channel]}),
        "playlistItems.list": ("playlistItems", {"playlistId": [ids.uploads_playlist_id(channel)]}),
        "videos.list": ("videos", {"id": [video]}),
    }[method]
    parts = {
        "part": [
            "snippet,statistics,contentDetails"
            if method != "playlistItems.list"
            else "snippet,contentDetails"
        ]
    }
    key = {"key": [offline.api_key]}  # the simulator answers only its own API key
    return offline.handle(f"/youtube/v3/{query[0]}", {**parts, **key, **query[1]})["items"][0]


def _map(method: str, item: dict) -> list[dict]:
    if method == "channels.list":
        return [channel_row(item, DAY, datetime.now(UTC))]
    if method == "playlistItems.list":
        return [playlist_row(playlist_upload(item, "UCx", "UUx"), datetime.now(UTC))]
    return [video_snapshot_row(item, DAY, datetime.now(UTC)), video_row(item, DAY)]


def _without(item: dict, path: str) -> dict:
    broken = copy.deepcopy(item)
    for alternative in path.split("|"):
        *parents, last = alternative.split(".")
        node = broken
        for key in parents:
            node = node.get(key, {})
        node.pop(last, None)
    return broken


def _with(item: dict, path: str, value: object) -> dict:
    broken = copy.deepcopy(item)
    *parents, last = path.split(".")
    node = broken
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return broken


REQUIRED = [(m, f) for m, fields in REQUIRED_FIELDS.items() for f in fields]


@pytest.mark.parametrize(("method", "path"), REQUIRED, ids=[f"{m}:{f}" for m, f in REQUIRED])
def test_every_required_field_is_named_when_missing(method, path):
    item = _served_item(method)
    assert _map(method, item)  # the served item maps
    with pytest.raises(MalformedItem) as caught:
        _map(method, _without(item, path))
    assert caught.value.field == path
    assert str(caught.value) == f"{path}: missing"


BAD_VALUES = [
    ("channels.list", "statistics.viewCount", "12k"),
    ("channels.list", "statistics.subscriberCount", -5),
    ("channels.list", "statistics.videoCount", True),
    ("channels.list", "snippet.publishedAt", "yesterday"),
    ("channels.list", "snippet.publishedAt", "2025-01-01T00:00:00"),  # no zone
    ("channels.list", "contentDetails.relatedPlaylists.uploads", 7),
    ("playlistItems.list", "contentDetails.videoPublishedAt", 1767225600),
    ("playlistItems.list", "snippet.position", "first"),
    ("playlistItems.list", "contentDetails.videoId", ["v"]),
    ("videos.list", "statistics.likeCount", "1.5"),
    ("videos.list", "contentDetails.duration", "PT-broken"),
    ("videos.list", "snippet.tags", "a,b"),
    ("videos.list", "snippet.publishedAt", {"t": 1}),
    ("videos.list", "snippet.channelId", None),
]


@pytest.mark.parametrize(("method", "path", "value"), BAD_VALUES)
def test_a_value_the_api_never_sends_is_named(method, path, value):
    with pytest.raises(MalformedItem) as caught:
        _map(method, _with(_served_item(method), path, value))
    assert caught.value.field == path


def test_a_playlist_item_without_a_publish_date_is_set_aside_and_its_page_lands(
    settings, sim, redis_prefix, tmp_path, pg_admin
):
    """The issue's case: one item without videoPublishedAt failed the whole channel, the
    page's good uploads never landed, and the cursor did not move, so it repeated daily."""
    b = _abc(sim)[1]
    sim.inject(
        Fault(
            200,
            MISSING_FIELD,
            target=ids.uploads_playlist_id(b),
            field="contentDetails.videoPublishedAt,snippet.publishedAt",
        )
    )

    report = _land(settings, sim, redis_prefix, tmp_path)

    assert report.status == "complete"
    assert report.items_rejected == 1
    assert report.channel_issues[b].status == "items_rejected"
    first_page = _uploads(sim, 1, 50)
    landed_b = {
        r[0]
        for r in pg_admin.execute(
            "select video_id from raw_youtube.playlist_items where channel_id = %s", (b,)
        ).fetchall()
    }
    broken = _uploads(sim, 1, 1)  # the newest upload: the page's first item
    assert landed_b == first_page - broken
    (row,) = pg_admin.execute(
        "select method, channel_id, field, reason, item -> 'contentDetails' ->> 'videoId' "
        "from raw_youtube.rejected_items where collection_date = %s and channel_id = %s",
        (DAY, b),
    ).fetchall()
    assert row == (
        "playlistItems.list",
        b,
        "contentDetails.videoPublishedAt",
        "contentDetails.videoPublishedAt: missing",
        next(iter(broken)),
    )
    counted = pg_admin.execute(
        "select items_rejected from raw_youtube.collection_runs where collection_date = %s "
        "and channel_issues ? %s",
        (DAY, b),
    ).fetchone()
    assert counted == (1,)
    # the cursor moved: the day is done, the item is not asked for again
    calls = sim.ledger.calls()
    assert _land(settings, sim, redis_prefix, tmp_path).status == "nothing-to-do"
    assert sim.ledger.calls() == calls


def test_a_malformed_video_item_is_set_aside_and_asked_for_again(
    settings, sim, redis_prefix, tmp_path, pg_admin
):
    sim.inject(Fault(200, MISSING_FIELD, method="videos.list", field="snippet.channelId"))

    report = _land(settings, sim, redis_prefix, tmp_path)

    assert report.status == "partial"
    assert report.items_rejected == 1
    ((broken, owner),) = report_rejects = pg_admin.execute(
        "select item ->> 'id', channel_id from raw_youtube.rejected_items "
        "where collection_date = %s and method = 'videos.list' and channel_id = any(%s)",
        (DAY, _abc(sim)),
    ).fetchall()
    assert report_rejects
    assert report.channel_issues[owner].status == "failed"
    again = _land(settings, sim, redis_prefix, tmp_path)
    assert again.status == "complete"
    assert again.videos_collected == 1
    assert pg_admin.execute(
        "select count(*) from raw_youtube.video_snapshots where video_id = %s and "
        "collection_date = %s",
        (broken, DAY),
    ).fetchone() == (1,)
