"""One simulated network: the platform's events and the YouTube API describe the same videos.

The YouTube simulator and the event traffic are both views of one
:class:`~simulation.network.Network`. Collected from the simulator,
processed from Kafka and built by dbt, every tracked video the platform
generated must reach the analyst's ``mv_video_analytics`` with its generation
cost, quality score and revenue per generation dollar: the warehouse's one
join of platform data to YouTube data.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta

import pytest

from ingestion.kafka_events.landing import land_events
from ingestion.youtube.landing import run_day
from simulation.network import Network, day_end
from simulation.seed import seed_channels
from simulation.traffic import is_platform_video, network_events, tracked_since
from simulation.youtube import YouTubeSimulator
from streaming.processor import EventProcessor, Topics
from tests.conftest import own_database
from tests.read_topic import drain
from ytempire.clients import kafka_producer, pg_connect
from ytempire.dbt_runner import run_dbt
from ytempire.settings import Settings

NETWORK = Network(seed=4242, channels=12)
DAYS = (date(2025, 1, 1), date(2025, 1, 2))


@pytest.fixture(scope="module")
def net_settings(test_database: str) -> Iterator[Settings]:
    with own_database("network") as scenario:
        yield scenario


def _query(settings: Settings, role: str, sql: str) -> list[tuple]:
    with pg_connect(role, settings=settings) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.slow
def test_every_tracked_platform_video_has_its_generation_cost_and_quality(
    net_settings, new_topic, redis_prefix, tmp_path
):
    channels = [c.channel_id for c in NETWORK.channels]
    with YouTubeSimulator(NETWORK, day=DAYS[0], api_key="test-key") as sim:
        yt_settings = replace(net_settings, youtube_api_url=sim.url, youtube_api_key="test-key")
        for day in DAYS:
            sim.set_day(day)
            report = run_day(
                day,
                channels,
                settings=yt_settings,
                pipelines_dir=tmp_path / "youtube",
                redis_prefix=redis_prefix,
            )
            assert report.status == "complete"

    seed_channels(NETWORK, settings=net_settings)
    topic = new_topic("platform-events", partitions=2)
    producer = kafka_producer(settings=net_settings)
    events = list(network_events(NETWORK, tracked_since(NETWORK, DAYS[0]), DAYS[-1]))
    for _, key, value, _ in events:
        producer.send(topic, key=key.encode(), value=value)
    producer.flush()
    producer.close()
    landed = land_events(
        [topic],
        pipelines_dir=tmp_path / "events",
        pipeline_name="network",
        dead_letter_topic=new_topic("dlq"),
        settings=net_settings,
    )
    assert landed.messages == len(events)
    processor = EventProcessor(
        group_id=f"g-{topic}",
        topics=Topics(
            sources=(topic,),
            notifications=new_topic("notifications"),
            alerts=new_topic("alerts"),
            dead_letter=new_topic("dlq"),
        ),
        redis_prefix=redis_prefix,
        settings=net_settings,
    )
    try:
        counts = drain(processor)
    finally:
        processor.close()
    assert sum(counts.values()) == len(events)
    assert counts["dead_lettered"] == 0
    run_dbt("build")

    tracked = _query(
        net_settings,
        "analyst",
        "select video_id, generation_cost_usd is not null, quality_score is not null, "
        "revenue_per_generation_usd is not null from marts.mv_video_analytics",
    )
    uncovered = {video_id for video_id, *joined in tracked if not all(joined)}
    by_id = {
        NETWORK.video(c.index, n).video_id: NETWORK.video(c.index, n)
        for c in NETWORK.channels
        for n in range(NETWORK.uploads(c, day_end(DAYS[-1]) + timedelta(seconds=1)))
    }
    hand_made = {vid for vid, _, _, _ in tracked if not is_platform_video(by_id[vid])}
    assert len(tracked) >= 10 * len(channels)  # each channel's last 10 uploads at least
    assert uncovered == hand_made
    assert (len(tracked) - len(uncovered)) / len(tracked) >= 0.95

    # The platform's channel list is the collected one, with the same titles and niches.
    platform = _query(
        net_settings, "loader", "select channel_id, title, niche from ytempire.channels"
    )
    assert sorted(platform) == sorted((c.channel_id, c.title, c.niche) for c in NETWORK.channels)
    collected = _query(
        net_settings,
        "loader",
        "select distinct channel_id from raw_youtube.channel_snapshots",
    )
    assert {row[0] for row in collected} == set(channels)
