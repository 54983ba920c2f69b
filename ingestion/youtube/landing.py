"""Land one quota day of YouTube Data API statistics in ``raw_youtube``.

Wires the pieces of :mod:`ingestion.youtube` to the project's settings: the
API endpoint and key, the Redis quota budget and channel cache, PostgreSQL as
the loader role, and what the warehouse already holds for the day. Used by
``ytempire ingest youtube [--date D]``, the daily stage, the tests and the
benchmark; ``ingestion/youtube_pipeline.py`` is its thin runner.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.load_failures import Lander, finish_pending, load_failed
from ingestion.youtube import COLUMNS, youtube_source
from ingestion.youtube.api import RetryPolicy, YouTubeApi, build_client
from ingestion.youtube.cache import ChannelCache
from ingestion.youtube.collector import ChannelIssue, Collection, Collector, Known
from ingestion.youtube.transforms import RefreshRule
from ytempire.clients import dlt_credentials, pg_cursor, redis_client
from ytempire.errors import YTEmpireError
from ytempire.quota import QuotaBudget, quota_day
from ytempire.settings import Settings, get_settings

# No network but the API and the warehouse: dlt's anonymous telemetry stays off.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

log = logging.getLogger(__name__)
DATASET = "raw_youtube"
LANDER = Lander("YouTube", "ytempire ingest youtube")


@dataclass(frozen=True)
class RunReport:
    collection_date: date
    status: str  # complete | partial | nothing-to-do
    units_used: int
    channels_collected: int
    videos_collected: int
    error: str | None = None
    # channel -> why it was not collected in full (also in collection_runs.channel_issues)
    channel_issues: dict[str, ChannelIssue] = field(default_factory=dict)
    items_rejected: int = 0  # malformed items set aside in raw_youtube.rejected_items


def destination(settings: Settings) -> Any:
    """dlt's PostgreSQL destination as the loader role, from YTEMPIRE_PG_*."""
    return dlt.destinations.postgres(credentials=dlt_credentials("loader", settings))


def make_pipeline(
    settings: Settings, pipelines_dir: Path | None = None, name: str = "youtube"
) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=name,
        destination=destination(settings),
        dataset_name=DATASET,
        pipelines_dir=str(pipelines_dir or settings.dlt_pipelines_dir),
    )


def configured_channels(settings: Settings) -> list[str]:
    """YTEMPIRE_YOUTUBE_CHANNELS, else the active channels of ``ytempire.channels``."""
    listed = [c.strip() for c in settings.youtube_channels.split(",") if c.strip()]
    if listed:
        return listed
    with pg_cursor("loader", settings=settings) as cur:
        cur.execute(
            "select channel_id from ytempire.channels where status = 'active' order by channel_id"
        )
        channels = [row[0] for row in cur.fetchall()]
    if not channels:
        raise YTEmpireError(
            "no channels to collect: ytempire.channels has no active channel and "
            "YTEMPIRE_YOUTUBE_CHANNELS is empty. Next: register channels (the demo runs "
            "`ytempire simulate youtube --register`) or set YTEMPIRE_YOUTUBE_CHANNELS."
        )
    return channels


def drop_stray_columns(pipeline: dlt.Pipeline, settings: Settings) -> list[str]:
    """Drop the columns of ``raw_youtube`` tables that :data:`COLUMNS` does not declare.

    Releases before this one shared one hint dict between columns, so dlt gave
    ``channel_snapshots``, ``video_snapshots``, ``videos`` and ``playlist_items`` a
    ``finished_at`` column that is always NULL. A stray column leaves the
    pipeline's dlt schema (else dlt would add it again) and then the table, only
    if it holds no value (a column with data is kept, with a warning). dlt's own
    columns (``_dlt_*``) are never touched. Returns ``table.column`` of each drop.
    """
    pipeline.sync_destination()  # the stored schema, also for a fresh working folder
    schema = pipeline.schemas.get("youtube")
    dropped: list[str] = []
    with pg_cursor("loader", settings=settings) as cur:
        for table, declared in COLUMNS.items():
            cur.execute(
                "select column_name from information_schema.columns "
                "where table_schema = %s and table_name = %s",
                (DATASET, table),
            )
            present = {r[0] for r in cur.fetchall()}
            if schema is not None and table in schema.tables:
                present |= set(schema.tables[table]["columns"])
            for column in sorted(c for c in present - set(declared) if not c.startswith("_dlt")):
                if _holds_values(cur, table, column):
                    log.warning(
                        "raw_youtube.%s.%s is not declared but holds values: kept", table, column
                    )
                    continue
                if schema is not None and table in schema.tables:
                    schema.tables[table]["columns"].pop(column, None)
                cur.execute(f'alter table {DATASET}.{table} drop column if exists "{column}"')
                dropped.append(f"{table}.{column}")
    if dropped and schema is not None:
        pipeline.schemas.save_schema(schema)
        log.info("raw_youtube: dropped undeclared empty columns %s", ", ".join(dropped))
    return dropped


def _holds_values(cur: Any, table: str, column: str) -> bool:
    cur.execute(
        "select 1 from information_schema.columns "
        "where table_schema = %s and table_name = %s and column_name = %s",
        (DATASET, table, column),
    )
    if cur.fetchone() is None:
        return False
    cur.execute(f'select exists (select from {DATASET}.{table} where "{column}" is not null)')
    return bool(cur.fetchone()[0])


def load_known(day: date, channels: list[str], refresh: RefreshRule, settings: Settings) -> Known:
    """What ``raw_youtube`` already holds for ``day`` (empty before the first load)."""
    known = Known(first_seen=lambda ids: _first_seen(ids, settings))
    with pg_cursor("loader", settings=settings) as cur:
        if not _exists(cur, "channel_snapshots"):
            known.first_seen = lambda _ids: {}
            return known
        cur.execute(
            "select channel_id from raw_youtube.channel_snapshots where collection_date = %s",
            (day,),
        )
        known.snapshotted_channels = {r[0] for r in cur.fetchall()}
        if _exists(cur, "video_snapshots"):
            cur.execute(
                "select video_id from raw_youtube.video_snapshots where collection_date = %s",
                (day,),
            )
            known.snapshotted_videos = {r[0] for r in cur.fetchall()}
        if _exists(cur, "playlist_items"):
            since = datetime.combine(refresh.since(day), datetime.min.time())
            cur.execute(
                """
                select channel_id, video_id, video_published_at
                from (
                    select channel_id, video_id, video_published_at,
                        row_number() over (
                            partition by channel_id order by video_published_at desc
                        ) as newest_rank
                    from raw_youtube.playlist_items
                    where channel_id = any(%s)
                ) as ranked
                where newest_rank <= %s or (%s and video_published_at >= %s)
                """,
                (channels, refresh.last_n, refresh.days > 0, since),
            )
            for channel_id, video_id, published_at in cur.fetchall():
                known.recent_uploads.setdefault(channel_id, []).append((video_id, published_at))
    return known


def _exists(cur: Any, table: str) -> bool:
    cur.execute("select to_regclass(%s) is not null", (f"{DATASET}.{table}",))
    row = cur.fetchone()
    return bool(row and row[0])


def _first_seen(video_ids: list[str], settings: Settings) -> dict[str, date]:
    with pg_cursor("loader", settings=settings) as cur:
        if not _exists(cur, "videos"):
            return {}
        cur.execute(
            "select video_id, first_seen_date from raw_youtube.videos where video_id = any(%s)",
            (video_ids,),
        )
        return dict(cur.fetchall())


def run_day(
    day: date | None = None,
    channels: list[str] | None = None,
    *,
    settings: Settings | None = None,
    pipelines_dir: Path | None = None,
    redis_prefix: str | None = None,
    retry: RetryPolicy | None = None,
    pipeline_name: str = "youtube",
) -> RunReport:
    """Collect and land ``day`` (default: today's Pacific quota day).

    ``day`` labels the snapshots (``collection_date``); the quota is always
    charged to the current Pacific day, which is what Google counts.
    """
    s = settings or get_settings()
    day = day or quota_day()
    prefix = s.redis_key_prefix if redis_prefix is None else redis_prefix
    redis = redis_client(settings=s)
    budget = QuotaBudget(redis, s.youtube_daily_quota, prefix, where=s.redis_url)
    budget.check()  # fail closed before anything else: no reservation, no call
    channel_ids = channels if channels is not None else configured_channels(s)
    refresh = RefreshRule(s.youtube_refresh_last_n, s.youtube_refresh_days)
    pipeline = make_pipeline(s, pipelines_dir, pipeline_name)
    # A package a stopped run kept lands first, and on its own: dlt's run() would load it
    # *instead of* this day's collection (and say "nothing-to-do"), and what it holds is
    # known before the day is planned.
    finish_pending(pipeline, LANDER, s)
    known = load_known(day, channel_ids, refresh, s)
    # Google's quota is today's (Pacific), whatever day the snapshots are labelled with.
    api = YouTubeApi(
        build_client(s.youtube_api_url, s.youtube_api_key),
        budget,
        quota_day(),
        retry or RetryPolicy(),
    )
    cache = ChannelCache(redis, prefix, s.youtube_cache_ttl_s)

    made: list[Collector] = []

    def make_collector(state: dict[str, Any]) -> Collector:
        made.append(Collector(api, day, known, state, refresh, cache))
        return made[-1]

    source = youtube_source(channel_ids, make_collector)
    try:
        drop_stray_columns(pipeline, s)
        pipeline.run(source)
    except PipelineStepFailed as exc:
        raise load_failed(exc, LANDER, s) from exc
    out = made[0].out if made else Collection(day)
    if out.fatal is not None:
        raise out.fatal  # landed what it had; now say which service stopped the run
    return _report(out)


def _report(out: Collection) -> RunReport:
    return RunReport(
        collection_date=out.collection_date,
        status=out.status if out.did_work else "nothing-to-do",
        units_used=out.units_used,
        channels_collected=len(out.tables["channel_snapshots"]),
        videos_collected=len(out.tables["video_snapshots"]),
        error=out.error,
        channel_issues=dict(out.issues),
        items_rejected=len(out.tables["rejected_items"]),
    )
