"""Land the channels' actual revenue from the YouTube Analytics API in ``raw_youtube_analytics``.

Wires :mod:`ingestion.youtube_analytics` to the project's settings: the API
and token endpoints, the token store, the Analytics API's own Redis budget
and PostgreSQL as the loader role; channels land in blocks, one dlt load
each (rows and the ``settled_through`` state together). Used by
``ytempire ingest youtube-analytics``; ``ingestion/youtube_analytics_pipeline.py``
is its thin runner. A spent budget stops the run (``partial``, what was
fetched lands); a service of the project being down is raised once what was
fetched has landed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from ingestion.load_failures import Lander, finish_pending
from ingestion.youtube.landing import configured_channels
from ingestion.youtube_analytics import INDEXES, youtube_analytics_source
from ingestion.youtube_analytics.collector import FIRST_RUN_DAYS, Collector, Tally
from ingestion.youtube_owner import ChannelOutcome, Outcomes
from ingestion.youtube_owner.calls import OwnerApi, RetryPolicy
from ingestion.youtube_owner.loads import land_in_blocks, make_pipeline
from ingestion.youtube_owner.runs import run_block
from ingestion.youtube_owner.tokens import TokenStore
from ytempire.clients import redis_client
from ytempire.errors import ServiceUnavailable
from ytempire.quota import ANALYTICS_QUOTA_COSTS, QuotaBudget, quota_day
from ytempire.settings import Settings, get_settings

log = logging.getLogger(__name__)
DATASET = "raw_youtube_analytics"
PIPELINE_NAME = "youtube_analytics"
LANDER = Lander("YouTube Analytics", "ytempire ingest youtube-analytics")
BLOCK_SIZE = 50


@dataclass(frozen=True)
class AnalyticsRun:
    """What one run landed, and how each channel fared."""

    run_id: str
    status: str  # complete | partial
    channels: int
    channel_days: int
    video_days: int
    api_calls: int
    seconds: float
    outcomes: dict[str, list[ChannelOutcome]] = field(default_factory=dict)
    error: str | None = None


def analytics_budget(settings: Settings, prefix: str | None = None) -> QuotaBudget:
    """The Analytics API's budget in Redis, apart from the Data API's."""
    return QuotaBudget(
        redis_client(settings=settings),
        settings.youtube_analytics_daily_quota,
        settings.redis_key_prefix if prefix is None else prefix,
        where=settings.redis_url,
        api="youtube_analytics",
        costs=ANALYTICS_QUOTA_COSTS,
        variable="YTEMPIRE_YOUTUBE_ANALYTICS_DAILY_QUOTA",
    )


def land_revenue(
    channels: list[str] | None = None,
    *,
    settings: Settings | None = None,
    pipelines_dir: Path | None = None,
    pipeline_name: str = PIPELINE_NAME,
    redis_prefix: str | None = None,
    retry: RetryPolicy | None = None,
    now: datetime | None = None,
    block_size: int = BLOCK_SIZE,
    first_run_days: int = FIRST_RUN_DAYS,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
) -> AnalyticsRun:
    """Land every channel-day and video-day not settled yet for ``channels`` (default: the
    configured ones). ``now`` (default: the clock) decides what is yesterday and settled;
    a channel's first run reaches ``first_run_days`` back (to yesterday, included)."""
    s = settings or get_settings()
    started = time.monotonic()
    budget = analytics_budget(s, redis_prefix)
    budget.check()  # fail closed: no reservation, no call
    channel_ids = list(dict.fromkeys(channels if channels is not None else configured_channels(s)))
    store = TokenStore(s.youtube_token_store_path)
    pipeline = make_pipeline(pipeline_name, DATASET, s, pipelines_dir)
    finish_pending(pipeline, LANDER, s)
    finished = [0]

    def channel_done() -> None:
        finished[0] += 1
        progress(finished[0], len(channel_ids))

    tally, outcomes = Tally(), Outcomes("youtube_analytics")
    collector = Collector(
        api=OwnerApi(budget, quota_day(), retry or RetryPolicy()),
        tokens=store.channels(),
        client=store.client(),
        api_url=s.youtube_analytics_api_url,
        token_uri=s.youtube_oauth_token_uri,
        outcomes=outcomes,
        tally=tally,
        now=now or datetime.now(UTC),
        first_run_days=first_run_days,
        progress=channel_done,
    )

    def done(landed: int) -> bool:
        log.info(
            "youtube_analytics: %d/%d channels, %d channel-days, %d video-days, %d calls",
            landed,
            len(channel_ids),
            tally.channel_days,
            tally.video_days,
            collector.api.count(),
        )
        return tally.status == "partial"

    land_in_blocks(
        pipeline,
        youtube_analytics_source,
        partial(run_block, "youtube_analytics", collector),
        channel_ids,
        block_size,
        lander=LANDER,
        settings=s,
        done=done,
        indexes=INDEXES,
    )
    if isinstance(tally.error, ServiceUnavailable):
        raise tally.error  # what was fetched has landed; now say which service stopped the run
    return AnalyticsRun(
        run_id=tally.run_id,
        status=tally.status,
        channels=tally.channels,
        channel_days=tally.channel_days,
        video_days=tally.video_days,
        api_calls=collector.api.count(),
        seconds=time.monotonic() - started,
        outcomes=dict(outcomes.by_channel),
        error=str(tally.error) if tally.error else None,
    )
