"""The simulator speaks the real API to the stock google-api-python-client."""

from __future__ import annotations

from datetime import timedelta

import pytest
from googleapiclient.errors import HttpError

from ingestion.youtube.api import build_client
from simulation.youtube import Fault
from tests.youtube.conftest import DAY1, channel_ids


@pytest.fixture
def client(simulator):
    return build_client(simulator.url, "test-key")


def test_channels_list_shape_and_counts_as_strings(client, simulator):
    ids = channel_ids(60)[:50]
    body = (
        client.channels().list(part="snippet,statistics,contentDetails", id=",".join(ids)).execute()
    )
    assert body["kind"] == "youtube#channelListResponse"
    assert body["pageInfo"]["totalResults"] == 50
    assert len(body["etag"]) == 27
    item = body["items"][0]
    assert item["kind"] == "youtube#channel"
    assert item["id"] == ids[0]
    assert item["contentDetails"]["relatedPlaylists"]["uploads"] == "UU" + ids[0][2:]
    stats = item["statistics"]
    assert isinstance(stats["viewCount"], str)
    assert int(stats["viewCount"]) > 0
    assert isinstance(stats["hiddenSubscriberCount"], bool)
    assert simulator.ledger.used(DAY1) == 1


def test_more_than_50_ids_is_a_bad_request(client):
    with pytest.raises(HttpError) as err:
        client.videos().list(part="statistics", id=",".join(["x"] * 51)).execute()
    assert err.value.status_code == 400


def test_wrong_key_is_refused(simulator):
    """Another key is a bad request (Google's body names API_KEY_INVALID in its details)."""
    with pytest.raises(HttpError) as err:
        build_client(simulator.url, "wrong").channels().list(part="id", id="x").execute()
    assert err.value.status_code == 400
    assert err.value.error_details[0]["reason"] == "API_KEY_INVALID"
    assert simulator.ledger.calls() == 0  # no project to charge


def test_playlist_pages_newest_first_and_cover_every_upload(client, simulator):
    channel = simulator.network.channels[3]
    seen, token = [], None
    while True:
        params = {"part": "snippet,contentDetails", "playlistId": channel.uploads_playlist_id}
        body = client.playlistItems().list(maxResults=50, pageToken=token, **params).execute()
        seen += [i["contentDetails"]["videoPublishedAt"] for i in body["items"]]
        token = body.get("nextPageToken")
        if not token:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == body["pageInfo"]["totalResults"] > 50


def test_counters_grow_day_by_day(client, simulator):
    ch = simulator.network.channels[0]
    first_video = simulator.network.video(0, 0).video_id
    before = client.videos().list(part="statistics", id=first_video).execute()["items"][0]
    chan_before = client.channels().list(part="statistics", id=ch.channel_id).execute()
    simulator.set_day(DAY1 + timedelta(days=3))
    after = client.videos().list(part="statistics", id=first_video).execute()["items"][0]
    chan_after = client.channels().list(part="statistics", id=ch.channel_id).execute()
    for key in ("viewCount", "likeCount", "commentCount"):
        assert int(after["statistics"][key]) >= int(before["statistics"][key])
    assert int(after["statistics"]["viewCount"]) > int(before["statistics"]["viewCount"])
    videos = [int(c["items"][0]["statistics"]["videoCount"]) for c in (chan_before, chan_after)]
    assert videos[1] > videos[0]


def test_views_are_heavy_tailed_and_ratios_realistic(client):
    ids = channel_ids(250)
    views = []
    for start in range(0, 250, 50):
        body = client.channels().list(part="statistics", id=",".join(ids[start : start + 50]))
        views += [int(i["statistics"]["viewCount"]) for i in body.execute()["items"]]
    views.sort(reverse=True)
    assert sum(views[:25]) > 0.4 * sum(views)  # top 10 % of channels hold much of the views


def test_search_costs_100_units(client, simulator):
    ch = simulator.network.channels[0]
    body = (
        client.search()
        .list(part="snippet", channelId=ch.channel_id, type="video", order="date", maxResults=10)
        .execute()
    )
    assert body["kind"] == "youtube#searchListResponse"
    assert len(body["items"]) == 10
    assert body["items"][0]["id"]["kind"] == "youtube#video"
    assert simulator.ledger.used(DAY1) == 100


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (500, "backendError"),
        (503, "backendError"),
        (429, "rateLimitExceeded"),
        (403, "rateLimitExceeded"),
        (403, "quotaExceeded"),
    ],
)
def test_injected_faults_carry_google_error_bodies(client, simulator, status, reason):
    simulator.inject(Fault(status, reason, method="videos.list"))
    with pytest.raises(HttpError) as err:
        client.videos().list(part="statistics", id="x").execute()
    assert err.value.status_code == status
    assert err.value.error_details[0]["reason"] == reason
    assert client.videos().list(part="statistics", id="x").execute()["items"] == []


def test_daily_quota_is_enforced(client, simulator):
    simulator.daily_quota = 2
    client.channels().list(part="id", id="x").execute()
    client.channels().list(part="id", id="x").execute()
    with pytest.raises(HttpError) as err:
        client.channels().list(part="id", id="x").execute()
    assert err.value.error_details[0]["reason"] == "quotaExceeded"
    assert err.value.error_details[0]["domain"] == "youtube.quota"
