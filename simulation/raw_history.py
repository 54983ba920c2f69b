"""Fill the raw landing tables with a deterministic simulated network, in bulk.

The dbt project reads ``raw_youtube`` (the YouTube lander), ``raw_events`` (the
Kafka lander) and the operational ``ytempire`` tables. This module writes the
same rows straight from SQL (``generate_series``), so ``ytempire warehouse
simulate``, the dbt tests and ``bench/dbt_build.py`` can build the warehouse
over many simulated days in seconds without the API simulator or Kafka. The
raw tables themselves are created with the DDL dlt generates from the
landers' own declarations (:mod:`ingestion.raw_tables`), dlt's ``_dlt_load_id``
/ ``_dlt_id`` on the YouTube tables included, so their shape cannot drift.

The network: ``channels`` channels, each publishing ``videos_per_channel_per_day``
videos a day from ``start_date``. Every counter is a pure function of
(channel, video, day), so landing a day twice gives the same rows. Videos are
snapshotted daily while younger than ``daily_tier_days`` and weekly after (the
collector's quota-saving tiering); metrics_update events follow the daily tier.
The channel's view counter is its videos' views plus an untracked catalog's.

Anomalies the warehouse must handle are applied explicitly by the caller:
``skip`` (channel, day) pairs leave a missing day, :func:`land_days` with a later
``load_number`` re-lands a day late, and :func:`restate_channel_views` makes a
cumulative counter go down.

Ids come from :mod:`simulation.ids` (computed in Python, sent by COPY).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg

from simulation import ids

NICHES = ("gaming", "finance", "education", "tech", "lifestyle")

# dlt's merge keys (the contract's primary keys) and the Kafka coordinates as unique
# indexes, plus the date indexes incremental dbt runs need to read only recent rows and
# the load indexes they need to find a snapshot landed late (dbt_project/README.md).
# _dlt_id is unique by dlt's own DDL (ingestion.raw_tables).
_RAW_INDEXES = {
    "raw_youtube.channel_snapshots": [
        ("unique", "channel_id, collection_date"),
        ("", "collection_date"),
        ("", "_dlt_load_id"),
    ],
    "raw_youtube.video_snapshots": [
        ("unique", "video_id, collection_date"),
        ("", "collection_date"),
        ("", "_dlt_load_id"),
    ],
    "raw_youtube.videos": [("unique", "video_id")],
    "raw_youtube.playlist_items": [("unique", "playlist_id, video_id")],
    "raw_youtube.collection_runs": [("unique", "run_id")],
    "raw_events.events": [
        ("unique", "kafka_topic, kafka_partition, kafka_offset"),
        ("unique", "event_id"),
        ("", "occurred_at"),
    ],
    "raw_events.dead_letters": [
        ("unique", "kafka_topic, kafka_partition, kafka_offset"),
    ],
}

# A bulk history is inserted in day order: daily dlt loads append each day's
# rows, so a day lies contiguous in the heap, and the incremental models' date
# filters read a few days' pages, not a few rows from every page.
_BULK_ORDER = {
    "channel_snapshots": "\norder by d.day",
    "video_snapshots": "\norder by d.day",
    "metrics_events": "\norder by d.day",
    "lifecycle_events": "\norder by v.publish_day",
    "videos": "\norder by v.publish_day",
    "playlist_items": "\norder by v.publish_day",
    "operational_videos": "\norder by v.publish_day",
}

# Temporary tables the landing statements join: the network's ids (from Python)
# and the (channel, day) pairs to leave out.
_TEMP_DDL = """
create temporary table if not exists sim_channels (
    channel_index int primary key, channel_id text not null, niche text not null
) on commit preserve rows;
create temporary table if not exists sim_videos (
    channel_index int not null, upload_index int not null, publish_day int not null,
    youtube_video_id text not null, platform_video_id uuid not null,
    primary key (channel_index, upload_index)
) on commit preserve rows;
create temporary table if not exists sim_skips (
    channel_index int not null, day int not null
) on commit preserve rows;
truncate sim_channels, sim_videos, sim_skips;
"""

# Per-video pseudo-random but deterministic traits, from the indexes only.
_TRAIT = "((v.channel_index * 31 + v.upload_index * 17) %% 800)"
_VIEWS = f"((d.day - v.publish_day + 1)::bigint * (200 + {_TRAIT}))"
# The channel's older, untracked catalog keeps earning views: the channel
# counter gains them on top of its tracked videos' views.
_CATALOG_VIEWS_PER_DAY = "(300 + (c.channel_index %% 11) * 50)"
_SNAPSHOT_DUE = "(d.day - v.publish_day < %(daily_tier_days)s or (d.day - v.publish_day) %% 7 = 0)"

_LAND_SQL = {
    "channel_snapshots": f"""
insert into raw_youtube.channel_snapshots as t (
    channel_id, collection_date, collected_at, title, published_at, country,
    uploads_playlist_id, subscriber_count, view_count, video_count,
    hidden_subscriber_count, _dlt_load_id, _dlt_id
)
select
    c.channel_id,
    %(start)s::date + d.day,
    (%(start)s::date + d.day + %(lateness)s)::timestamptz + interval '10 hours',
    'Channel ' || c.channel_index,
    timestamptz '2020-01-01 00:00+00' + c.channel_index * interval '1 day',
    (array['US', 'GB', 'DE', 'IN', 'BR'])[1 + c.channel_index %% 5],
    'UU' || substr(c.channel_id, 3),
    1000 + c.channel_index * 137 + d.day * (5 + c.channel_index %% 7) * 3,
    50000 + c.channel_index * 1000 + d.day * {_CATALOG_VIEWS_PER_DAY} + coalesce((
        select sum({_VIEWS})
        from sim_videos as v
        where v.channel_index = c.channel_index and v.publish_day <= d.day
    ), 0),
    10 + (d.day + 1) * %(per_channel)s,
    false,
    %(load_id)s,
    md5('cs:' || c.channel_id || ':' || d.day)
from sim_channels as c
cross join generate_series(%(first)s::int, %(last)s::int) as d (day)
where not exists (
    select from sim_skips as s
    where s.channel_index = c.channel_index and s.day = d.day
)
on conflict (channel_id, collection_date) do update set
    collected_at = excluded.collected_at,
    subscriber_count = excluded.subscriber_count,
    view_count = excluded.view_count,
    video_count = excluded.video_count,
    _dlt_load_id = excluded._dlt_load_id
""",
    "videos": """
insert into raw_youtube.videos (
    video_id, channel_id, title, description, published_at, duration_seconds,
    duration_iso, category_id, tags, definition, first_seen_date, _dlt_load_id, _dlt_id
)
select
    v.youtube_video_id,
    c.channel_id,
    'Video ' || v.channel_index || '-' || v.upload_index,
    'Simulated upload',
    (%(start)s::date + v.publish_day)::timestamptz
        + (1 + v.upload_index %% 8) * interval '1 hour',
    60 + (v.channel_index * 7 + v.upload_index * 13) %% 1200,
    'PT' || (60 + (v.channel_index * 7 + v.upload_index * 13) %% 1200) || 'S',
    '22',
    jsonb_build_array(c.niche, 'ytempire'),
    'hd',
    %(start)s::date + v.publish_day,
    %(load_id)s,
    md5('v:' || v.youtube_video_id)
from sim_videos as v
inner join sim_channels as c on v.channel_index = c.channel_index
where v.publish_day between %(first)s and %(last)s
on conflict (video_id) do nothing
""",
    "playlist_items": """
insert into raw_youtube.playlist_items (
    playlist_id, video_id, channel_id, position, video_published_at, collected_at,
    _dlt_load_id, _dlt_id
)
select
    'UU' || substr(c.channel_id, 3),
    v.youtube_video_id,
    c.channel_id,
    v.upload_index,
    (%(start)s::date + v.publish_day)::timestamptz
        + (1 + v.upload_index %% 8) * interval '1 hour',
    (%(start)s::date + v.publish_day)::timestamptz + interval '10 hours',
    %(load_id)s,
    md5('pi:' || v.youtube_video_id)
from sim_videos as v
inner join sim_channels as c on v.channel_index = c.channel_index
where v.publish_day between %(first)s and %(last)s
on conflict (playlist_id, video_id) do nothing
""",
    "video_snapshots": f"""
insert into raw_youtube.video_snapshots (
    video_id, collection_date, channel_id, collected_at, view_count, like_count,
    comment_count, _dlt_load_id, _dlt_id
)
select
    v.youtube_video_id,
    %(start)s::date + d.day,
    c.channel_id,
    (%(start)s::date + d.day + %(lateness)s)::timestamptz + interval '10 hours',
    {_VIEWS},
    {_VIEWS} * (1 + {_TRAIT} %% 6) / 100,
    {_VIEWS} * ({_TRAIT} %% 3) / 200,
    %(load_id)s,
    md5('vs:' || v.youtube_video_id || ':' || d.day)
from generate_series(%(first)s::int, %(last)s::int) as d (day)
inner join sim_videos as v on v.publish_day <= d.day
inner join sim_channels as c on v.channel_index = c.channel_index
where {_SNAPSHOT_DUE}
    and not exists (
        select from sim_skips as s
        where s.channel_index = v.channel_index and s.day = d.day
    )
on conflict (video_id, collection_date) do update set
    collected_at = excluded.collected_at,
    view_count = excluded.view_count,
    like_count = excluded.like_count,
    comment_count = excluded.comment_count,
    _dlt_load_id = excluded._dlt_load_id
""",
    "collection_runs": """
insert into raw_youtube.collection_runs (
    run_id, collection_date, started_at, finished_at, status, quota_units_used,
    channels_collected, videos_collected, error, _dlt_load_id, _dlt_id
)
select
    'sim-' || (%(start)s::date + d.day) || '-' || %(load_number)s,
    %(start)s::date + d.day,
    (%(start)s::date + d.day)::timestamptz + interval '9 hours',
    (%(start)s::date + d.day)::timestamptz + interval '10 hours',
    case when exists (select from sim_skips as s where s.day = d.day)
        then 'partial' else 'complete' end,
    (select count(*) from sim_channels) * 3,
    (select count(*) from sim_channels),
    (select count(*) from sim_videos as v where v.publish_day <= d.day),
    null,
    %(load_id)s,
    md5('cr:' || d.day || ':' || %(load_number)s)
from generate_series(%(first)s::int, %(last)s::int) as d (day)
on conflict (run_id) do nothing
""",
    "lifecycle_events": """
insert into raw_events.events (
    kafka_topic, kafka_partition, kafka_offset, event_id, event_type, schema_version,
    occurred_at, channel_id, video_id, payload, kafka_key, kafka_timestamp
)
select
    'video-events',
    v.channel_index %% 6,
    (v.publish_day + 1)::bigint * 10000000000 + v.channel_index * 1000000::bigint
        + v.upload_index * 4 + step.n,
    md5(step.event_type || ':' || v.platform_video_id::text)::uuid::text,
    step.event_type,
    1,
    published.at + step.offset_from_publish,
    c.channel_id,
    v.platform_video_id::text,
    case step.event_type
        when 'video_generated' then jsonb_build_object(
            'title', 'Video ' || v.channel_index || '-' || v.upload_index,
            'duration_seconds', 60 + (v.channel_index * 7 + v.upload_index * 13) %% 1200,
            'generation_cost_usd',
            round(0.5 + ((v.channel_index * 31 + v.upload_index * 17) %% 250) / 100.0, 4),
            'niche', c.niche)
        when 'video_uploaded' then jsonb_build_object(
            'youtube_video_id', v.youtube_video_id)
        when 'video_published' then jsonb_build_object(
            'youtube_video_id', v.youtube_video_id,
            'published_at', to_char(published.at at time zone 'UTC',
                'YYYY-MM-DD"T"HH24:MI:SS"Z"'))
        else jsonb_build_object(
            'quality_score', 60 + (v.channel_index * 31 + v.upload_index * 17) %% 40)
    end,
    c.channel_id,
    published.at + step.offset_from_publish
from sim_videos as v
inner join sim_channels as c on v.channel_index = c.channel_index
cross join lateral (
    select (%(start)s::date + v.publish_day)::timestamptz
        + (1 + v.upload_index %% 8) * interval '1 hour' as at
) as published
cross join (values
    (0, 'video_generated', interval '-3 hours'),
    (1, 'video_uploaded', interval '-1 hour'),
    (2, 'video_published', interval '0'),
    (3, 'quality_check', interval '30 minutes')
) as step (n, event_type, offset_from_publish)
where v.publish_day between %(first)s and %(last)s
on conflict do nothing
""",
    "metrics_events": f"""
insert into raw_events.events (
    kafka_topic, kafka_partition, kafka_offset, event_id, event_type, schema_version,
    occurred_at, channel_id, video_id, payload, kafka_key, kafka_timestamp
)
select
    'video-events',
    v.channel_index %% 6,
    (d.day + 1)::bigint * 10000000000 + 5000000000 + v.channel_index * 1000000::bigint
        + v.upload_index,
    md5('metrics_update:' || v.platform_video_id::text || ':' || d.day)::uuid::text,
    'metrics_update',
    1,
    (%(start)s::date + d.day)::timestamptz + interval '11 hours',
    c.channel_id,
    v.platform_video_id::text,
    jsonb_build_object(
        'youtube_video_id', v.youtube_video_id,
        'views', {_VIEWS},
        'likes', {_VIEWS} * (1 + {_TRAIT} %% 6) / 100,
        'comments', {_VIEWS} * ({_TRAIT} %% 3) / 200,
        'shares', {_VIEWS} * ({_TRAIT} %% 4) / 500,
        'watch_time_minutes', {_VIEWS} * 3,
        'revenue_usd', round({_VIEWS} * 0.002, 2)
    ),
    c.channel_id,
    (%(start)s::date + d.day)::timestamptz + interval '11 hours'
from generate_series(%(first)s::int, %(last)s::int) as d (day)
inner join sim_videos as v
    on v.publish_day <= d.day and d.day - v.publish_day < %(daily_tier_days)s
inner join sim_channels as c on v.channel_index = c.channel_index
where not exists (
    select from sim_skips as s
    where s.channel_index = v.channel_index and s.day = d.day
)
on conflict do nothing
""",
    "operational_channels": """
insert into ytempire.channels (channel_id, title, niche, status, video_count, created_at)
select c.channel_id, 'Channel ' || c.channel_index, c.niche, 'active', 0,
    timestamptz '2020-01-01 00:00+00' + c.channel_index * interval '1 day'
from sim_channels as c
on conflict (channel_id) do nothing
""",
    "operational_videos": """
insert into ytempire.videos (
    video_id, channel_id, title, status, youtube_video_id, duration_seconds,
    quality_score, generation_cost_usd, published_at, created_at
)
select
    v.platform_video_id,
    c.channel_id,
    'Video ' || v.channel_index || '-' || v.upload_index,
    'published',
    v.youtube_video_id,
    60 + (v.channel_index * 7 + v.upload_index * 13) %% 1200,
    60 + (v.channel_index * 31 + v.upload_index * 17) %% 40,
    round(0.5 + ((v.channel_index * 31 + v.upload_index * 17) %% 250) / 100.0, 4),
    (%(start)s::date + v.publish_day)::timestamptz
        + (1 + v.upload_index %% 8) * interval '1 hour',
    (%(start)s::date + v.publish_day)::timestamptz
        + (1 + v.upload_index %% 8) * interval '1 hour' - interval '3 hours'
from sim_videos as v
inner join sim_channels as c on v.channel_index = c.channel_index
where v.publish_day between %(first)s and %(last)s
on conflict (video_id) do nothing
""",
}


@dataclass(frozen=True)
class NetworkSpec:
    """Shape of the simulated network."""

    channels: int = 6
    videos_per_channel_per_day: int = 2
    start_date: date = date(2025, 1, 1)
    seed: int = ids.DEFAULT_SEED
    daily_tier_days: int = 28

    def day_date(self, day: int) -> date:
        return self.start_date + timedelta(days=day)


def create_raw_tables(conn: psycopg.Connection[Any]) -> None:
    """Create the raw tables the landers would, with dlt's DDL (re-runnable; no-op once they exist).

    See :mod:`ingestion.raw_tables`: the columns and types are the landers'
    declarations, so this module can never write a shape the landers do not.
    """
    from ingestion.raw_tables import create_raw_tables as create_landers_tables

    create_landers_tables(conn)


def create_raw_indexes(conn: psycopg.Connection[Any]) -> None:
    """Create the raw tables' key and date indexes if missing (re-runnable)."""
    for table, indexes in _RAW_INDEXES.items():
        for kind, columns in indexes:
            name = f"{table.split('.')[1]}__{columns.replace(', ', '_')}_idx"
            conn.execute(f"create {kind} index if not exists {name} on {table} ({columns})")


def channel_rows(spec: NetworkSpec) -> list[tuple[int, str, str]]:
    """(index, channel id, niche) of every channel: pure, from simulation.ids."""
    return [
        (i, ids.channel_id(i, spec.seed), NICHES[i % len(NICHES)]) for i in range(spec.channels)
    ]


def video_rows(spec: NetworkSpec, last_day: int) -> Iterable[tuple[int, int, int, str, str]]:
    """(channel, upload, publish day, YouTube id, platform id) of videos up to ``last_day``."""
    per_day = spec.videos_per_channel_per_day
    for day in range(last_day + 1):
        for ch in range(spec.channels):
            for j in range(per_day):
                n = day * per_day + j
                yield (
                    ch,
                    n,
                    day,
                    ids.youtube_video_id(ch, n, spec.seed),
                    str(ids.platform_video_id(ch, n, spec.seed)),
                )


def _fill_id_tables(
    cur: psycopg.Cursor[Any], spec: NetworkSpec, last_day: int, skip: Iterable[tuple[int, int]]
) -> None:
    cur.execute(_TEMP_DDL)
    with cur.copy("copy sim_channels from stdin") as copy:
        for channel in channel_rows(spec):
            copy.write_row(channel)
    with cur.copy("copy sim_videos from stdin") as copy:
        for video in video_rows(spec, last_day):
            copy.write_row(video)
    with cur.copy("copy sim_skips from stdin") as copy:
        for pair in skip:
            copy.write_row(pair)
    cur.execute("analyze sim_channels; analyze sim_videos")


def land_days(
    conn: psycopg.Connection[Any],
    spec: NetworkSpec,
    first_day: int,
    last_day: int,
    *,
    skip: Iterable[tuple[int, int]] = (),
    load_number: int = 0,
    lateness_days: int = 0,
    bulk: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
) -> dict[str, int]:
    """Land days ``first_day..last_day`` of the network in one transaction; return row counts.

    ``skip`` lists (channel index, day) pairs left out (a missing day). Landing a
    day again with a higher ``load_number`` (and ``lateness_days`` > 0) models a
    late or re-collected snapshot: dlt's merge replaces the row and stamps a newer
    ``_dlt_load_id``. Run as the loader role, which owns the raw schemas.

    ``bulk`` is for a first load into empty tables (the benchmark's history):
    rows are inserted without conflict checks and the indexes built afterwards.
    """
    params = {
        "start": spec.start_date,
        "first": first_day,
        "last": last_day,
        "per_channel": spec.videos_per_channel_per_day,
        "daily_tier_days": spec.daily_tier_days,
        "lateness": lateness_days,
        "load_number": load_number,
        # dlt load ids are the load's unix time as a string: ordered by landing, so a day
        # landed late gets a newer load than the days landed before it.
        "load_id": f"{1_700_000_000 + (last_day + lateness_days) * 86_400 + load_number:.6f}",
    }
    counts: dict[str, int] = {}
    with conn.cursor() as cur:
        create_raw_tables(conn)
        if not bulk:
            create_raw_indexes(conn)
        _fill_id_tables(cur, spec, last_day, skip)
        for name, statement in _LAND_SQL.items():
            if bulk:
                statement = statement.split("\non conflict")[0] + _BULK_ORDER.get(name, "")
            cur.execute(statement, params)
            counts[name] = cur.rowcount
            progress(f"landed {cur.rowcount:>10,} rows into {name} (days {first_day}-{last_day})")
        if bulk:
            create_raw_indexes(conn)
            progress("built the raw tables' indexes")
    conn.commit()
    return counts


def restate_channel_views(
    conn: psycopg.Connection[Any], spec: NetworkSpec, channel_index: int, day: int, removed: int
) -> None:
    """Lower a channel's and its first video's view counts on ``day`` (YouTube removed spam)."""
    channel = ids.channel_id(channel_index, spec.seed)
    video = ids.youtube_video_id(channel_index, 0, spec.seed)
    when = spec.day_date(day)
    conn.execute(
        "update raw_youtube.channel_snapshots set view_count = view_count - %s "
        "where channel_id = %s and collection_date = %s",
        (removed, channel, when),
    )
    conn.execute(
        "update raw_youtube.video_snapshots set view_count = greatest(view_count - %s, 0) "
        "where video_id = %s and collection_date = %s",
        (removed, video, when),
    )
    conn.commit()


def raw_snapshot_count(conn: psycopg.Connection[Any]) -> int:
    """Channel snapshots already landed (0 when the table does not exist yet)."""
    exists = conn.execute("select to_regclass('raw_youtube.channel_snapshots')").fetchone()
    if not exists or exists[0] is None:
        return 0
    row = conn.execute("select count(*) from raw_youtube.channel_snapshots").fetchone()
    return int(row[0]) if row else 0
