"""Fixtures for the owner's sources: a simulated YouTube, its owners' grants in a token store.

Each test gets a network of its own (its seed), so its channels, jobs and
rows are its own in the session database, and a dlt pipeline of its own.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from ingestion.youtube_analytics.landing import AnalyticsRun, land_revenue
from ingestion.youtube_owner.calls import RetryPolicy
from ingestion.youtube_owner.tokens import (
    ANALYTICS_SCOPE,
    MONETARY_SCOPE,
    ChannelToken,
    OAuthClient,
    TokenStore,
)
from ingestion.youtube_reporting.landing import ReportingRun, land_reports
from simulation.network import Network, RealWorld
from simulation.owner_apis import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, owner_grants
from simulation.youtube import YouTubeSimulator
from ytempire.settings import Settings

NO_WAIT = RetryPolicy(max_attempts=3, base_s=0.0, cap_s=0.0)


@dataclass
class Owners:
    """A simulated network served on loopback, the owners' grants stored, and the two landers."""

    sim: YouTubeSimulator
    settings: Settings
    store: TokenStore
    pipelines_dir: Path
    redis_prefix: str
    name: str

    @property
    def channels(self) -> list[str]:
        return [c.channel_id for c in self.sim.network.channels]

    def reporting(self, **extra: Any) -> ReportingRun:
        extra.setdefault("alert_topic", None)
        return land_reports(
            extra.pop("channels", self.channels),
            settings=self.settings,
            pipelines_dir=self.pipelines_dir,
            pipeline_name=f"rep_{self.name}",
            redis_prefix=self.redis_prefix,
            retry=NO_WAIT,
            now=self.sim.now,
            **extra,
        )

    def analytics(self, **extra: Any) -> AnalyticsRun:
        return land_revenue(
            extra.pop("channels", self.channels),
            settings=self.settings,
            pipelines_dir=self.pipelines_dir,
            pipeline_name=f"ana_{self.name}",
            redis_prefix=self.redis_prefix,
            retry=NO_WAIT,
            now=self.sim.now,
            **extra,
        )


def seed_of(request: pytest.FixtureRequest) -> int:
    """A seed per test: each test's channels (and so rows) are its own."""
    return 2000 + zlib.crc32(request.node.nodeid.encode()) % 1_000_000


@pytest.fixture
def owners(
    request: pytest.FixtureRequest, settings: Settings, redis_prefix: str, tmp_path: Path
) -> Iterator[Any]:
    """``owners(channels=4, day=..., real_world=...)``: an :class:`Owners` (stopped at the end)."""
    made: list[YouTubeSimulator] = []

    def make(
        channels: int = 4,
        day: date = date(2025, 2, 1),
        real_world: dict[int, RealWorld] | None = None,
    ) -> Owners:
        seed = seed_of(request) + len(made)
        network = Network(seed=seed, channels=channels, real_world=real_world or {})
        sim = YouTubeSimulator(network, day=day)
        sim.start()
        made.append(sim)
        store = TokenStore(tmp_path / f"tokens-{seed}.json")
        store.set_client(OAuthClient(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET))
        store.put(
            [
                ChannelToken(c, t, (ANALYTICS_SCOPE, MONETARY_SCOPE) if m else (ANALYTICS_SCOPE,))
                for c, t, m in owner_grants(network)
            ]
        )
        for c, _, m in owner_grants(network):  # the simulator knows its owners' grants
            sim.owner.oauth.grant(c, m)
        own = replace(
            settings,
            youtube_reporting_api_url=sim.url,
            youtube_analytics_api_url=sim.url,
            youtube_oauth_token_uri=f"{sim.url}token",
            youtube_token_store=str(store.path),
        )
        return Owners(sim, own, store, tmp_path / "dlt", redis_prefix, f"s{seed}")

    yield make
    for sim in made:
        sim.stop()


def at(day: date, hour: int = 12) -> datetime:
    """Noon (UTC) of a day."""
    from datetime import UTC

    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
