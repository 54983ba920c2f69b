"""The report's query layer: every relation and column it reads, named once, and its SQL.

Two readers, two roles:

- the network's figures come from the marts as the read-only ``analyst`` role,
  exactly what an analyst can see (:class:`Marts` names every relation and
  column read, so a renamed mart column is a one-line change here);
- the pipeline's record (stage runs, collection runs, dead letters, quality
  results, anomalies) lives in ``raw_youtube``, ``raw_events``, ``ytempire``
  and ``analytics``, which the analyst role may not read by design
  (sql/90_grants.sql). It is read as ``ytempire_transformer``, the role that
  reads those schemas and cannot write them, in a read-only session.

Each function takes an open connection and the business day; it returns plain
rows or model objects and lets psycopg's errors (a table not created yet, a
missing grant) propagate for :mod:`.collect` to turn into a note.

Days are Pacific business days (the YouTube quota day, see ytempire.quota):
an instant belongs to day D when it falls in [D 00:00, D+1 00:00) in
America/Los_Angeles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import psycopg

from reporting.model import (
    Anomaly,
    ChannelGrowth,
    ChannelIssue,
    ChannelWatchTime,
    DayPoint,
    Events,
    ExpectationFailure,
    NewVideos,
    QualityScore,
    RevenueVsEstimate,
    StageRow,
    WatchTimeDay,
)
from ytempire.stage_runs import STAGES

BUSINESS_TZ = "America/Los_Angeles"
WINDOW_DAYS = 28
Conn = psycopg.Connection[Any]


@dataclass(frozen=True)
class Marts:
    """The analyst-facing relations and columns the report reads (schema ``marts``)."""

    channel_day: str = "marts.fct_channel_daily_metrics"
    video_day: str = "marts.fct_video_daily_metrics"
    channels: str = "marts.mv_channel_performance"
    videos: str = "marts.mv_video_analytics"
    # fct_channel_daily_metrics / fct_video_daily_metrics
    metric_date: str = "metric_date"
    views_daily: str = "views_daily"
    views_total: str = "views_total"
    subscribers: str = "subscribers"
    subscribers_daily: str = "subscribers_daily"
    revenue: str = "revenue_estimate_usd"
    ad_revenue: str = "ad_revenue_usd"
    affiliate_revenue: str = "affiliate_revenue_usd"
    sponsorship_revenue: str = "sponsorship_revenue_usd"
    # mv_channel_performance / mv_video_analytics
    channel_title: str = "channel_title"
    niche: str = "niche"
    published_date: str = "published_date"
    # the owner's view: fct_channel_daily_watch_time, fct_channel_daily_revenue_actuals
    watch_time: str = "marts.fct_channel_daily_watch_time"
    revenue_actuals: str = "marts.fct_channel_daily_revenue_actuals"
    watch_time_minutes: str = "watch_time_minutes"
    engaged_views: str = "engaged_views"
    views: str = "views"
    actual_revenue: str = "estimated_revenue_usd"  # YouTube's name: what the channel earns
    actual_ad_revenue: str = "estimated_ad_revenue_usd"
    ad_revenue_estimate: str = "ad_revenue_estimate_usd"  # the warehouse's own estimate
    is_settled: str = "is_settled"


MARTS = Marts()


@dataclass(frozen=True)
class Ops:
    """The pipeline's own tables the report reads (not analyst-visible)."""

    stage_runs: str = "analytics.pipeline_stage_runs"
    collection_runs: str = "raw_youtube.collection_runs"
    channel_snapshots: str = "raw_youtube.channel_snapshots"
    channels: str = "ytempire.channels"
    events: str = "raw_events.events"
    dead_letters: str = "raw_events.dead_letters"
    quality: str = "analytics.quality_results"
    anomalies: str = "analytics.anomalies"
    validation_results: str = "analytics.validation_results"
    # per-channel issues of a collection run (ingestion/youtube's run record):
    # JSON {channel_id: {"status": no_uploads|not_found|gone|failed, "reason": text}}
    channel_issues_column: str = "channel_issues"


OPS = Ops()


def window(day: date) -> tuple[date, date]:
    """The report's 28-day window ending on ``day``, both ends included."""
    return day - timedelta(days=WINDOW_DAYS - 1), day


_DAY_START = f"(%(day)s::timestamp at time zone '{BUSINESS_TZ}')"
_DAY_END = f"((%(day)s::date + 1)::timestamp at time zone '{BUSINESS_TZ}')"


def _on_day(column: str) -> str:
    """A predicate: the instant ``column`` falls in the Pacific day bound as ``%(day)s``."""
    return f"{column} >= {_DAY_START} and {column} < {_DAY_END}"


# --- pipeline ------------------------------------------------------------------------------


def latest_run_day(conn: Conn, today: date) -> date | None:
    """The newest business day up to ``today`` on which a pipeline stage ran, if any.

    The ``report`` stage does not count: a report asked for a day nothing ran
    must not become the next default.
    """
    row = conn.execute(
        f"select max(run_date) from {OPS.stage_runs} where stage <> 'report' and run_date <= %s",
        (today,),
    ).fetchone()
    return row[0] if row else None


def stage_runs(conn: Conn, day: date) -> list[StageRow]:
    """The latest attempt of each stage on ``day``, in pipeline order; "not run" for the rest.

    The ``report`` stage is left out: its own attempt is still running while it reads.
    """
    rows = conn.execute(
        f"""
        select distinct on (stage)
            stage, status, count(*) over (partition by stage) as attempts,
            started_at, finished_at, error, details
        from {OPS.stage_runs}
        where run_date = %s and stage <> 'report'
        order by stage, started_at desc, stage_run_id desc
        """,
        (day,),
    ).fetchall()
    found = {r[0]: StageRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6] or {}) for r in rows}
    known = [found.pop(stage, StageRow(stage, "not run")) for stage in STAGES if stage != "report"]
    return known + sorted(found.values(), key=lambda s: s.stage)


def collection_runs(conn: Conn, day: date) -> list[dict[str, Any]]:
    """The collector's run records for ``day`` (raw_youtube.collection_runs), oldest first.

    ``issues`` is each run's per-channel issues, None where the table predates them.
    """
    has_issues = _has_column(conn, OPS.collection_runs, OPS.channel_issues_column)
    issues = OPS.channel_issues_column if has_issues else "null"
    cur = conn.execute(
        f"""
        select status, quota_units_used, channels_collected, error, {issues} as issues
        from {OPS.collection_runs}
        where collection_date = %s
        order by started_at
        """,
        (day,),
    )
    names = [c.name for c in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def channels_not_collected(conn: Conn, day: date) -> tuple[int, int, list[str]]:
    """(active channels, those with a snapshot for ``day``, active ids without one)."""
    rows = conn.execute(
        f"""
        select channels.channel_id, snapshots.channel_id is not null as collected
        from {OPS.channels} as channels
        left join (
            select distinct channel_id from {OPS.channel_snapshots} where collection_date = %s
        ) as snapshots using (channel_id)
        where channels.status = 'active'
        order by channels.channel_id
        """,
        (day,),
    ).fetchall()
    missing = [channel_id for channel_id, collected in rows if not collected]
    return len(rows), len(rows) - len(missing), missing


def channel_issues(runs: list[dict[str, Any]], missing: list[str]) -> list[ChannelIssue]:
    """Each channel the day's runs did not collect in full, once, with why (pure).

    A channel keeps the status and reason of the newest run that recorded it
    (statuses of ingestion/youtube: no_uploads, not_found, gone, failed); an
    active channel with no snapshot and no record is ``missing``, with the last
    run's error as the reason, or "no snapshot landed for the day".
    """
    found: dict[str, ChannelIssue] = {}
    for run in runs:
        for channel_id, issue in (run.get("issues") or {}).items():
            found[channel_id] = ChannelIssue(
                channel_id, str(issue.get("status") or "failed"), str(issue.get("reason") or "")
            )
    fallback = next(
        (str(r["error"]) for r in reversed(runs) if r.get("error")),
        "no snapshot landed for the day",
    )
    for channel_id in missing:
        found.setdefault(channel_id, ChannelIssue(channel_id, "missing", fallback))
    return [found[c] for c in sorted(found)]


def events(conn: Conn, day: date, top_reasons: int = 12) -> Events:
    """Events of ``day`` by Kafka timestamp: landed per event type, dead letters per reason.

    Reasons beyond the ``top_reasons`` most frequent are summed as "(other reasons)".
    """
    landed = conn.execute(
        f"""
        select event_type, count(*) from {OPS.events}
        where {_on_day("kafka_timestamp")}
        group by event_type order by event_type
        """,
        {"day": day},
    ).fetchall()
    # The landing creates its dead-letter table with the first dead letter.
    exists = conn.execute("select to_regclass(%s)", (OPS.dead_letters,)).fetchone()
    dead = (
        conn.execute(
            f"""
            select reason, count(*) as messages from {OPS.dead_letters}
            where {_on_day("coalesce(kafka_timestamp, dead_lettered_at)")}
            group by reason order by messages desc, reason
            """,
            {"day": day},
        ).fetchall()
        if exists != (None,)
        else []
    )
    by_reason = [(str(r), int(n)) for r, n in dead[:top_reasons]]
    if len(dead) > top_reasons:
        by_reason.append(("(other reasons)", sum(int(n) for _, n in dead[top_reasons:])))
    return Events({str(t): int(n) for t, n in landed}, by_reason)


def expectation_results(conn: Conn, day: date) -> tuple[int, list[ExpectationFailure]]:
    """(expectations evaluated, the failed ones) in the latest run of each GX checkpoint of
    ``day`` (analytics.validation_results, written by expectations/)."""
    rows = conn.execute(
        f"""
        with latest as (
            select distinct on (checkpoint_name) checkpoint_name, run_id
            from {OPS.validation_results}
            where run_date = %s
            order by checkpoint_name, validated_at desc
        )
        select results.suite_name, results.asset_name, results.expectation_type,
            results.column_name, results.success, results.unexpected_count,
            results.observed_value::text, results.unexpected_sample::text,
            results.exception_message
        from {OPS.validation_results} as results
        join latest using (checkpoint_name, run_id)
        order by results.suite_name, results.expectation_index
        """,
        (day,),
    ).fetchall()
    failed = [
        ExpectationFailure(suite, asset, expectation, column, unexpected, observed, sample, error)
        for suite, asset, expectation, column, success, unexpected, observed, sample, error in rows
        if not success
    ]
    return len(rows), failed


def quality_scores(conn: Conn, day: date) -> list[QualityScore]:
    """The day's latest quality run over the whole network (table ``all``): one score
    (0-100) per dimension, ``overall`` (the weighted score) last."""
    rows = conn.execute(
        f"""
        with latest as (
            select run_id from {OPS.quality}
            where run_date = %s and table_name = 'all'
            order by checked_at desc limit 1
        )
        select dimension, score, checked_at from {OPS.quality}
        where run_id = (select run_id from latest) and table_name = 'all'
        order by dimension = 'overall', dimension
        """,
        (day,),
    ).fetchall()
    return [QualityScore(d, float(s), at) for d, s, at in rows]


# YouTube channel ids: the anomaly series whose entity is a channel
CHANNEL_ID_PATTERN = "^UC[A-Za-z0-9_-]{22}$"


def anomalies(conn: Conn, first: date, last: date) -> list[Anomaly]:
    """Anomalies the detector flagged on days ``first`` to ``last`` (monitoring/), oldest first.

    One row per series, day and method; a series' entity is a channel id, a raw
    relation, a source or a stage, '' for the network.
    """
    rows = conn.execute(
        f"""
        select metric_name, entity_id, observed_date, value, expected_low, expected_high,
            severity, method
        from {OPS.anomalies}
        where observed_date between %s and %s
        order by observed_date, severity = 'high' desc, metric_name, entity_id, method
        """,
        (first, last),
    ).fetchall()
    return [
        Anomaly(
            metric=metric,
            entity=entity,
            channel_id=entity if re.match(CHANNEL_ID_PATTERN, entity or "") else None,
            observed_on=observed_on,
            value=float(value),
            expected_low=None if low is None else float(low),
            expected_high=None if high is None else float(high),
            severity=severity,
            method=method,
        )
        for metric, entity, observed_on, value, low, high, severity, method in rows
    ]


# --- network (analyst role) ----------------------------------------------------------------


def network_series(conn: Conn, day: date) -> list[DayPoint]:
    """The network's daily totals over the 28-day window ending on ``day``."""
    m = MARTS
    rows = conn.execute(
        f"""
        select {m.metric_date}, count(*), coalesce(sum({m.views_daily}), 0),
            coalesce(sum({m.subscribers_daily}), 0), coalesce(sum({m.subscribers}), 0),
            coalesce(sum({m.revenue}), 0), coalesce(sum({m.ad_revenue}), 0),
            coalesce(sum({m.affiliate_revenue}), 0), coalesce(sum({m.sponsorship_revenue}), 0)
        from {m.channel_day}
        where {m.metric_date} between %s and %s
        group by {m.metric_date} order by {m.metric_date}
        """,
        window(day),
    ).fetchall()
    return [
        DayPoint(d, int(c), int(v), int(g), int(s), float(r), float(a), float(f), float(sp))
        for d, c, v, g, s, r, a, f, sp in rows
    ]


def revenue_by_niche(conn: Conn, day: date) -> list[tuple[str, float]]:
    """Revenue estimate (USD) per niche over the window, largest first."""
    m = MARTS
    return [
        (str(niche), float(revenue))
        for niche, revenue in conn.execute(
            f"""
            select coalesce(channels.{m.niche}, '(no niche)') as niche, sum(days.{m.revenue})
            from {m.channel_day} as days
            left join {m.channels} as channels using (channel_id)
            where days.{m.metric_date} between %s and %s
            group by 1 order by 2 desc, 1
            """,
            window(day),
        ).fetchall()
    ]


def channel_growth(conn: Conn, day: date) -> list[ChannelGrowth]:
    """Per channel over the window: subscribers at its end, gained, growth in %, views.

    growth_pct = gained / (subscribers at the window's end - gained) x 100, the
    gain over the window against where the channel stood before it; None when
    it started from 0. Sorted by growth, highest first.
    """
    m = MARTS
    rows = conn.execute(
        f"""
        with days as (
            select channel_id, {m.metric_date} as metric_date, {m.subscribers} as subscribers,
                {m.subscribers_daily} as gained, {m.views_daily} as views
            from {m.channel_day}
            where {m.metric_date} between %s and %s
        ),
        per_channel as (
            select channel_id,
                (array_agg(subscribers order by metric_date desc))[1] as subscribers,
                coalesce(sum(gained), 0) as gained,
                coalesce(sum(views), 0) as views
            from days group by channel_id
        )
        select per_channel.channel_id, coalesce(channels.{m.channel_title}, ''),
            per_channel.subscribers, per_channel.gained, per_channel.views,
            round(100.0 * per_channel.gained
                / nullif(per_channel.subscribers - per_channel.gained, 0), 2) as growth_pct
        from per_channel
        left join {m.channels} as channels using (channel_id)
        order by growth_pct desc nulls last, per_channel.channel_id
        """,
        window(day),
    ).fetchall()
    return [
        ChannelGrowth(ch, title, int(subs or 0), int(g), None if p is None else float(p), int(v))
        for ch, title, subs, g, v, p in rows
    ]


def new_videos(conn: Conn, day: date) -> list[NewVideos]:
    """Videos published per day of the window and their first-day views.

    A video's first-day views are its cumulative views at its first snapshot,
    when that snapshot is on its publish day or the day after (the collector's
    first sighting); later first sightings count the video but not its views.
    """
    m = MARTS
    rows = conn.execute(
        f"""
        with published as (
            select video_id, {m.published_date} as published_date
            from {m.videos}
            where {m.published_date} between %s and %s
        ),
        first_snapshot as (
            select distinct on (video_id) video_id, {m.metric_date} as metric_date,
                {m.views_total} as views_total
            from {m.video_day}
            where video_id in (select video_id from published)
            order by video_id, {m.metric_date}
        )
        select published.published_date, count(*),
            coalesce(sum(first_snapshot.views_total) filter (
                where first_snapshot.metric_date <= published.published_date + 1
            ), 0)
        from published
        left join first_snapshot using (video_id)
        group by published.published_date order by published.published_date
        """,
        window(day),
    ).fetchall()
    return [NewVideos(d, int(n), int(v)) for d, n, v in rows]


def channel_series(conn: Conn, day: date, channel_ids: list[str]) -> dict[str, list[Any]]:
    """channel_id -> (title, [(metric_date, views, revenue_usd), ...]) over the window."""
    m = MARTS
    rows = conn.execute(
        f"""
        select days.channel_id, coalesce(channels.{m.channel_title}, ''),
            days.{m.metric_date}, days.{m.views_daily}, days.{m.revenue}
        from {m.channel_day} as days
        left join {m.channels} as channels using (channel_id)
        where days.channel_id = any(%s) and days.{m.metric_date} between %s and %s
        order by days.channel_id, days.{m.metric_date}
        """,
        (channel_ids, *window(day)),
    ).fetchall()
    out: dict[str, list[Any]] = {}
    for channel_id, title, metric_date, views, revenue in rows:
        entry = out.setdefault(channel_id, [title, []])
        entry[1].append((metric_date, int(views or 0), float(revenue or 0)))
    return out


# --- the owner's view (YouTube Reporting and Analytics APIs) ------------------------------


def watch_time(conn: Conn, day: date) -> list[WatchTimeDay]:
    """The network's watch time per reported day of the 28-day window ending on ``day``.

    Only days YouTube has reported (its reports arrive ~48 h after a day);
    average view duration = minutes watched x 60 / views over every channel.
    """
    m = MARTS
    rows = conn.execute(
        f"""
        select {m.metric_date}, count(*), coalesce(sum({m.views}), 0),
            coalesce(sum({m.engaged_views}), 0), coalesce(sum({m.watch_time_minutes}), 0),
            sum({m.watch_time_minutes}) * 60.0 / nullif(sum({m.views}), 0)
        from {m.watch_time}
        where {m.metric_date} between %s and %s
        group by {m.metric_date} order by {m.metric_date}
        """,
        window(day),
    ).fetchall()
    return [
        WatchTimeDay(d, int(c), int(v), int(e), float(w), None if a is None else float(a))
        for d, c, v, e, w, a in rows
    ]


def channel_watch_time(conn: Conn, day: date, limit: int) -> list[ChannelWatchTime]:
    """The ``limit`` channels with the most minutes watched over the window, most first."""
    m = MARTS
    rows = conn.execute(
        f"""
        select days.channel_id, coalesce(max(channels.{m.channel_title}), ''),
            coalesce(sum(days.{m.watch_time_minutes}), 0), coalesce(sum(days.{m.views}), 0),
            sum(days.{m.watch_time_minutes}) * 60.0 / nullif(sum(days.{m.views}), 0)
        from {m.watch_time} as days
        left join {m.channels} as channels using (channel_id)
        where days.{m.metric_date} between %s and %s
        group by days.channel_id
        order by 3 desc, days.channel_id
        limit %s
        """,
        (*window(day), limit),
    ).fetchall()
    return [
        ChannelWatchTime(ch, title, float(w), int(v), None if a is None else float(a))
        for ch, title, w, v, a in rows
    ]


def revenue_actuals(conn: Conn, day: date) -> list[RevenueVsEstimate]:
    """Per channel YouTube reported revenue for in the window: actual vs the estimate.

    Largest actual revenue first. The estimate is compared on the days that
    have both (``RevenueVsEstimate``).
    """
    m = MARTS
    rows = conn.execute(
        f"""
        select days.channel_id, coalesce(max(channels.{m.channel_title}), ''),
            count(*), count(*) filter (where days.{m.is_settled}),
            coalesce(sum(days.{m.actual_revenue}), 0), coalesce(sum(days.{m.actual_ad_revenue}), 0),
            sum(days.{m.ad_revenue_estimate}),
            coalesce(sum(days.{m.actual_ad_revenue})
                filter (where days.{m.ad_revenue_estimate} is not null), 0)
        from {m.revenue_actuals} as days
        left join {m.channels} as channels using (channel_id)
        where days.{m.metric_date} between %s and %s
        group by days.channel_id
        order by 5 desc, days.channel_id
        """,
        window(day),
    ).fetchall()
    return [
        RevenueVsEstimate(
            ch,
            title,
            int(n),
            int(settled),
            float(actual),
            float(ad),
            None if estimate is None else float(estimate),
            float(compared),
        )
        for ch, title, n, settled, actual, ad, estimate, compared in rows
    ]


def _has_column(conn: Conn, relation: str, column: str) -> bool:
    schema, table = relation.split(".")
    row = conn.execute(
        "select exists (select from information_schema.columns "
        "where table_schema = %s and table_name = %s and column_name = %s)",
        (schema, table, column),
    ).fetchone()
    return bool(row and row[0])
