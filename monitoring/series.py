"""The daily series the anomaly detector watches, read from the warehouse into
``analytics.metric_observations`` (one row per metric, entity and day).

Business series, per channel (entity: the channel id), from
``marts.fct_channel_daily_metrics``: ``views_daily``, ``subscribers_daily`` (net
gained), ``revenue_usd`` (``revenue_estimate_usd``), ``engagement_rate``
(``engagement_rate_pct``, %).

Pipeline series:

- ``rows_landed`` per channel: video snapshot rows landed for the channel that
  day (``raw_youtube.video_snapshots``), which a half-lost landing halves;
- ``source_rows_landed`` per raw table (entity: the relation): the day's rows;
- ``dead_letter_share`` (entity ``raw_events``): dead letters / (events + dead letters);
- ``quota_units_used`` (entity ``youtube``): ``raw_youtube.collection_runs`` units;
- ``build_seconds`` (entity ``dbt_build``): the latest successful dbt build's
  duration from ``analytics.pipeline_stage_runs``.

A source whose table does not exist yet is skipped (nothing landed yet).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from ytempire.clients import pg_connect
from ytempire.settings import Settings

log = logging.getLogger(__name__)

# Counts and amounts are scored on log1p (a spike is a ratio); net subscribers
# (signed, Poisson-like) on a signed square root; shares on their own scale.
SCALE = {
    "views_daily": "log",
    "revenue_usd": "log",
    "engagement_rate": "log",
    "rows_landed": "log",
    "source_rows_landed": "log",
    "quota_units_used": "log",
    "build_seconds": "log",
    "subscribers_daily": "sqrt",
    "dead_letter_share": "linear",
}

# The audience's counts and their counting noise (detector.count_zscore): views
# and subscribers arrive at random, so a low-count series must change more than
# counting can before it is anomalous (net subscribers, gained minus lost, are
# a difference of two counts). The counts the pipeline makes (rows landed,
# quota units) are not drawn at random: one row fewer is a real change, so the
# seasonal score alone decides them (a half landing of 20 rows must flag).
COUNTS = {
    "views_daily": "poisson",
    "subscribers_daily": "skellam",
}

# name -> (relations it needs, query returning (metric, entity, day, value) for
# days between %(first)s and %(last)s).
_FACT = "marts.fct_channel_daily_metrics"
SOURCES: dict[str, tuple[tuple[str, ...], str]] = {
    "channel_metrics": (
        (_FACT,),
        f"""
select metric, channel_id, metric_date, value
from {_FACT}
cross join lateral (values
    ('views_daily', views_daily::float),
    ('subscribers_daily', subscribers_daily::float),
    ('revenue_usd', revenue_estimate_usd::float),
    ('engagement_rate', engagement_rate_pct::float)
) as m (metric, value)
where metric_date between %(first)s and %(last)s and value is not null""",
    ),
    "channel_rows_landed": (
        ("raw_youtube.video_snapshots",),
        """
select 'rows_landed', channel_id, collection_date, count(*)::float
from raw_youtube.video_snapshots
where collection_date between %(first)s and %(last)s
group by channel_id, collection_date""",
    ),
    "source_rows_landed": (
        ("raw_youtube.channel_snapshots", "raw_youtube.video_snapshots", "raw_events.events"),
        """
select 'source_rows_landed', 'raw_youtube.channel_snapshots', collection_date, count(*)::float
from raw_youtube.channel_snapshots
where collection_date between %(first)s and %(last)s
group by collection_date
union all
select 'source_rows_landed', 'raw_youtube.video_snapshots', collection_date, count(*)::float
from raw_youtube.video_snapshots
where collection_date between %(first)s and %(last)s
group by collection_date
union all
select 'source_rows_landed', 'raw_events.events', (occurred_at at time zone 'UTC')::date,
    count(*)::float
from raw_events.events
where (occurred_at at time zone 'UTC')::date between %(first)s and %(last)s
group by 3""",
    ),
    "dead_letter_share": (
        ("raw_events.events", "raw_events.dead_letters"),
        """
with events as (
    select (occurred_at at time zone 'UTC')::date as day, count(*) as rows
    from raw_events.events
    where (occurred_at at time zone 'UTC')::date between %(first)s and %(last)s
    group by 1
),
dead as (
    select (dead_lettered_at at time zone 'UTC')::date as day, count(*) as rows
    from raw_events.dead_letters
    where (dead_lettered_at at time zone 'UTC')::date between %(first)s and %(last)s
    group by 1
)
select 'dead_letter_share', 'raw_events', coalesce(events.day, dead.day),
    coalesce(dead.rows, 0)::float / (coalesce(dead.rows, 0) + coalesce(events.rows, 0))
from events
full outer join dead on events.day = dead.day""",
    ),
    "quota_units_used": (
        ("raw_youtube.collection_runs",),
        """
select 'quota_units_used', 'youtube', collection_date, sum(quota_units_used)::float
from raw_youtube.collection_runs
where collection_date between %(first)s and %(last)s and quota_units_used is not null
group by collection_date""",
    ),
    "build_seconds": (
        ("analytics.pipeline_stage_runs",),
        """
select distinct on (run_date) 'build_seconds', 'dbt_build', run_date,
    extract(epoch from finished_at - started_at)::float
from analytics.pipeline_stage_runs
where stage = 'dbt_build' and status = 'success'
    and run_date between %(first)s and %(last)s
order by run_date, started_at desc""",
    ),
}

_UPSERT = """
insert into analytics.metric_observations (metric_name, entity_id, observed_at, value, source)
values (%s, %s, %s::date::timestamp at time zone 'UTC', %s, 'warehouse')
on conflict (metric_name, entity_id, observed_at) do update
    set value = excluded.value, source = excluded.source, recorded_at = now()
    where analytics.metric_observations.value is distinct from excluded.value
"""


def _exists(conn: Any, relation: str) -> bool:
    row = conn.execute("select to_regclass(%s)", (relation,)).fetchone()
    return bool(row and row[0])


def collect(
    run_date: date,
    *,
    days_back: int = 0,
    settings: Settings | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> int:
    """Upsert the series' values of ``run_date`` (and ``days_back`` days before) from the
    warehouse into ``analytics.metric_observations``; return the values read.

    Values restated by a later build overwrite the stored ones (the marts are
    the truth). Reads as ``ytempire_transformer``, writes as the loader.
    """
    params = {"first": run_date - timedelta(days=days_back), "last": run_date}
    rows: list[tuple[Any, ...]] = []
    with pg_connect("transformer", settings=settings) as reader:
        for name, (relations, query) in SOURCES.items():
            missing = [r for r in relations if not _exists(reader, r)]
            if missing:
                log.info("series %s skipped: %s not there yet", name, ", ".join(missing))
                continue
            found = reader.execute(query, params).fetchall()
            rows.extend(found)
            progress(f"{name}: {len(found)} values")
    if rows:
        with pg_connect("loader", settings=settings) as writer, writer.cursor() as cur:
            cur.executemany(_UPSERT, rows)
    return len(rows)
