"""Land the channels' YouTube Reporting API reports in ``raw_youtube_reporting``.

Wires :mod:`ingestion.youtube_reporting` to the project's settings: the API
endpoint and token endpoint, the channels' token store, the Reporting API's
own Redis budget, PostgreSQL as the loader role and what the warehouse
already holds. Channels are landed in blocks of ``block_size``, one dlt load
each (its rows, its ledger rows and its cursors committed together), so a
long backfill keeps what it landed if it is stopped. Used by
``ytempire ingest youtube-reporting``; ``ingestion/youtube_reporting_pipeline.py``
is its thin runner.

A run stops early, keeping what it landed, when the budget is spent
(``partial``) or a service of the project is down (raised once what was
fetched has landed). Each deprecation found is published once on the
``alerts`` topic after the load that recorded it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from ingestion.load_failures import Lander, finish_pending
from ingestion.youtube.landing import configured_channels
from ingestion.youtube_owner import ChannelOutcome, Outcomes
from ingestion.youtube_owner.calls import OwnerApi, RetryPolicy
from ingestion.youtube_owner.loads import land_in_blocks, make_pipeline
from ingestion.youtube_owner.runs import run_block
from ingestion.youtube_owner.tokens import TokenStore
from ingestion.youtube_reporting import FAMILIES, INDEXES, youtube_reporting_source
from ingestion.youtube_reporting.collector import Collector, Known, Tally
from ytempire.clients import pg_cursor, redis_client
from ytempire.errors import ServiceUnavailable
from ytempire.quota import REPORTING_QUOTA_COSTS, QuotaBudget, quota_day
from ytempire.settings import Settings, get_settings
from ytempire.topics import ALERTS

log = logging.getLogger(__name__)
DATASET = "raw_youtube_reporting"
PIPELINE_NAME = "youtube_reporting"
LANDER = Lander("YouTube Reporting", "ytempire ingest youtube-reporting")
BLOCK_SIZE = 25


@dataclass(frozen=True)
class ReportingRun:
    """What one run landed, and how each channel fared."""

    run_id: str
    status: str  # complete | partial
    channels: int
    reports_landed: int
    reports_no_data: int
    rows: int
    api_calls: int
    seconds: float
    outcomes: dict[str, list[ChannelOutcome]] = field(default_factory=dict)
    alerts: int = 0
    error: str | None = None

    @property
    def reports_per_minute(self) -> float:
        return (
            60 * (self.reports_landed + self.reports_no_data) / self.seconds
            if self.seconds
            else 0.0
        )


def reporting_budget(settings: Settings, prefix: str | None = None) -> QuotaBudget:
    """The Reporting API's budget in Redis, apart from the Data API's."""
    return QuotaBudget(
        redis_client(settings=settings),
        settings.youtube_reporting_daily_quota,
        settings.redis_key_prefix if prefix is None else prefix,
        where=settings.redis_url,
        api="youtube_reporting",
        costs=REPORTING_QUOTA_COSTS,
        variable="YTEMPIRE_YOUTUBE_REPORTING_DAILY_QUOTA",
    )


def load_known(channel_ids: list[str], settings: Settings) -> Known:
    """The newest report landed per channel, family and day (empty before the first load)."""
    known = Known()
    with pg_cursor("loader", settings=settings) as cur:
        cur.execute("select to_regclass(%s) is not null", (f"{DATASET}.reports",))
        row = cur.fetchone()
        if not (row and row[0]):
            return known
        cur.execute(
            f"""
            select distinct on (channel_id, report_family, report_date)
                channel_id, report_family, report_date, create_time, report_id
            from {DATASET}.reports
            where channel_id = any(%s)
            order by channel_id, report_family, report_date, create_time desc
            """,
            (channel_ids,),
        )
        for channel_id, family, day, created, report_id in cur.fetchall():
            known.latest[(channel_id, family, day)] = (created, report_id)
    return known


def land_reports(
    channels: list[str] | None = None,
    *,
    settings: Settings | None = None,
    pipelines_dir: Path | None = None,
    pipeline_name: str = PIPELINE_NAME,
    redis_prefix: str | None = None,
    retry: RetryPolicy | None = None,
    now: datetime | None = None,
    block_size: int = BLOCK_SIZE,
    progress: Callable[[int, int], None] = lambda _done, _total: None,
    alert_topic: str | None = ALERTS.name,
    families: tuple[str, ...] = FAMILIES,
) -> ReportingRun:
    """Land every report new since the last run for ``channels`` (default: the configured ones).

    ``now`` (default: the clock) decides which report types are deprecated;
    ``alert_topic`` None publishes no alert; ``families`` (default: all six)
    limits the report families landed.
    """
    s = settings or get_settings()
    started = time.monotonic()
    budget = reporting_budget(s, redis_prefix)
    budget.check()  # fail closed: no reservation, no call
    channel_ids = list(dict.fromkeys(channels if channels is not None else configured_channels(s)))
    store = TokenStore(s.youtube_token_store_path)
    pipeline = make_pipeline(pipeline_name, DATASET, s, pipelines_dir)
    finish_pending(pipeline, LANDER, s)
    finished = [0]

    def channel_done() -> None:
        finished[0] += 1
        progress(finished[0], len(channel_ids))

    tally, outcomes = Tally(), Outcomes("youtube_reporting")
    collector = Collector(
        api=OwnerApi(budget, quota_day(), retry or RetryPolicy()),
        tokens=store.channels(),
        client=store.client(),
        api_url=s.youtube_reporting_api_url,
        token_uri=s.youtube_oauth_token_uri,
        known=load_known(channel_ids, s),
        outcomes=outcomes,
        tally=tally,
        now=now or datetime.now(UTC),
        progress=channel_done,
        families=families,
    )

    def done(landed: int) -> bool:
        log.info(
            "youtube_reporting: %d/%d channels, %d reports landed, %d calls",
            landed,
            len(channel_ids),
            tally.reports_landed + tally.reports_no_data,
            collector.api.count(),
        )
        return tally.status == "partial"

    land_in_blocks(
        pipeline,
        youtube_reporting_source,
        partial(run_block, "youtube_reporting", collector),
        channel_ids,
        block_size,
        lander=LANDER,
        settings=s,
        done=done,
        indexes=INDEXES,
    )
    sent = _publish(collector.alerts, s, alert_topic)
    if isinstance(tally.error, ServiceUnavailable):
        raise tally.error  # what was fetched has landed; now say which service stopped the run
    return ReportingRun(
        run_id=tally.run_id,
        status=tally.status,
        channels=tally.channels,
        reports_landed=tally.reports_landed,
        reports_no_data=tally.reports_no_data,
        rows=tally.rows,
        api_calls=collector.api.count(),
        seconds=time.monotonic() - started,
        outcomes=dict(outcomes.by_channel),
        alerts=sent,
        error=str(tally.error) if tally.error else None,
    )


def _publish(alerts: list[dict[str, Any]], settings: Settings, topic: str | None) -> int:
    """Publish the run's alerts on ``topic``; a broker that is down costs a warning, not the run."""
    if not alerts or topic is None:
        return 0
    from ytempire.clients import kafka_producer

    try:
        producer = kafka_producer(settings)
        try:
            for alert in alerts:
                producer.send(
                    topic, key=alert["channel_id"].encode(), value=json.dumps(alert).encode()
                )
            producer.flush()
        finally:
            producer.close()
    except Exception as exc:
        log.warning(
            "youtube_reporting: %d alert(s) not published on %s: %s", len(alerts), topic, exc
        )
        return 0
    return len(alerts)
