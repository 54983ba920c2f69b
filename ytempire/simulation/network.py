"""A deterministic model of the simulated channel network, day by day.

The YouTube API simulator serves this model; nothing here does I/O. Given a
seed, every channel's traits, every upload's publish time and every video's
cumulative counters at any instant are fixed, so a test can recompute what the
simulator served. Channels and videos are named by :mod:`ytempire.simulation.ids`.

The shape of the data follows what a network of small channels looks like:

- channel popularity is log-normal (a few channels get most of the views);
- each channel uploads 0-4 videos a day, about two on average;
- a video's views approach a video-specific total with a decay of a few days,
  plus a slow long tail, so cumulative counters only grow;
- likes are 2-6 % of views and comments 0.1-0.6 %, per channel;
- a share of each channel's uploads are Shorts (15-59 s), the rest 2-60 min;
- subscriber counts are rounded to three significant figures, as the API does.
"""

from __future__ import annotations

import hashlib
import math
import random
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from ytempire.simulation import ids

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

    @property
    def uploads_playlist_id(self) -> str:
        return ids.uploads_playlist_id(self.channel_id)


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


@dataclass(frozen=True)
class VideoCounters:
    views: int
    likes: int
    comments: int


class Network:
    """The simulated network: channels, their uploads and counters at any instant."""

    def __init__(
        self,
        *,
        seed: int = ids.DEFAULT_SEED,
        channels: int = ids.DEFAULT_CHANNELS,
        epoch: date = DEFAULT_EPOCH,
        history_days: int = DEFAULT_HISTORY_DAYS,
    ) -> None:
        if channels < 1:
            raise ValueError(f"a network needs at least one channel, got {channels}")
        self.seed = seed
        self.epoch = epoch
        self.history_days = history_days
        self.channels = [self._make_channel(i) for i in range(channels)]
        self._by_channel_id = {c.channel_id: c for c in self.channels}
        # per channel: publish times of its uploads in order, generated up to _horizon
        self._publish_times: list[list[datetime]] = [[] for _ in self.channels]
        self._video_index: dict[str, tuple[int, int]] = {}
        self._horizon = epoch - timedelta(days=history_days)  # first day not generated yet

    # --- channels and uploads ------------------------------------------------------------

    def _make_channel(self, i: int) -> Channel:
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
        )

    def channel(self, channel_id: str) -> Channel | None:
        return self._by_channel_id.get(channel_id)

    def _generate_until(self, day: date) -> None:
        """Generate publish times of every upload on days before ``day`` + 1."""
        while self._horizon <= day:
            for ch in self.channels:
                rng = _rng(self.seed, "day", ch.index, self._horizon.isoformat())
                count = rng.choices(*_UPLOADS_PER_DAY)[0]
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
        age = max(0.0, (as_of - video.published_at).total_seconds() / 86400)
        views = int(
            video.total_views * (1 - math.exp(-age / video.decay_days)) + video.tail_per_day * age
        )
        ch = self.channels[video.channel_index]
        return VideoCounters(
            views=views,
            likes=int(views * ch.like_rate * video.like_factor),
            comments=int(views * ch.comment_rate * video.comment_factor),
        )

    def channel_totals(self, channel: Channel, as_of: datetime) -> tuple[int, int, int]:
        """(viewCount, subscriberCount, videoCount) of ``channel`` at ``as_of``."""
        return _channel_totals(self, channel.index, as_of)


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
    words = rng.sample(_WORDS, 4)
    total = ch.popularity * rng.lognormvariate(0.0, 1.0) * (2.5 if is_short else 1.0)
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
    )


@lru_cache(maxsize=4096)
def _channel_totals(net: Network, channel_index: int, as_of: datetime) -> tuple[int, int, int]:
    ch = net.channels[channel_index]
    count = net.uploads(ch, as_of)
    views = sum(net.counters(net.video(channel_index, n), as_of).views for n in range(count))
    subscribers = round_3_significant(ch.base_subscribers + int(views * ch.subscribe_rate))
    return views, subscribers, count


def _at(day: date, second: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=second)


def day_end(day: date) -> datetime:
    """The instant a simulated day is observed at: its last second (UTC)."""
    return _at(day, 86399)
