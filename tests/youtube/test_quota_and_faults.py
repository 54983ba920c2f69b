"""The shared budget in real Redis: atomic reservations, fail closed, retries and halts."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from ingestion.youtube.api import (
    ApiCallFailed,
    QuotaExhausted,
    RetryPolicy,
    YouTubeApi,
    build_client,
)
from ingestion.youtube.cache import ChannelCache
from ingestion.youtube.collector import Collector, Known
from ingestion.youtube.landing import run_day
from simulation.network import day_end
from simulation.youtube import Fault
from tests.youtube.conftest import DAY1, channel_ids
from ytempire.clients import redis_client
from ytempire.errors import ServiceUnavailable
from ytempire.quota import QuotaBudget, QuotaBudgetExhausted

NO_WAIT = RetryPolicy(max_attempts=4, base_s=0.01, cap_s=0.05)


def _budget(settings, prefix, limit):
    return QuotaBudget(redis_client(settings=settings), limit, prefix, where=settings.redis_url)


def _api(simulator, budget, sleeps=None):
    return YouTubeApi(
        build_client(simulator.url, "test-key"),
        budget,
        DAY1,
        NO_WAIT,
        sleep=(sleeps.append if sleeps is not None else lambda _s: None),
    )


def test_reserve_stops_at_the_budget(settings, redis_prefix):
    budget = _budget(settings, redis_prefix, 5)
    assert [budget.reserve("videos.list", DAY1) for _ in range(5)] == [1, 2, 3, 4, 5]
    with pytest.raises(QuotaBudgetExhausted, match="5 of 5 units"):
        budget.reserve("videos.list", DAY1)
    with pytest.raises(QuotaBudgetExhausted):
        _budget(settings, redis_prefix, 104).reserve("search.list", DAY1)
    assert budget.used(DAY1) == 5


def test_four_concurrent_collectors_never_exceed_the_budget(settings, redis_prefix, simulator):
    limit = 37
    channels = channel_ids(250)
    outcomes = []

    def collect():
        api = _api(simulator, _budget(settings, redis_prefix, limit))
        out = Collector(api, DAY1, Known(), {}).run(channels)
        outcomes.append((out.status, api.units_used))

    threads = [threading.Thread(target=collect) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [status for status, _ in outcomes] == ["partial"] * 4
    assert simulator.ledger.used() == sum(units for _, units in outcomes) == limit
    assert _budget(settings, redis_prefix, limit).used(DAY1) == limit


def test_redis_down_means_no_api_call_and_a_clear_error(yt_settings, simulator, tmp_path):
    down = replace(yt_settings, redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(ServiceUnavailable, match="Redis is down or unreachable"):
        run_day(DAY1, channel_ids(5), settings=down, pipelines_dir=tmp_path)
    assert simulator.ledger.calls() == 0


def test_redis_dying_mid_run_stops_calls(settings, simulator):
    budget = QuotaBudget(
        redis_client(settings=replace(settings, redis_url="redis://127.0.0.1:1/0")), 100
    )
    with pytest.raises(ServiceUnavailable, match="Redis"):
        _api(simulator, budget).list("channels.list", part="id", id="x")
    assert simulator.ledger.calls() == 0


def test_transient_errors_are_retried_with_backoff(settings, redis_prefix, simulator):
    for fault in (Fault(503), Fault(429), Fault(403, "rateLimitExceeded"), Fault(500)):
        simulator.inject(fault)
    sleeps: list[float] = []
    api = _api(simulator, _budget(settings, redis_prefix, 100), sleeps)
    with pytest.raises(ApiCallFailed, match="after 4 attempts"):
        api.list("videos.list", part="statistics", id="x")
    assert len(sleeps) == 3
    assert all(0 <= s <= NO_WAIT.cap_s for s in sleeps)
    simulator.inject(Fault(503))
    assert api.list("videos.list", part="statistics", id="x")["items"] == []
    # every attempt was reserved and charged, as Google charges failed calls
    assert api.units_used == simulator.ledger.used() == 6


def test_quota_exceeded_is_never_retried(settings, redis_prefix, simulator):
    simulator.inject(Fault(403, "quotaExceeded", times=5))
    sleeps: list[float] = []
    api = _api(simulator, _budget(settings, redis_prefix, 100), sleeps)
    with pytest.raises(QuotaExhausted, match="quotaExceeded"):
        api.list("videos.list", part="statistics", id="x")
    assert sleeps == []
    assert simulator.ledger.calls() == 1


def test_cached_channels_spare_quota_on_a_same_day_rerun(settings, redis_prefix, simulator):
    cache = ChannelCache(redis_client(settings=settings), redis_prefix, ttl_s=60)
    channels = channel_ids(50)
    first = Collector(
        _api(simulator, _budget(settings, redis_prefix, 1000)), DAY1, Known(), {}, cache=cache
    )
    first.run(channels)
    assert simulator.ledger.calls("channels.list") == 1
    assert 0 < redis_client(settings=settings).ttl(cache.key(channels[0])) <= 60
    # the first run's rows never landed (say the load crashed): the rerun takes them from cache
    again = Collector(
        _api(simulator, _budget(settings, redis_prefix, 1000)), DAY1, Known(), {}, cache=cache
    )
    out = again.run(channels)
    assert simulator.ledger.calls("channels.list") == 1
    assert out.tables["channel_snapshots"] == first.out.tables["channel_snapshots"]
    # an entry from another day is never reused
    later = Collector(
        _api(simulator, _budget(settings, redis_prefix, 1000)),
        DAY1.replace(day=2),
        Known(),
        {},
        cache=cache,
    )
    later.api.quota_day = later.day
    later.run(channels[:1])
    assert simulator.ledger.calls("channels.list") == 2


def test_collector_halts_on_redis_loss_and_keeps_the_error(settings, simulator):
    down = redis_client(settings=replace(settings, redis_url="redis://127.0.0.1:1/0"))
    api = _api(simulator, QuotaBudget(down, 100))
    out = Collector(api, DAY1, Known(), {}).run(channel_ids(3))
    assert out.status == "partial"
    assert isinstance(out.fatal, ServiceUnavailable)
    assert simulator.ledger.calls() == 0


def test_discovery_after_a_long_gap_reads_every_page_down_to_the_cursor(
    settings, redis_prefix, simulator
):
    channels = channel_ids(1)
    state: dict = {}
    budget = _budget(settings, redis_prefix, 1000)
    Collector(_api(simulator, budget), DAY1, Known(), state).run(channels)
    later = DAY1 + timedelta(days=40)  # about 80 uploads later: two pages
    simulator.set_day(later)
    before = simulator.ledger.calls("playlistItems.list")
    api = _api(simulator, budget)
    api.quota_day = later
    out = Collector(api, later, Known(), state).run(channels)
    net, ch = simulator.network, simulator.network.channels[0]
    expected = {
        net.video(0, n).video_id
        for n in range(net.uploads(ch, day_end(DAY1)), net.uploads(ch, day_end(later)))
    }
    assert simulator.ledger.calls("playlistItems.list") - before >= 2
    assert {r["video_id"] for r in out.tables["playlist_items"]} == expected
