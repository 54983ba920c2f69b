"""What a channel's owner sees of the simulated network: the numbers behind its reports.

The Reporting and Analytics simulators (:mod:`simulation.owner_apis`) serve
these numbers; nothing here does I/O. They come from the same
:class:`~simulation.network.Network` as the Data API's counters, per Pacific
day (YouTube's reporting day):

- a video's ``views`` on day D are its ``viewCount`` at the end of D minus at
  its start (Pacific midnights), exactly; ``engaged_views`` the same for its
  engaged views (the old meaning, see :mod:`simulation.network`): equal before
  the video's views break, ``plays_ratio`` apart after it. ``likes`` and
  ``comments`` are the deltas of the public counters too. So the reports
  reconcile with the Data API's counters; what separates the two is
  methodology the model documents: the Data API is read at an instant of
  the collector's choosing (the simulator serves the end of a UTC day), the
  reports cut at Pacific midnight, and a report's first version may be
  regenerated (``PRELIMINARY_VIEWS`` below);
- views on videos the channel deleted (before the network's history) are
  reported with an empty ``video_id`` (``deleted_share`` of a day's engaged
  views); no Data API counter holds them;
- each video-day is split over countries, subscribed status, live or on
  demand, traffic sources, devices, playback locations and demographics with
  channel weights and a jitter per video-day; counts are apportioned by
  largest remainder, so every breakdown sums exactly to the video-day's
  total and a combination that gets nothing has no row;
- watch time is engaged views times a per-video average view duration
  (retention of 30-55 % of a long video, 60-110 % of a Short, which loops);
  after a views break the average per view falls, as it did at YouTube;
- demographics are reported for a group of at least
  :data:`DEMOGRAPHICS_MIN_VIEWS` views, cells of at least 0.5 %, as YouTube
  withholds them from small audiences;
- revenue: channels in the Partner Program (``monetized``) earn a niche RPM
  (estimated revenue per 1,000 engaged views) times a channel factor, the
  audience's country mix, a season (Q4 up, January down) and a daily
  jitter; Shorts earn about 2 % of that. Gross revenue, ad impressions,
  monetized playbacks and both CPMs follow from it (YouTube keeps 45 % of
  long-form ad revenue, 55 % of Shorts'). The figures of a day settle
  :data:`SETTLE_HOURS` after its end; before that the Analytics API serves a
  share of them (:func:`settled_share`).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import numpy as np

from simulation.network import Channel, Network, Video, pacific_start

COUNTRY_POOL = ("US", "IN", "GB", "CA", "DE", "BR", "AU", "PH", "MX", "FR")
# revenue per 1,000 views from each country relative to the US
COUNTRY_RPM = {"US": 1.0, "GB": 0.85, "CA": 0.85, "AU": 0.85, "DE": 0.8, "FR": 0.7}
COUNTRY_RPM_OTHER = 0.3
# estimated revenue (USD) per 1,000 engaged long-form views from a US audience, by niche
NICHE_RPM = {
    "tech": 6.0,
    "education": 5.0,
    "howto": 4.5,
    "travel": 4.0,
    "sports": 3.5,
    "entertainment": 3.0,
    "gaming": 2.5,
    "music": 1.8,
}
SHORTS_RPM_SHARE = 0.02
CREATOR_SHARE = {"long": 0.55, "short": 0.45}
MONETIZED_SHARE = 0.8  # channels in the Partner Program
SETTLE_HOURS = 72  # a day's revenue is final this long after it ends
FIRST_FIGURES_HOURS = 24  # the Analytics API has no row for a day younger than this
PRELIMINARY_VIEWS = 0.03  # a report regenerated later had up to this many more views at first
DEMOGRAPHICS_MIN_VIEWS = 200  # YouTube withholds demographics of small audiences

SUBSCRIBED = ("subscribed", "unsubscribed")
AGE_GROUPS = (
    "AGE_13_17",
    "AGE_18_24",
    "AGE_25_34",
    "AGE_35_44",
    "AGE_45_54",
    "AGE_55_64",
    "AGE_65_",
)
GENDERS = ("FEMALE", "MALE", "GENDER_OTHER")
# traffic_source_type codes (Reporting API dimensions) and their share of a format's views
TRAFFIC_LONG = (
    (3, 0.25),
    (7, 0.30),
    (5, 0.14),
    (4, 0.06),
    (0, 0.07),
    (9, 0.04),
    (17, 0.05),
    (14, 0.05),
    (8, 0.04),
)
TRAFFIC_SHORT = ((24, 0.80), (3, 0.05), (5, 0.03), (4, 0.05), (7, 0.04), (0, 0.03))
# (device_type, operating_system) and shares
DEVICES = (
    (104, 4, 0.40), (104, 5, 0.23), (101, 2, 0.16), (101, 9, 0.06), (102, 21, 0.09), (105, 5, 0.06),
)  # fmt: skip
# playback_location_type codes and shares
PLAYBACK_LONG = ((0, 0.66), (7, 0.15), (1, 0.06), (2, 0.06), (8, 0.04), (5, 0.03))
PLAYBACK_SHORT = ((10, 0.85), (0, 0.08), (7, 0.04), (2, 0.03))


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))  # noqa: S311 (a model, not crypto)


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` over ``weights`` by largest remainder: integers summing to ``total``."""
    if total <= 0 or not weights:
        return [0] * len(weights)
    whole = sum(weights)
    exact = [total * w / whole for w in weights]
    shares = [math.floor(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: exact[i] - shares[i], reverse=True)
    for i in order[: total - sum(shares)]:
        shares[i] += 1
    return shares


@dataclass(frozen=True)
class OwnerTraits:
    """What only a channel's owner knows about it (fixed by the seed)."""

    monetized: bool
    rpm_factor: float
    countries: tuple[tuple[str, float], ...]
    subscribed_share: float
    demographics: tuple[tuple[str, str, float], ...]
    deleted_share: float


@lru_cache(maxsize=4096)
def owner_traits(network: Network, channel_index: int) -> OwnerTraits:
    ch = network.channels[channel_index]
    rng = _rng(network.seed, "owner", channel_index)
    others = [c for c in COUNTRY_POOL if c != ch.country]
    rng.shuffle(others)
    home = rng.uniform(0.55, 0.8)
    second = (1 - home) * rng.uniform(0.5, 0.7)
    countries = ((ch.country, home), (others[0], second), (others[1], 1 - home - second))
    young = rng.uniform(0.5, 2.0)  # how much the audience leans young
    ages = [math.exp(-abs(i - 2) / young) for i in range(len(AGE_GROUPS))]
    female = rng.uniform(0.2, 0.7)
    genders = (female, 1 - female - 0.02, 0.02)
    cells = [(a, g, wa * wg) for a, wa in zip(AGE_GROUPS, ages, strict=True)
             for g, wg in zip(GENDERS, genders, strict=True)]  # fmt: skip
    whole = sum(w for _, _, w in cells)
    return OwnerTraits(
        monetized=not ch.real_world.no_uploads and rng.random() < MONETIZED_SHARE,
        rpm_factor=rng.lognormvariate(0.0, 0.25),
        countries=countries,
        subscribed_share=rng.uniform(0.1, 0.35),
        demographics=tuple((a, g, w / whole) for a, g, w in cells),
        deleted_share=rng.uniform(0.003, 0.015),
    )


@dataclass(frozen=True)
class VideoDay:
    """One video's numbers on one Pacific day (``video_id`` None: the deleted videos)."""

    video_id: str | None
    is_short: bool
    views: int
    engaged_views: int
    likes: int
    comments: int
    shares: int
    dislikes: int
    watch_time_minutes: float
    duration_seconds: int
    subscribers_gained: int
    subscribers_lost: int
    red_views: int
    live_share: float  # share of the day's views watched live
    impressions: int
    impressions_ctr: float

    @property
    def average_view_duration_seconds(self) -> int:
        return round(self.watch_time_minutes * 60 / self.views) if self.views else 0


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """The Pacific day as [start, end) in UTC."""
    return pacific_start(day), pacific_start(day + timedelta(days=1))


@lru_cache(maxsize=2048)
def video_days(network: Network, channel_index: int, day: date) -> tuple[VideoDay, ...]:
    """Every video of the channel with activity on ``day``, and its deleted videos' row."""
    channel = network.channels[channel_index]
    start, end = day_bounds(day)
    if not channel.exists_at(end - timedelta(seconds=1)):
        return ()
    count = network.uploads(channel, end)
    seed = f"{network.seed}:video-days:{channel_index}:{day}".encode()
    rng = np.random.default_rng(
        int.from_bytes(hashlib.blake2b(seed, digest_size=8).digest(), "big")
    )
    jitter = rng.uniform(0.0, 1.0, (count, 6)).tolist()
    out = []
    for n in range(count):
        video = network.video(channel_index, n)
        vd = _video_day(network, channel, video, day, start, end, jitter[n])
        if vd is not None:
            out.append(vd)
    deleted = _deleted_videos_day(network, channel, day, sum(v.engaged_views for v in out))
    if deleted is not None:
        out.append(deleted)
    return tuple(out)


@lru_cache(maxsize=100_000)
def _video_traits(seed: int, video_id: str, is_short: bool) -> tuple[float, float]:
    """(retention, base thumbnail CTR) of a video: fixed for its life."""
    rng = _rng(seed, "video-owner", video_id)
    retention = rng.uniform(0.6, 1.1) if is_short else rng.uniform(0.3, 0.55)
    return retention, rng.uniform(0.02, 0.12) * (0.7 if is_short else 1.0)


def _video_day(
    network: Network,
    channel: Channel,
    video: Video,
    day: date,
    start: datetime,
    end: datetime,
    u: list[float],
) -> VideoDay | None:
    """One video-day; ``u`` holds six uniform draws of [0, 1) for its jitters."""
    if video.published_at >= end:
        return None
    before, after = network.counters(video, start), network.counters(video, end)
    views = after.views - before.views
    engaged = after.engaged_views - before.engaged_views
    likes, comments = after.likes - before.likes, after.comments - before.comments
    if views <= 0 and likes <= 0 and comments <= 0:
        return None
    retention, ctr = _video_traits(network.seed, video.video_id, video.is_short)
    watched = engaged * video.duration_seconds * retention * (0.95 + 0.1 * u[0]) / 60
    gained = round(engaged * channel.subscribe_rate * 1.2)
    live_share = 0.0
    if video.live_starts_at is not None and start <= video.live_starts_at < end:
        live_share = 0.6
    ctr *= max(0.4, 1 - (day - video.published_at.date()).days / 60)
    impressions = round(views * 0.7 / ctr) if views > 0 else 0
    return VideoDay(
        video_id=video.video_id,
        is_short=video.is_short,
        views=max(views, 0),
        engaged_views=max(engaged, 0),
        likes=max(likes, 0),
        comments=max(comments, 0),
        shares=round(engaged * (0.001 + 0.003 * u[1])),
        dislikes=round(max(likes, 0) * (0.01 + 0.04 * u[2])),
        watch_time_minutes=round(watched, 4),
        duration_seconds=video.duration_seconds,
        subscribers_gained=gained,
        subscribers_lost=round(gained * (0.1 + 0.2 * u[3])),
        red_views=round(views * (0.02 + 0.03 * u[4])),
        live_share=live_share,
        impressions=impressions,
        impressions_ctr=round(views * 0.7 / impressions, 4) if impressions else 0.0,
    )


def _deleted_videos_day(
    network: Network, channel: Channel, day: date, engaged_total: int
) -> VideoDay | None:
    share = owner_traits(network, channel.index).deleted_share
    views = round(engaged_total * share)
    if views <= 0:
        return None
    minutes = round(views * 240 / 60, 4)  # the deleted videos' viewers stay about 4 minutes
    return VideoDay(None, False, views, views, 0, 0, 0, 0, minutes, 540, 0, 0,
                    round(views * 0.03), 0.0, 0, 0.0)  # fmt: skip


# --- report rows ----------------------------------------------------------------------------

Columns = dict[str, list]  # a report's rows as columns: name -> one value per row


def apportion_rows(totals: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """:func:`apportion` of each ``totals[i]`` over the row ``weights[i]`` at once."""
    n, k = weights.shape
    whole = weights.sum(axis=1, keepdims=True)
    exact = totals[:, None] * weights / np.where(whole > 0, whole, 1.0)
    shares = np.floor(exact).astype(np.int64)
    deficit = totals - shares.sum(axis=1)
    order = np.argsort(shares - exact, axis=1, kind="stable")  # largest remainder first
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.broadcast_to(np.arange(k), (n, k)), axis=1)
    return shares + (ranks < deficit[:, None])


@dataclass(frozen=True)
class _Arrays:
    """A channel-day's video-days as arrays (row i is video-day i)."""

    days: tuple[VideoDay, ...]

    def __getattr__(self, name: str) -> np.ndarray:
        return np.array([getattr(v, name) for v in self.days])


Base = tuple[list[tuple[str, str, str]], np.ndarray, np.ndarray]  # keys, weights, views


def _base(traits: OwnerTraits, days: tuple[VideoDay, ...], rng: np.random.Generator) -> Base:
    """Each video-day's views over (country, subscribed_status, live_or_on_demand).

    One split per channel-day, shared by every report family, as YouTube's reports
    agree: a cell's views in channel_basic are the views the same cell of
    channel_demographics or channel_device_os breaks down."""
    keys = [
        (c, s, m) for c, _ in traits.countries for s in SUBSCRIBED for m in ("on_demand", "live")
    ]
    country = {c: w for c, w in traits.countries}
    short = np.array([v.is_short for v in days])
    sub = traits.subscribed_share * np.where(short, 0.6, 1.0)
    live = np.array([v.live_share for v in days])
    weights = np.empty((len(days), len(keys)))
    for j, (c, s, m) in enumerate(keys):
        ws = sub if s == "subscribed" else 1 - sub
        wl = live if m == "live" else 1 - live
        weights[:, j] = country[c] * ws * wl
    weights *= rng.uniform(0.8, 1.2, weights.shape)
    views = np.array([v.views for v in days], dtype=np.int64)
    return keys, weights, apportion_rows(views, weights)


def _within(totals: np.ndarray, video: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Apportion ``totals[v]`` over the rows of each video ``v`` (rows sorted by video)."""
    if video.size == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(np.diff(video)) + 1]
    position = np.arange(video.size) - np.repeat(starts, np.diff(np.r_[starts, video.size]))
    matrix = np.zeros((totals.size, int(position.max()) + 1))
    matrix[video, position] = weights
    return apportion_rows(totals, matrix)[video, position]


def _metric_columns(days: tuple[VideoDay, ...], video: np.ndarray, views: np.ndarray) -> Columns:
    """engaged views, red views, watch time and averages of rows (video index, views > 0)."""
    engaged_total = np.array([v.engaged_views for v in days], dtype=np.int64)
    red_total = np.array([v.red_views for v in days], dtype=np.int64)
    minutes_total = np.array([v.watch_time_minutes for v in days])
    views_total = np.array([v.views for v in days], dtype=np.int64)
    duration = np.array([v.duration_seconds for v in days])
    engaged = _within(engaged_total, video, views)
    red = _within(red_total, video, views)
    minutes = np.round(minutes_total[video] * views / views_total[video], 4)
    return {
        "engaged_views": engaged.tolist(),
        "views": views.tolist(),
        "watch_time_minutes": minutes.tolist(),
        "average_view_duration_seconds": np.round(minutes * 60 / views).astype(int).tolist(),
        "average_view_duration_percentage": np.round(
            100 * minutes * 60 / views / duration[video], 2
        ).tolist(),
        "red_views": red.tolist(),
        "red_watch_time_minutes": np.round(minutes * red / views, 4).tolist(),
    }


def _head(channel: Channel, days: tuple[VideoDay, ...], day: date, video: np.ndarray) -> Columns:
    ids = [v.video_id or "" for v in days]
    return {
        "date": [day.strftime("%Y%m%d")] * len(video),
        "channel_id": [channel.channel_id] * len(video),
        "video_id": [ids[i] for i in video],
    }


def _basic(channel: Channel, days, day: date, rng, cells: Base) -> Columns:
    keys, weights, base = cells
    by_views = np.where(base.sum(axis=1, keepdims=True) > 0, base, weights)
    counts = {
        name: apportion_rows(np.array([getattr(v, name) for v in days], dtype=np.int64), by_views)
        for name in (
            "likes",
            "dislikes",
            "comments",
            "shares",
            "subscribers_gained",
            "subscribers_lost",
        )
    }
    added = apportion_rows(np.array([round(v.engaged_views * 0.002) for v in days]), by_views)
    keep = (
        (base > 0)
        | (counts["likes"] > 0)
        | (counts["comments"] > 0)
        | (counts["subscribers_gained"] > 0)
    )
    video, combo = np.nonzero(keep)
    views = base[video, combo]
    seen = views > 0
    metrics = _metric_columns(days, video[seen], views[seen])
    columns = _head(channel, days, day, video)
    columns.update(
        live_or_on_demand=[keys[c][2] for c in combo],
        subscribed_status=[keys[c][1] for c in combo],
        country_code=[keys[c][0] for c in combo],
    )
    at = np.cumsum(seen) - 1
    for name, values in metrics.items():
        zero = 0.0 if isinstance(values[0] if values else 0, float) else 0
        columns[name] = [values[at[r]] if seen[r] else zero for r in range(len(video))]
    for name, matrix in counts.items():
        columns[name] = matrix[video, combo].tolist()
    columns["videos_added_to_playlists"] = added[video, combo].tolist()
    columns["videos_removed_from_playlists"] = (added[video, combo] // 5).tolist()
    return columns


def _breakdown(channel, days, day: date, rng, breakdown, cells: Base) -> Columns:
    """Rows split by the base combinations, then each base cell over ``breakdown``."""
    keys, _, base = cells
    sub = np.array([w for _, w in breakdown])
    flat = base.reshape(-1)
    weights = sub[None, :] * rng.uniform(0.8, 1.2, (flat.size, sub.size))
    split = apportion_rows(flat, weights).reshape(base.shape[0], base.shape[1], sub.size)
    video, combo, part = np.nonzero(split)
    views = split[video, combo, part]
    columns = _head(channel, days, day, video)
    columns.update(
        live_or_on_demand=[keys[c][2] for c in combo],
        subscribed_status=[keys[c][1] for c in combo],
        country_code=[keys[c][0] for c in combo],
    )
    for name in breakdown[0][0]:
        columns[name] = [breakdown[p][0][name] for p in part]
    columns.update(_metric_columns(days, video, views))
    return columns


def _demographics(channel, traits, days, day: date, rng, cells: Base) -> Columns:
    keys, _, base = cells
    video, combo = np.nonzero(base >= DEMOGRAPHICS_MIN_VIEWS)
    groups = np.array([w for _, _, w in traits.demographics])
    weights = groups[None, :] * rng.uniform(0.8, 1.2, (video.size, groups.size))
    pct = np.round(100 * weights / weights.sum(axis=1, keepdims=True), 3)
    row, cell = np.nonzero(pct >= 1.0)
    columns = _head(channel, days, day, video[row])
    columns.update(
        live_or_on_demand=[keys[combo[r]][2] for r in row],
        subscribed_status=[keys[combo[r]][1] for r in row],
        country_code=[keys[combo[r]][0] for r in row],
        age_group=[traits.demographics[c][0] for c in cell],
        gender=[traits.demographics[c][1] for c in cell],
        views_percentage=pct[row, cell].tolist(),
    )
    return columns


def _reach(channel, days, day: date) -> Columns:
    video = np.array([i for i, v in enumerate(days) if v.impressions and v.video_id], dtype=int)
    columns = _head(channel, days, day, video)
    columns["video_thumbnail_impressions"] = [days[i].impressions for i in video]
    columns["video_thumbnail_impressions_ctr"] = [days[i].impressions_ctr for i in video]
    return columns


def _traffic(
    network: Network, channel: Channel, short: bool
) -> list[tuple[dict[str, object], float]]:
    out: list[tuple[dict[str, object], float]] = []
    for code, weight in TRAFFIC_SHORT if short else TRAFFIC_LONG:
        if code == 5:  # YouTube search: the search term
            details = [(f"{channel.niche} tips", 1.0)]
        elif code == 7:  # suggested videos: which video suggested it
            details = [(network.video(channel.index, 0).video_id, 1.0)]
        elif code == 9:  # external: the site
            details = [("google.com", 0.7), ("reddit.com", 0.3)]
        else:
            details = [("", 1.0)]
        out += [
            ({"traffic_source_type": code, "traffic_source_detail": d}, weight * s)
            for d, s in details
        ]
    return out


def _devices(short: bool) -> list[tuple[dict[str, object], float]]:
    return [({"device_type": d, "operating_system": o}, w) for d, o, w in DEVICES]


def _playback(short: bool) -> list[tuple[dict[str, object], float]]:
    return [
        (
            {
                "playback_location_type": code,
                "playback_location_detail": "example.com" if code == 1 else "",
            },
            w,
        )
        for code, w in (PLAYBACK_SHORT if short else PLAYBACK_LONG)
    ]


FAMILIES = (
    "channel_basic",
    "channel_traffic_source",
    "channel_device_os",
    "channel_playback_location",
    "channel_demographics",
    "channel_reach_basic",
)


def _concat(parts: list[Columns]) -> Columns:
    parts = [p for p in parts if p and p["date"]]
    if not parts:
        return {}
    return {name: [v for p in parts for v in p[name]] for name in parts[0]}


@lru_cache(maxsize=256)
def family_columns(network: Network, channel_index: int, family: str, day: date) -> Columns:
    """Every row of a report family for one channel-day, as columns holding every metric the
    model has (a report type picks its columns from them); ``video_id`` '' for deleted videos.
    ``{}`` when the channel had no activity that day (a header-only report)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown report family {family!r}; expected one of {FAMILIES}")
    channel = network.channels[channel_index]
    traits = owner_traits(network, channel_index)
    days = video_days(network, channel_index, day)
    if not days:
        return {}
    seed = int.from_bytes(
        hashlib.blake2b(
            f"{network.seed}:{channel_index}:{day}:{family}".encode(), digest_size=8
        ).digest(),
        "big",
    )
    rng = np.random.default_rng(seed)
    base_seed = f"{network.seed}:{channel_index}:{day}:base".encode()
    cells = _base(
        traits,
        days,
        np.random.default_rng(
            int.from_bytes(hashlib.blake2b(base_seed, digest_size=8).digest(), "big")
        ),
    )
    if family == "channel_basic":
        return _basic(channel, days, day, rng, cells)
    if family == "channel_demographics":
        return _demographics(channel, traits, days, day, rng, cells)
    if family == "channel_reach_basic":
        return _reach(channel, days, day)
    make = {
        "channel_traffic_source": lambda short: _traffic(network, channel, short),
        "channel_device_os": _devices,
        "channel_playback_location": _playback,
    }[family]
    parts = []
    keys, weights, base = cells
    for short in (False, True):  # Shorts and other formats have their own breakdowns
        rows = np.array([i for i, v in enumerate(days) if v.is_short == short], dtype=int)
        if rows.size:
            subset = tuple(days[i] for i in rows)
            part = (keys, weights[rows], base[rows])
            parts.append(_breakdown(channel, subset, day, rng, make(short), part))
    return _concat(parts)


def row_count(columns: Columns) -> int:
    return len(columns.get("date", ()))


def preliminary(columns: Columns, network: Network, key: str) -> Columns:
    """A report's first version, before YouTube regenerated it: up to
    :data:`PRELIMINARY_VIEWS` more views on its rows (later judged invalid)."""
    seed = int.from_bytes(
        hashlib.blake2b(f"{network.seed}:{key}".encode(), digest_size=8).digest(), "big"
    )
    rng = np.random.default_rng(seed)
    out = dict(columns)
    for name in ("views", "engaged_views"):
        if name in out:
            values = np.array(out[name], dtype=np.int64)
            out[name] = (
                (values + np.ceil(values * rng.uniform(0, PRELIMINARY_VIEWS, values.size)))
                .astype(int)
                .tolist()
            )
    return out


# --- revenue --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Revenue:
    """A video-day's (or channel-day's) monetary figures, in USD."""

    estimated_revenue: float
    estimated_ad_revenue: float
    gross_revenue: float
    estimated_red_partner_revenue: float
    monetized_playbacks: int
    ad_impressions: int

    @property
    def cpm(self) -> float:
        return (
            round(1000 * self.gross_revenue / self.ad_impressions, 3)
            if self.ad_impressions
            else 0.0
        )

    @property
    def playback_based_cpm(self) -> float:
        if not self.monetized_playbacks:
            return 0.0
        return round(1000 * self.gross_revenue / self.monetized_playbacks, 3)

    def scaled(self, share: float) -> Revenue:
        return Revenue(
            round(self.estimated_revenue * share, 6),
            round(self.estimated_ad_revenue * share, 6),
            round(self.gross_revenue * share, 6),
            round(self.estimated_red_partner_revenue * share, 6),
            round(self.monetized_playbacks * share),
            round(self.ad_impressions * share),
        )

    def __add__(self, other: Revenue) -> Revenue:
        return Revenue(
            round(self.estimated_revenue + other.estimated_revenue, 6),
            round(self.estimated_ad_revenue + other.estimated_ad_revenue, 6),
            round(self.gross_revenue + other.gross_revenue, 6),
            round(self.estimated_red_partner_revenue + other.estimated_red_partner_revenue, 6),
            self.monetized_playbacks + other.monetized_playbacks,
            self.ad_impressions + other.ad_impressions,
        )


NO_REVENUE = Revenue(0.0, 0.0, 0.0, 0.0, 0, 0)


def season(day: date) -> float:
    """Advertisers' season: Q4 up, January down."""
    return {10: 1.1, 11: 1.25, 12: 1.35, 1: 0.8}.get(day.month, 1.0)


def video_revenue(network: Network, channel_index: int, vd: VideoDay, day: date) -> Revenue:
    """What a video-day earned (nothing for a channel outside the Partner Program)."""
    traits = owner_traits(network, channel_index)
    if not traits.monetized or vd.engaged_views <= 0:
        return NO_REVENUE
    channel = network.channels[channel_index]
    rng = _rng(network.seed, "revenue", vd.video_id, day.isoformat())
    mix = sum(w * COUNTRY_RPM.get(c, COUNTRY_RPM_OTHER) for c, w in traits.countries)
    rpm = NICHE_RPM[channel.niche] * traits.rpm_factor * mix * season(day) * rng.uniform(0.9, 1.1)
    if vd.is_short:
        rpm *= SHORTS_RPM_SHARE
    ad_revenue = vd.engaged_views / 1000 * rpm
    share = CREATOR_SHARE["short" if vd.is_short else "long"]
    playbacks = round(
        vd.engaged_views * rng.uniform(0.2, 0.3)
        if vd.is_short
        else vd.engaged_views * rng.uniform(0.4, 0.6)
    )
    red = vd.red_views * 0.008
    return Revenue(
        estimated_revenue=round(ad_revenue + red, 6),
        estimated_ad_revenue=round(ad_revenue, 6),
        gross_revenue=round(ad_revenue / share, 6),
        estimated_red_partner_revenue=round(red, 6),
        monetized_playbacks=playbacks,
        ad_impressions=round(playbacks * (1.0 if vd.is_short else rng.uniform(1.3, 1.7))),
    )


def settled_share(day: date, now: datetime) -> float | None:
    """How much of a day's revenue the Analytics API shows at ``now``: None (no row yet)
    before :data:`FIRST_FIGURES_HOURS`, then rising to 1.0 at :data:`SETTLE_HOURS`."""
    age_h = (now - day_bounds(day)[1]).total_seconds() / 3600
    if age_h < FIRST_FIGURES_HOURS:
        return None
    if age_h >= SETTLE_HOURS:
        return 1.0
    return 0.85 + 0.15 * (age_h - FIRST_FIGURES_HOURS) / (SETTLE_HOURS - FIRST_FIGURES_HOURS)
