"""A deterministic model of the simulated channel network, day by day.

The YouTube API simulator serves this model; nothing here does I/O. Given a
seed, every channel's traits, every upload's publish time and every video's
cumulative counters at any instant are fixed, so a test can recompute what the
simulator served. Channels and videos are named by :mod:`simulation.ids`.

The shape of the data follows what a network of small channels looks like:

- channel popularity is log-normal (a few channels get most of the views);
- each channel uploads 0-4 videos a day, about two on average;
- a video's views approach a video-specific total with a decay of a few days,
  plus a slow long tail, so cumulative counters only grow;
- likes are 2-6 % of views and comments 0.1-0.6 %, per channel;
- a share of each channel's uploads are Shorts (15-59 s), the rest 2-60 min;
- subscriber counts are rounded to three significant figures, as the API does.

Views changed meaning twice (:data:`VIEWS_BREAKS`): YouTube counts a Short's
views from playback start (every play and replay) from 2025-06-30, and every
format's from 2026-08-27. ``engaged_views`` keeps the old meaning (a view
after a short watch threshold) throughout. The public ``viewCount`` follows
``views``: from its format's break on, a video's counter grows by its plays,
``plays_ratio`` times its engaged views (Shorts 1.3-2.0, other formats
1.03-1.12), so the counter is continuous at the break and steeper after it.
Likes, comments and subscribers follow engaged views, so they do not jump.

Real channels also do what the platform's own never do, and the warehouse must
take it (:class:`RealWorld`; the default network holds a few of each, so the
demo exercises them): a channel with no uploads (its uploads playlist answers
``playlistNotFound``), a channel terminated from a given day (gone from
``channels.list``), hidden like counts, disabled comments, live streams and
premieres (``liveBroadcastContent`` ``upcoming``/``live``, duration ``P0D``,
then a 2-4 h replay) and very short uploads (5-29 s).
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from simulation import ids

DEFAULT_EPOCH = date(2025, 1, 1)
DEFAULT_HISTORY_DAYS = 60

NICHES = (
    ("gaming", "20"),
    ("education", "27"),
    ("tech", "28"),
    ("music", "10"),
    ("howto", "26"),
    ("entertainment", "24"),
    ("travel", "19"),
    ("sports", "17"),
)
COUNTRIES = ("US", "US", "US", "GB", "IN", "CA", "AU", "DE", "BR")
_WORDS = [
    "ultimate",
    "guide",
    "secrets",
    "daily",
    "best",
    "quick",
    "easy",
    "top",
    "hidden",
    "real",
    "story",
    "review",
    "challenge",
    "explained",
    "tips",
    "facts",
    "build",
    "journey",
    "first",
    "last",
]
# uploads on one day: 0..4 with these weights (mean 1.95)
_UPLOADS_PER_DAY = ((0, 1, 2, 3, 4), (0.10, 0.25, 0.35, 0.20, 0.10))
PACIFIC = ZoneInfo("America/Los_Angeles")
# The days `views` changed meaning (YouTube's revision history): Shorts, then every format.
SHORTS_VIEWS_BREAK = date(2025, 6, 30)
ALL_FORMATS_VIEWS_BREAK = date(2026, 8, 27)
VIEWS_BREAKS = {"shorts": SHORTS_VIEWS_BREAK, "all_formats": ALL_FORMATS_VIEWS_BREAK}


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b(":".join(str(p) for p in parts).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))  # noqa: S311 (a model, not crypto)


def round_3_significant(value: int) -> int:
    """Round like the API's ``subscriberCount`` (three significant figures, down)."""
    if value < 1000:
        return value
    scale = 10 ** (len(str(value)) - 3)
    return value // scale * scale


def iso_duration(seconds: int) -> str:
    """An ISO-8601 duration as the API writes it (``PT1H2M3S``, ``PT45S``)."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    out = "PT"
    if hours:
        out += f"{hours}H"
    if minutes:
        out += f"{minutes}M"
    if secs or out == "PT":
        out += f"{secs}S"
    return out


@dataclass(frozen=True)
class RealWorld:
    """What one channel does that the platform's own channels never do (all off by default).

    - ``no_uploads``: the channel never publishes; its uploads playlist 404s;
    - ``terminated_on``: from this day on the channel, its playlist and its
      videos are gone from every answer;
    - ``hides_like_count`` / ``comments_disabled``: ``likeCount`` /
      ``commentCount`` are absent from its videos' ``statistics``;
    - ``broadcasts``: its uploads are live streams, listed ``upcoming`` up to
      12 h before they start, ``live`` while they run (duration ``P0D``), then
      ``none`` with a 2-4 h replay;
    - ``very_short_share``: the share of its uploads that are 5-29 s Shorts.
    """

    no_uploads: bool = False
    terminated_on: date | None = None
    hides_like_count: bool = False
    comments_disabled: bool = False
    broadcasts: bool = False
    very_short_share: float = 0.0


# the default network (at least MIN_REAL_WORLD_CHANNELS channels) holds this many of each
REAL_WORLD_MIX: tuple[tuple[str, RealWorld], ...] = (
    ("no uploads", RealWorld(no_uploads=True)),
    ("no uploads", RealWorld(no_uploads=True)),
    ("terminated from day 2", RealWorld(terminated_on=DEFAULT_EPOCH + timedelta(days=1))),
    ("terminated from day 8", RealWorld(terminated_on=DEFAULT_EPOCH + timedelta(days=7))),
    ("hidden likes", RealWorld(hides_like_count=True)),
    ("hidden likes", RealWorld(hides_like_count=True)),
    ("comments disabled", RealWorld(comments_disabled=True)),
    ("comments disabled", RealWorld(comments_disabled=True)),
    ("hidden likes, comments disabled", RealWorld(hides_like_count=True, comments_disabled=True)),
    ("live streams", RealWorld(broadcasts=True)),
    ("live streams", RealWorld(broadcasts=True)),
    ("very short uploads", RealWorld(very_short_share=0.5)),
    ("very short uploads", RealWorld(very_short_share=0.5)),
)
MIN_REAL_WORLD_CHANNELS = 100


def default_real_world(channels: int, seed: int) -> dict[int, RealWorld]:
    """Channel index -> :class:`RealWorld` traits of a default network of ``channels``.

    Networks smaller than :data:`MIN_REAL_WORLD_CHANNELS` (unit tests' small
    ones) get none; larger ones get :data:`REAL_WORLD_MIX` on channels drawn by
    the seed, never among the first ten.
    """
    if channels < MIN_REAL_WORLD_CHANNELS:
        return {}
    chosen = _rng(seed, "real-world").sample(range(10, channels), len(REAL_WORLD_MIX))
    return {i: traits for i, (_, traits) in zip(chosen, REAL_WORLD_MIX, strict=True)}


@dataclass(frozen=True)
class Channel:
    """The fixed traits of one simulated channel."""

    index: int
    channel_id: str
    title: str
    niche: str
    category_id: str
    country: str
    published_at: datetime
    popularity: float  # expected lifetime views of a typical upload
    like_rate: float
    comment_rate: float
    subscribe_rate: float
    base_subscribers: int
    shorts_share: float
    hidden_subscriber_count: bool
    real_world: RealWorld = field(default_factory=RealWorld)

    @property
    def uploads_playlist_id(self) -> str:
        return ids.uploads_playlist_id(self.channel_id)

    def exists_at(self, as_of: datetime) -> bool:
        """Whether the channel is on YouTube at ``as_of`` (created, not terminated)."""
        gone = self.real_world.terminated_on
        return self.published_at < as_of and (gone is None or as_of.date() < gone)


@dataclass(frozen=True)
class Video:
    """The fixed traits of one upload."""

    channel_index: int
    upload_index: int
    video_id: str
    published_at: datetime
    title: str
    description: str
    tags: tuple[str, ...]
    duration_seconds: int
    definition: str
    total_views: float
    decay_days: float
    tail_per_day: float
    like_factor: float
    comment_factor: float
    # a live stream: listed (published_at) before it starts; P0D until it ends
    live_starts_at: datetime | None = None
    is_short: bool = False
    plays_ratio: float = 1.0  # views per engaged view once views count every play

    @property
    def views_break(self) -> date:
        """The Pacific day from which this video's ``views`` count every play."""
        return SHORTS_VIEWS_BREAK if self.is_short else ALL_FORMATS_VIEWS_BREAK

    def broadcast_content(self, as_of: datetime) -> str:
        """``liveBroadcastContent`` at ``as_of``: ``upcoming``, ``live`` or ``none``."""
        if self.live_starts_at is None:
            return "none"
        if as_of < self.live_starts_at:
            return "upcoming"
        ends = self.live_starts_at + timedelta(seconds=self.duration_seconds)
        return "live" if as_of < ends else "none"

    def duration_at(self, as_of: datetime) -> str:
        """``contentDetails.duration`` at ``as_of``: ``P0D`` while upcoming or live."""
        if self.broadcast_content(as_of) != "none":
            return "P0D"
        return iso_duration(self.duration_seconds)


@dataclass(frozen=True)
class VideoCounters:
    """A video's true counters (``videos.list`` leaves out what its channel hides).

    ``views`` is the public ``viewCount`` (the meaning in force, see the module
    docstring); ``engaged_views`` the views in the old meaning, never public.
    """

    views: int
    likes: int
    comments: int
    engaged_views: int = 0


class Network:
    """The simulated network: channels, their uploads and counters at any instant."""

    def __init__(
        self,
        *,
        seed: int = ids.DEFAULT_SEED,
        channels: int = ids.DEFAULT_CHANNELS,
        epoch: date = DEFAULT_EPOCH,
        history_days: int = DEFAULT_HISTORY_DAYS,
        real_world: Mapping[int, RealWorld] | None = None,
    ) -> None:
        """``real_world``: channel index -> traits; default :func:`default_real_world`
        (``{}`` for a network of the platform's own channels only)."""
        if channels < 1:
            raise ValueError(f"a network needs at least one channel, got {channels}")
        self.seed = seed
        self.epoch = epoch
        self.history_days = history_days
        traits = default_real_world(channels, seed) if real_world is None else real_world
        self.channels = [self._make_channel(i, traits.get(i)) for i in range(channels)]
        self._by_channel_id = {c.channel_id: c for c in self.channels}
        # per channel: publish times of its uploads in order, generated up to _horizon
        self._publish_times: list[list[datetime]] = [[] for _ in self.channels]
        self._video_index: dict[str, tuple[int, int]] = {}
        self._horizon = epoch - timedelta(days=history_days)  # first day not generated yet

    # --- channels and uploads ------------------------------------------------------------

    def _make_channel(self, i: int, real_world: RealWorld | None = None) -> Channel:
        rng = _rng(self.seed, "channel", i)
        niche, category = NICHES[rng.randrange(len(NICHES))]
        age_days = self.history_days + rng.randrange(30, 2000)
        return Channel(
            index=i,
            channel_id=ids.channel_id(i, self.seed),
            title=f"{niche.title()} {rng.choice(_WORDS).title()} {i:03d}",
            niche=niche,
            category_id=category,
            country=rng.choice(COUNTRIES),
            published_at=_at(self.epoch - timedelta(days=age_days), rng.randrange(86400)),
            popularity=rng.lognormvariate(8.0, 1.6),
            like_rate=rng.uniform(0.02, 0.06),
            comment_rate=rng.uniform(0.001, 0.006),
            subscribe_rate=rng.uniform(0.002, 0.012),
            base_subscribers=int(rng.lognormvariate(6.0, 1.5)),
            shorts_share=rng.uniform(0.1, 0.6),
            hidden_subscriber_count=rng.random() < 0.03,
            real_world=real_world or RealWorld(),
        )

    def channel(self, channel_id: str) -> Channel | None:
        return self._by_channel_id.get(channel_id)

    def _generate_until(self, day: date) -> None:
        """Generate publish times of every upload on days before ``day`` + 1."""
        while self._horizon <= day:
            for ch in self.channels:
                rng = _rng(self.seed, "day", ch.index, self._horizon.isoformat())
                count = rng.choices(*_UPLOADS_PER_DAY)[0]
                gone = ch.real_world.terminated_on
                if ch.real_world.no_uploads or (gone is not None and self._horizon >= gone):
                    count = 0
                for second in sorted(rng.randrange(86400) for _ in range(count)):
                    times = self._publish_times[ch.index]
                    vid = ids.youtube_video_id(ch.index, len(times), self.seed)
                    self._video_index[vid] = (ch.index, len(times))
                    times.append(_at(self._horizon, second))
            self._horizon += timedelta(days=1)

    def uploads(self, channel: Channel, as_of: datetime) -> int:
        """How many videos ``channel`` has published before ``as_of``."""
        self._generate_until(as_of.date())
        return bisect_left(self._publish_times[channel.index], as_of)

    def locate(self, video_id: str, as_of: datetime) -> tuple[int, int] | None:
        """(channel index, upload index) of a video published before ``as_of``."""
        self._generate_until(as_of.date())
        found = self._video_index.get(video_id)
        if found is None or self._publish_times[found[0]][found[1]] >= as_of:
            return None
        return found

    # --- videos and counters -------------------------------------------------------------

    def video(self, channel_index: int, upload_index: int) -> Video:
        """An upload's traits (uploads up to the epoch exist from the start)."""
        if upload_index >= len(self._publish_times[channel_index]):
            self._generate_until(self.epoch)
        return _video(self, channel_index, upload_index)

    def counters(self, video: Video, as_of: datetime) -> VideoCounters:
        engaged = _engaged(video, as_of)
        views = engaged
        since = pacific_start(video.views_break)
        if as_of > since:  # every play counts from the break on
            views += int((video.plays_ratio - 1) * (engaged - _engaged(video, since)))
        ch = self.channels[video.channel_index]
        return VideoCounters(
            views=views,
            likes=int(engaged * ch.like_rate * video.like_factor),
            comments=int(engaged * ch.comment_rate * video.comment_factor),
            engaged_views=engaged,
        )

    def channel_totals(self, channel: Channel, as_of: datetime) -> tuple[int, int, int]:
        """(viewCount, subscriberCount, videoCount) of ``channel`` at ``as_of``."""
        return _channel_totals(self, channel.index, as_of)


def _engaged(video: Video, as_of: datetime) -> int:
    """Engaged views (the old meaning) of ``video`` at ``as_of``."""
    watched_from = video.live_starts_at or video.published_at  # a stream: from its start
    age = max(0.0, (as_of - watched_from).total_seconds() / 86400)
    return int(
        video.total_views * (1 - math.exp(-age / video.decay_days)) + video.tail_per_day * age
    )


@lru_cache(maxsize=200_000)
def _video(net: Network, channel_index: int, upload_index: int) -> Video:
    ch = net.channels[channel_index]
    published_at = net._publish_times[channel_index][upload_index]
    rng = _rng(net.seed, "video", channel_index, upload_index)
    is_short = rng.random() < ch.shorts_share
    if is_short:
        duration = rng.randrange(30, 61)  # the platform makes 30-3600 s videos
    else:
        duration = min(3600, max(120, int(rng.lognormvariate(math.log(540), 0.6))))
    duration, live_starts_at = _real_world_duration(ch.real_world, published_at, duration)
    is_short = is_short and live_starts_at is None
    words = rng.sample(_WORDS, 4)
    total = ch.popularity * rng.lognormvariate(0.0, 1.0) * (2.5 if is_short else 1.0)
    # drawn from a generator of its own, so every trait above is as it was before it existed
    plays = _rng(net.seed, "plays", channel_index, upload_index)
    plays_ratio = plays.uniform(1.3, 2.0) if is_short else plays.uniform(1.03, 1.12)
    return Video(
        channel_index=channel_index,
        upload_index=upload_index,
        video_id=ids.youtube_video_id(channel_index, upload_index, net.seed),
        published_at=published_at,
        title=f"{' '.join(w.title() for w in words)} #{upload_index}"
        + (" #shorts" if is_short else ""),
        description=f"{ch.title}: {' '.join(words)}.",
        tags=(ch.niche, *words[:2]),
        duration_seconds=duration,
        definition="hd" if rng.random() < 0.9 else "sd",
        total_views=total,
        decay_days=rng.uniform(1.5, 6.0),
        tail_per_day=total * rng.uniform(0.001, 0.004),
        like_factor=rng.uniform(0.7, 1.3),
        comment_factor=rng.uniform(0.5, 1.5),
        live_starts_at=live_starts_at,
        is_short=is_short,
        plays_ratio=plays_ratio,
    )


def _real_world_duration(
    traits: RealWorld, published_at: datetime, duration: int
) -> tuple[int, datetime | None]:
    """(duration in seconds, start of the live stream or None) of a real-world upload.

    Drawn from a generator of its own, so the platform's videos' other traits
    are the same with or without real-world channels in the network.
    """
    rng = _rng("real-world-video", published_at.isoformat(), duration)
    if traits.broadcasts:
        lead = rng.choice((0, 0, 3600, 6 * 3600, 12 * 3600))  # premieres are announced
        return rng.randrange(2 * 3600, 4 * 3600 + 1), published_at + timedelta(seconds=lead)
    if rng.random() < traits.very_short_share:
        return rng.randrange(5, 30), None
    return duration, None


@lru_cache(maxsize=4096)
def _channel_totals(net: Network, channel_index: int, as_of: datetime) -> tuple[int, int, int]:
    ch = net.channels[channel_index]
    count = net.uploads(ch, as_of)
    counters = [net.counters(net.video(channel_index, n), as_of) for n in range(count)]
    views = sum(c.views for c in counters)
    engaged = sum(c.engaged_views for c in counters)  # subscribers follow engaged views
    subscribers = round_3_significant(ch.base_subscribers + int(engaged * ch.subscribe_rate))
    return views, subscribers, count


def _at(day: date, second: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=second)


def day_end(day: date) -> datetime:
    """The instant a simulated day is observed at: its last second (UTC)."""
    return _at(day, 86399)


def pacific_start(day: date) -> datetime:
    """The first instant of a Pacific day (YouTube's reporting day), in UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=PACIFIC).astimezone(UTC)
