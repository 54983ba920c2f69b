"""The owner's reports reconcile with the Data API's counters, and the views breaks are modelled.

Pure: the model (:mod:`simulation.owner_model`) and the network, no service.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest

from simulation.network import (
    ALL_FORMATS_VIEWS_BREAK,
    SHORTS_VIEWS_BREAK,
    Network,
    day_end,
    pacific_start,
)
from simulation.owner_model import (
    FAMILIES,
    apportion,
    apportion_rows,
    day_bounds,
    family_columns,
    row_count,
    video_days,
)

NET = Network(seed=11, channels=6)
DAY = date(2025, 2, 10)


def _by_video(columns, name: str = "views") -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for video, value in zip(columns["video_id"], columns[name], strict=True):
        out[video] += value
    return out


def test_apportion_is_exact_and_proportional():
    assert apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(apportion(97, [0.2, 0.5, 0.3])) == 97
    assert apportion(0, [1, 2]) == [0, 0]
    import numpy as np

    rows = apportion_rows(np.array([10, 97, 0]), np.array([[1, 1, 1], [0.2, 0.5, 0.3], [1, 2, 3]]))
    assert rows.sum(axis=1).tolist() == [10, 97, 0]


@pytest.mark.parametrize("channel", range(3))
def test_a_video_day_is_its_counters_delta_over_the_pacific_day(channel):
    start, end = day_bounds(DAY)
    for vd in video_days(NET, channel, DAY):
        if vd.video_id is None:
            continue
        located = NET.locate(vd.video_id, end)
        assert located is not None
        video = NET.video(*located)
        before, after = NET.counters(video, start), NET.counters(video, end)
        assert vd.views == after.views - before.views
        assert vd.engaged_views == after.engaged_views - before.engaged_views
        assert vd.likes == after.likes - before.likes
        assert vd.comments == after.comments - before.comments


@pytest.mark.parametrize(
    "family", [f for f in FAMILIES if f not in ("channel_demographics", "channel_reach_basic")]
)
def test_every_breakdown_sums_to_the_video_days(family):
    days = {vd.video_id or "": vd for vd in video_days(NET, 0, DAY)}
    columns = family_columns(NET, 0, family, DAY)
    assert row_count(columns) > 0
    assert _by_video(columns) == {v: d.views for v, d in days.items() if d.views}
    assert _by_video(columns, "engaged_views") == {
        v: d.engaged_views for v, d in days.items() if d.views
    }


def test_deleted_videos_report_with_an_empty_video_id():
    columns = family_columns(NET, 0, "channel_basic", DAY)
    assert "" in columns["video_id"]
    located = [v for v in set(columns["video_id"]) if v]
    assert all(NET.locate(v, day_end(DAY)) for v in located)


def test_demographics_are_shares_of_large_enough_groups():
    columns = family_columns(NET, 0, "channel_demographics", DAY)
    groups: dict[tuple, float] = defaultdict(float)
    keys = ("video_id", "live_or_on_demand", "subscribed_status", "country_code")
    for i, share in enumerate(columns["views_percentage"]):
        groups[tuple(columns[k][i] for k in keys)] += share
    assert groups
    assert all(90 <= total <= 100.5 for total in groups.values())  # small cells withheld


def test_the_data_api_counters_and_the_reports_differ_only_by_when_a_day_is_cut():
    """Summed over days, a video's report views equal its counter between two Pacific
    midnights exactly; between the collector's UTC observations they differ by the views of
    the hours between the two cuts (the methodology difference)."""
    first, last = DAY, DAY + timedelta(days=6)
    for vd in video_days(NET, 1, first):
        if vd.video_id is None:
            continue
        located = NET.locate(vd.video_id, pacific_start(first + timedelta(days=1)))
        assert located is not None
        video = NET.video(*located)
        reported = 0
        for offset in range((last - first).days + 1):
            day = first + timedelta(days=offset)
            reported += sum(v.views for v in video_days(NET, 1, day) if v.video_id == vd.video_id)
        pacific = (
            NET.counters(video, pacific_start(last + timedelta(days=1))).views
            - NET.counters(video, pacific_start(first)).views
        )
        assert reported == pacific
        utc = (
            NET.counters(video, day_end(last)).views
            - NET.counters(video, day_end(first - timedelta(days=1))).views
        )
        cut = abs(
            NET.counters(video, pacific_start(first)).views
            - NET.counters(video, day_end(first - timedelta(days=1))).views
        ) + abs(
            NET.counters(video, pacific_start(last + timedelta(days=1))).views
            - NET.counters(video, day_end(last)).views
        )
        assert abs(reported - utc) <= cut


def _video_days_between(net: Network, first: date, last: date):
    day = first
    while day <= last:
        for channel in range(len(net.channels)):
            for vd in video_days(net, channel, day):
                if vd.video_id is not None and vd.engaged_views >= 100:
                    yield day, vd
        day += timedelta(days=1)


@pytest.mark.parametrize(
    ("epoch", "breaks_on", "formats"),
    [
        (date(2025, 7, 5), SHORTS_VIEWS_BREAK, {True}),  # Shorts: every play counts
        (date(2026, 9, 1), ALL_FORMATS_VIEWS_BREAK, {True, False}),  # then every format
    ],
)
def test_views_count_every_play_from_the_break_on(epoch, breaks_on, formats):
    """Before its format's break a video's views are its engaged views; after it they are
    more (``engaged_views`` keeps the old meaning)."""
    net = Network(seed=3, channels=10, epoch=epoch, history_days=14)
    seen = set()
    for day, vd in _video_days_between(
        net, breaks_on - timedelta(days=3), breaks_on + timedelta(days=3)
    ):
        counts_plays = day >= (SHORTS_VIEWS_BREAK if vd.is_short else ALL_FORMATS_VIEWS_BREAK)
        assert (vd.views > vd.engaged_views) == counts_plays, (day, vd)
        seen.add((day >= breaks_on, vd.is_short))
    assert {(True, s) for s in formats} <= seen
    assert (False, True) in seen
