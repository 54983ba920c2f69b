"""Pure mappings and rules of the collector (no services)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from ingestion.youtube.transforms import (
    RefreshRule,
    Upload,
    channel_row,
    duration_seconds,
    needs_next_page,
    video_row,
)
from simulation.network import iso_duration, round_3_significant

DAY = date(2025, 1, 10)


@pytest.mark.parametrize(
    ("iso", "seconds"), [("PT45S", 45), ("PT4M13S", 253), ("PT1H", 3600), ("P1DT2S", 86402)]
)
def test_durations_are_parsed_with_isodate(iso, seconds):
    assert duration_seconds(iso) == seconds


@pytest.mark.parametrize("seconds", [0, 15, 59, 60, 61, 3599, 3600, 3725])
def test_simulator_durations_round_trip(seconds):
    assert duration_seconds(iso_duration(seconds)) == seconds


def test_subscriber_counts_keep_three_significant_figures():
    assert [round_3_significant(v) for v in (999, 12345, 987654321)] == [999, 12300, 987000000]


def test_channel_row_turns_string_counts_into_integers_and_hidden_into_null():
    item = {
        "id": "UCx",
        "snippet": {"title": "T", "publishedAt": "2020-01-02T03:04:05Z", "country": "US"},
        "contentDetails": {"relatedPlaylists": {"uploads": "UUx"}},
        "statistics": {"viewCount": "12", "hiddenSubscriberCount": True, "videoCount": "3"},
    }
    row = channel_row(item, DAY, datetime(2025, 1, 10, tzinfo=UTC))
    assert row["view_count"] == 12
    assert row["video_count"] == 3
    assert row["subscriber_count"] is None
    assert row["hidden_subscriber_count"] is True
    assert row["published_at"] == datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_video_row_keeps_tags_and_both_duration_forms():
    item = {
        "id": "v1",
        "snippet": {"channelId": "UCx", "tags": ["a", "b"]},
        "contentDetails": {"duration": "PT1M"},
    }
    row = video_row(item, DAY)
    assert (row["tags"], row["duration_seconds"], row["duration_iso"]) == (["a", "b"], 60, "PT1M")


def _uploads(count: int, newest: datetime) -> list[tuple[str, datetime]]:
    return [(f"v{i}", newest - timedelta(hours=12 * i)) for i in range(count)]


def test_refresh_rule_last_n_then_last_d_days():
    newest = datetime(2025, 1, 10, 20, tzinfo=UTC)
    uploads = _uploads(40, newest)
    assert RefreshRule(last_n=10).select(uploads, DAY) == [f"v{i}" for i in range(10)]
    # 10 days back from the 10th: every upload since Jan 1 (two a day)
    chosen = RefreshRule(last_n=3, days=10).select(uploads, DAY)
    assert chosen == [f"v{i}" for i in range(20)]


def _page(times: list[datetime]) -> list[Upload]:
    return [Upload("UUx", f"v{i}", "UCx", i, t) for i, t in enumerate(times)]


def test_discovery_reads_pages_until_it_reaches_the_cursor():
    t = datetime(2025, 1, 10, tzinfo=UTC)
    page = _page([t - timedelta(hours=h) for h in range(50)])
    rule = RefreshRule(10)
    assert needs_next_page(page, 50, t - timedelta(hours=60), rule, DAY)
    assert not needs_next_page(page, 50, t - timedelta(hours=30), rule, DAY)
    # first run: the first page covers the last 10 uploads
    assert not needs_next_page(page, 50, None, rule, DAY)
    assert needs_next_page(page[:5], 5, None, rule, DAY)
    assert not needs_next_page([], 0, None, rule, DAY)
