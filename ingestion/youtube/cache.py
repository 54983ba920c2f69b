"""The last good ``channels.list`` item per channel, cached in Redis with a TTL.

The documented fallback: when a run of the same quota day has already fetched
a channel (within the TTL, default one hour) but its rows never landed -- the
load crashed, or the run was cut -- the next run of that day takes the channel
from here instead of spending quota again. Entries of another day are never
used, so a snapshot is always labelled with the day it was observed on.
Other readers (dashboards) may call :meth:`ChannelCache.get` for a channel's
latest figures without touching the API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import redis

from ytempire.errors import ServiceUnavailable


@dataclass(frozen=True)
class CachedChannel:
    item: dict[str, Any]
    collection_date: date
    fetched_at: datetime


@dataclass
class ChannelCache:
    client: redis.Redis
    prefix: str = "ytempire:"
    ttl_s: int = 3600

    def key(self, channel_id: str) -> str:
        return f"{self.prefix}youtube:channel:{channel_id}"

    def put(self, items: list[dict[str, Any]], day: date, fetched_at: datetime) -> None:
        """Cache each item of one good ``channels.list`` response."""
        if not items:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for item in items:
                    value = {"day": day.isoformat(), "fetched_at": fetched_at.isoformat()}
                    pipe.set(
                        self.key(item["id"]), json.dumps({**value, "item": item}), ex=self.ttl_s
                    )
                pipe.execute()
        except redis.RedisError as exc:
            raise ServiceUnavailable("Redis", "the channel cache", exc) from exc

    def get_many(self, channel_ids: list[str]) -> dict[str, CachedChannel]:
        """The cached entries of ``channel_ids`` that are still alive."""
        if not channel_ids:
            return {}
        try:
            raw = self.client.mget([self.key(c) for c in channel_ids])
        except redis.RedisError as exc:
            raise ServiceUnavailable("Redis", "the channel cache", exc) from exc
        found = {}
        for channel_id, value in zip(channel_ids, raw, strict=True):
            if value:
                data = json.loads(value)
                found[channel_id] = CachedChannel(
                    item=data["item"],
                    collection_date=date.fromisoformat(data["day"]),
                    fetched_at=datetime.fromisoformat(data["fetched_at"]),
                )
        return found

    def get(self, channel_id: str) -> CachedChannel | None:
        return self.get_many([channel_id]).get(channel_id)
