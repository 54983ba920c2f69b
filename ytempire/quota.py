"""The YouTube APIs' quota budgets, shared by every collector through Redis.

Google grants a project 10,000 Data API units a day; the day resets at midnight
Pacific time. Every call costs the units in :data:`QUOTA_COSTS` (the one cost
table of the project), whether it succeeds or not. The owner's APIs, the
Reporting API and the Analytics API, have quotas of their own, counted in
requests (:data:`REPORTING_QUOTA_COSTS`, :data:`ANALYTICS_QUOTA_COSTS`): each
has a budget apart from the Data API's (:class:`QuotaBudget` ``api``), so a
report backfill can never spend the units the daily statistics need. A collector reserves the
units *before* it sends a request: one Lua script adds the cost to the day's
counter only if the total stays within the budget, so concurrent collectors
can never spend more than the budget together (no check-then-increment race).

A reservation may also name a :class:`ChannelShare`: the units one channel's
own calls may spend on the day. The same script then refuses a call that
would take that channel past its share (:class:`ChannelShareExhausted`), so
one misbehaving channel cannot spend the network's budget, however many runs
or collectors ask for it that day. What a share is, the collector decides
(:mod:`ingestion.youtube.collector`).

If Redis cannot be reached the budget fails closed: :meth:`QuotaBudget.reserve`
raises :class:`~ytempire.errors.ServiceUnavailable` and no call is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import redis

from ytempire.errors import ServiceUnavailable, YTEmpireError

PACIFIC = ZoneInfo("America/Los_Angeles")

# Units per call, from https://developers.google.com/youtube/v3/determine_quota_cost
QUOTA_COSTS: dict[str, int] = {
    "channels.list": 1,
    "playlistItems.list": 1,
    "videos.list": 1,
    "search.list": 100,
}

# The owner's APIs count requests, whatever the method.
REPORTING_QUOTA_COSTS: dict[str, int] = dict.fromkeys(
    (
        "reportTypes.list",
        "jobs.list",
        "jobs.create",
        "jobs.get",
        "jobs.delete",
        "jobs.reports.list",
        "jobs.reports.get",
        "media.download",
    ),
    1,
)
ANALYTICS_QUOTA_COSTS: dict[str, int] = {"reports.query": 1}

# Counters outlive their day by a day, so yesterday's figure stays readable.
_KEY_TTL_S = 2 * 86400

# KEYS[1] day counter, KEYS[2] (optional) one channel's day counter; ARGV: cost, budget,
# ttl, the channel's share. Returns the new total, -1 if over the budget, -2 if over the
# channel's share; nothing is counted unless both fit.
_RESERVE_LUA = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[1])
if used + cost > tonumber(ARGV[2]) then
  return -1
end
if #KEYS > 1 then
  local spent = tonumber(redis.call('GET', KEYS[2]) or '0')
  if spent + cost > tonumber(ARGV[4]) then
    return -2
  end
  redis.call('INCRBY', KEYS[2], cost)
  redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
end
used = redis.call('INCRBY', KEYS[1], cost)
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[3]))
return used
"""


def quota_day(now: datetime | None = None) -> date:
    """The quota day (a Pacific-time date) an instant belongs to; default: now."""
    return (now or datetime.now(PACIFIC)).astimezone(PACIFIC).date()


def cost_of(method: str, costs: Mapping[str, int] = QUOTA_COSTS) -> int:
    """Units one call of ``method`` (e.g. ``videos.list``) costs in ``costs``."""
    try:
        return costs[method]
    except KeyError:
        raise ValueError(
            f"no quota cost known for {method!r}; add it to the cost table in ytempire/quota.py"
        ) from None


def _api_name(api: str) -> str:
    """``youtube_reporting`` -> ``YouTube Reporting API``; ``youtube`` -> ``YouTube``."""
    words = api.split("_")
    return " ".join(["YouTube", *(w.title() for w in words[1:])]) + (" API" if words[1:] else "")


class QuotaBudgetExhausted(YTEmpireError):
    """The day's shared budget cannot cover the next call."""

    def __init__(
        self,
        day: date,
        method: str,
        used: int,
        limit: int,
        *,
        cost: int | None = None,
        api: str = "youtube",
        variable: str = "YTEMPIRE_YOUTUBE_DAILY_QUOTA",
    ):
        self.day, self.method, self.used, self.limit = day, method, used, limit
        unit = "units" if api == "youtube" else "requests"
        super().__init__(
            f"the {_api_name(api)} quota budget for {day} is spent ({used} of {limit} {unit}; "
            f"{method} costs {cost if cost is not None else cost_of(method)}). Next: wait for "
            f"the Pacific-time reset or raise {variable} if the project's quota allows."
        )


@dataclass(frozen=True)
class ChannelShare:
    """The most units the calls made for one channel may spend in a quota day."""

    channel_id: str
    units: int


class ChannelShareExhausted(YTEmpireError):
    """One channel's calls have spent its share of the day's budget (the others go on)."""

    def __init__(self, day: date, method: str, share: ChannelShare, spent: int):
        self.day, self.method, self.share, self.spent = day, method, share, spent
        super().__init__(
            f"channel {share.channel_id} has spent its share of the {day} budget ({spent} of "
            f"{share.units} units; {method} costs {cost_of(method)}): its listing stops here "
            "and the other channels keep theirs. Next: see why it needs so many pages; the "
            "share comes back with the next quota day."
        )


@dataclass
class QuotaBudget:
    """The day's budget of one API in Redis, keyed ``<prefix><api>:quota:<YYYY-MM-DD>``.

    ``api`` is ``youtube`` (the Data API, :data:`QUOTA_COSTS`) unless a budget of
    its own is kept: ``youtube_reporting`` with :data:`REPORTING_QUOTA_COSTS`,
    ``youtube_analytics`` with :data:`ANALYTICS_QUOTA_COSTS`. ``variable`` names
    the setting of its limit, for the error that says it is spent.
    """

    client: redis.Redis
    daily_limit: int
    prefix: str = "ytempire:"
    where: str = "redis"
    api: str = "youtube"
    costs: Mapping[str, int] = field(default_factory=lambda: QUOTA_COSTS)
    variable: str = "YTEMPIRE_YOUTUBE_DAILY_QUOTA"

    def __post_init__(self) -> None:
        self._reserve = self.client.register_script(_RESERVE_LUA)

    def key(self, day: date) -> str:
        return f"{self.prefix}{self.api}:quota:{day.isoformat()}"

    def channel_key(self, day: date, channel_id: str) -> str:
        return f"{self.key(day)}:channel:{channel_id}"

    def reserve(self, method: str, day: date, share: ChannelShare | None = None) -> int:
        """Reserve the cost of one ``method`` call on ``day``; return the day's new total.

        Raises :class:`QuotaBudgetExhausted` past the day's budget and, when the
        call is made for one channel (``share``), :class:`ChannelShareExhausted`
        past that channel's share; a refused call is counted nowhere.
        """
        cost = cost_of(method, self.costs)
        keys, args = [self.key(day)], [cost, self.daily_limit, _KEY_TTL_S]
        if share is not None:
            keys.append(self.channel_key(day, share.channel_id))
            args.append(share.units)
        try:
            total = int(self._reserve(keys=keys, args=args))
        except redis.RedisError as exc:
            raise self._down(exc) from exc
        if total == -1:
            raise QuotaBudgetExhausted(
                day,
                method,
                self.used(day),
                self.daily_limit,
                cost=cost,
                api=self.api,
                variable=self.variable,
            )
        if total == -2 and share is not None:
            raise ChannelShareExhausted(day, method, share, self.spent_by(share.channel_id, day))
        return total

    def day_share(self, day: date, units: int) -> int:
        """The channel share of ``day``: ``units`` if none is set yet, else the one set.

        The first run of a quota day fixes it, so a later run of that day that
        names fewer channels does not hand each a bigger part of the budget.
        """
        key = f"{self.key(day)}:share"
        try:
            self.client.set(key, units, nx=True, ex=_KEY_TTL_S)
            return int(self.client.get(key) or units)
        except redis.RedisError as exc:
            raise self._down(exc) from exc

    def spent_by(self, channel_id: str, day: date) -> int:
        """Units reserved on ``day`` for calls made for ``channel_id``."""
        try:
            return int(self.client.get(self.channel_key(day, channel_id)) or 0)
        except redis.RedisError as exc:
            raise self._down(exc) from exc

    def used(self, day: date) -> int:
        try:
            return int(self.client.get(self.key(day)) or 0)
        except redis.RedisError as exc:
            raise self._down(exc) from exc

    def remaining(self, day: date) -> int:
        return max(0, self.daily_limit - self.used(day))

    def check(self) -> None:
        """Fail now, before any API call, if Redis is unreachable."""
        try:
            self.client.ping()
        except redis.RedisError as exc:
            raise self._down(exc) from exc

    def _down(self, exc: Exception) -> ServiceUnavailable:
        return ServiceUnavailable(
            "Redis",
            self.where,
            f"{exc} (the {_api_name(self.api)} quota budget lives there; no API call is made "
            "without a reservation)",
        )


def budget_from_settings(
    settings: object | None = None, *, prefix: str | None = None
) -> QuotaBudget:
    """The budget configured by ``YTEMPIRE_REDIS_*`` and ``YTEMPIRE_YOUTUBE_DAILY_QUOTA``."""
    from ytempire.clients import redis_client
    from ytempire.settings import Settings, get_settings

    s = settings if isinstance(settings, Settings) else get_settings()
    return QuotaBudget(
        redis_client(settings=s),
        daily_limit=s.youtube_daily_quota,
        prefix=s.redis_key_prefix if prefix is None else prefix,
        where=s.redis_url,
    )
