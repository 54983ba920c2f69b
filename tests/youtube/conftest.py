"""Fixtures for the YouTube tests: a simulator on loopback and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import pytest

from simulation import ids
from simulation.network import Network
from simulation.youtube import YouTubeSimulator
from ytempire.settings import Settings

DAY1 = date(2025, 1, 1)


@pytest.fixture
def simulator() -> Iterator[YouTubeSimulator]:
    """A 250-channel simulator at its epoch day, quota counted from zero."""
    sim = YouTubeSimulator(Network(), day=DAY1, api_key="test-key")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def yt_settings(settings: Settings, simulator: YouTubeSimulator) -> Settings:
    return replace(settings, youtube_api_url=simulator.url, youtube_api_key="test-key")


def channel_ids(count: int = 250) -> list[str]:
    return [ids.channel_id(i) for i in range(count)]
