"""The six-dimension data-quality scorecard, computed in SQL on the warehouse.

Every dimension is a percentage (0-100) of one table's rows in scope: the rows of
the run date (by the table's day column) or, for a table without one, all rows.
What is counted (``monitoring/README.md`` has the full definitions):

- completeness: present required fields / (rows x required fields);
- accuracy: values inside their plausible range / values checked (a NULL is
  not checked: it counts against completeness only);
- consistency: rows agreeing with other fields and tables (foreign rows exist,
  counters do not go down, parts add up) / rows checked;
- uniqueness: distinct non-null keys / rows;
- validity: values in their format or domain (id patterns, enums) / values checked;
- timeliness: mean over rows of a landing-lag score from the real landing time
  (dlt's ``_dlt_load_id`` is the load's Unix time) after the moment the data
  existed at its source (the API read ``collected_at``, the event's
  ``occurred_at``): 100 within the table's SLA, 0 at twice the SLA, linear
  between; 0 when nothing landed for the day.

A table's overall score weights the dimensions as the reference design does --
completeness 0.20, accuracy 0.25, consistency 0.20, timeliness 0.15,
uniqueness 0.10, validity 0.10 -- over the dimensions that apply (weights
renormalised). The network score ('all') is, per dimension, the mean of the
tables' scores, then weighted the same way. Below 85 an alert goes to
``alerts`` (medium), below 70 (high).

:func:`compute` (stage ``quality_scores``) stores each run in
``analytics.quality_results``; :mod:`monitoring.metrics` exports the latest run
to Prometheus.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from psycopg.types.json import Jsonb

from ytempire.clients import kafka_producer, pg_connect
from ytempire.settings import Settings, get_settings
from ytempire.stage_runs import record_stage
from ytempire.topics import ALERTS

WEIGHTS = {
    "completeness": 0.20,
    "accuracy": 0.25,
    "consistency": 0.20,
    "timeliness": 0.15,
    "uniqueness": 0.10,
    "validity": 0.10,
}
DIMENSIONS = tuple(WEIGHTS)
ALERT_MEDIUM_BELOW = 85.0
ALERT_HIGH_BELOW = 70.0
VIDEO_ID_PATTERN = "^[A-Za-z0-9_-]{11}$"
CHANNEL_ID_PATTERN = "^UC[A-Za-z0-9_-]{22}$"
DLT_LANDED_AT = "to_timestamp(t._dlt_load_id::double precision)"
# raw_events.events is written by the landing's own COPY destination, without
# dlt's per-row load id: its timeliness is the delivery lag to Kafka (the
# broker's timestamp), the part of the path the platform's producers own.
KAFKA_RECEIVED_AT = "t.kafka_timestamp"


@dataclass(frozen=True)
class TableSpec:
    """How one table is scored; every rule is a SQL boolean on the row alias ``t``."""

    name: str
    day_column: str | None
    key_columns: tuple[str, ...]
    completeness: tuple[str, ...] = ()
    accuracy: tuple[str, ...] = ()
    consistency: tuple[str, ...] = ()
    validity: tuple[str, ...] = ()
    landed_at: str | None = None
    due_at: str | None = None
    sla_hours: float = 26.0


def _present(*columns: str) -> tuple[str, ...]:
    return tuple(f"t.{c} is not null" for c in columns)


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "ytempire.videos",
        "(t.created_at at time zone 'UTC')::date",
        ("video_id",),
        completeness=(
            *_present("video_id", "channel_id", "title"),
            "t.status <> 'published' or t.youtube_video_id is not null",
        ),
        accuracy=(
            "t.quality_score between 0 and 100",
            "t.generation_cost_usd between 0 and 3",
            "t.duration_seconds between 30 and 3600",
        ),
        consistency=(
            "exists (select from ytempire.channels as c where c.channel_id = t.channel_id)",
            "t.published_at >= t.created_at",
        ),
        validity=(
            f"t.youtube_video_id ~ '{VIDEO_ID_PATTERN}'",
            f"t.channel_id ~ '{CHANNEL_ID_PATTERN}'",
            "t.status in ('processing', 'generated', 'uploaded', 'published', 'failed')",
        ),
    ),
    TableSpec(
        "ytempire.channels",
        None,
        ("channel_id",),
        completeness=_present("channel_id", "title", "niche", "status"),
        accuracy=("t.video_count >= 0",),
        consistency=("t.updated_at >= t.created_at",),
        validity=(
            f"t.channel_id ~ '{CHANNEL_ID_PATTERN}'",
            "t.status in ('active', 'paused', 'archived')",
        ),
    ),
    TableSpec(
        "raw_youtube.channel_snapshots",
        "t.collection_date",
        ("channel_id", "collection_date"),
        completeness=(
            *_present("title", "view_count", "video_count"),
            "t.hidden_subscriber_count or t.subscriber_count is not null",
        ),
        accuracy=("t.view_count >= 0", "t.subscriber_count >= 0", "t.video_count >= 0"),
        consistency=(
            """t.view_count >= (
                select p.view_count from raw_youtube.channel_snapshots as p
                where p.channel_id = t.channel_id and p.collection_date < t.collection_date
                order by p.collection_date desc limit 1)""",
        ),
        validity=(f"t.channel_id ~ '{CHANNEL_ID_PATTERN}'",),
        landed_at=DLT_LANDED_AT,
        due_at="t.collected_at",
    ),
    TableSpec(
        "raw_youtube.video_snapshots",
        "t.collection_date",
        ("video_id", "collection_date"),
        completeness=_present("channel_id", "view_count"),
        accuracy=("t.view_count >= 0", "t.like_count >= 0", "t.comment_count >= 0"),
        consistency=(
            "t.like_count <= t.view_count",
            "exists (select from raw_youtube.videos as v where v.video_id = t.video_id)",
        ),
        validity=(
            f"t.video_id ~ '{VIDEO_ID_PATTERN}'",
            f"t.channel_id ~ '{CHANNEL_ID_PATTERN}'",
        ),
        landed_at=DLT_LANDED_AT,
        due_at="t.collected_at",
    ),
    TableSpec(
        "raw_events.events",
        "(t.occurred_at at time zone 'UTC')::date",
        ("event_id",),
        completeness=_present("event_id", "event_type", "occurred_at", "payload"),
        accuracy=("t.schema_version >= 1", f"t.occurred_at <= {KAFKA_RECEIVED_AT}"),
        consistency=(
            "t.channel_id is null or exists "
            "(select from ytempire.channels as c where c.channel_id = t.channel_id)",
        ),
        validity=(f"t.channel_id ~ '{CHANNEL_ID_PATTERN}'",),
        landed_at=KAFKA_RECEIVED_AT,
        due_at="t.occurred_at",
    ),
    TableSpec(
        "marts.fct_channel_daily_metrics",
        "t.metric_date",
        ("channel_id", "metric_date"),
        completeness=_present("views_daily", "subscribers", "revenue_estimate_usd"),
        accuracy=(
            "t.views_daily >= 0 or t.is_restated",
            "t.engagement_rate_pct between 0 and 100",
            "t.revenue_estimate_usd >= 0",
        ),
        consistency=(
            "abs(t.revenue_estimate_usd - (t.ad_revenue_usd + t.affiliate_revenue_usd"
            " + t.sponsorship_revenue_usd)) <= 0.01",
        ),
        validity=(f"t.channel_id ~ '{CHANNEL_ID_PATTERN}'",),
    ),
)


@dataclass(frozen=True)
class DimensionScore:
    """One dimension of one table: score (None: does not apply) and what was counted."""

    table_name: str
    dimension: str
    score: float | None
    checked: int
    failed: int


@dataclass
class QualityRun:
    run_id: str
    run_date: date
    scores: list[DimensionScore] = field(default_factory=list)
    alert: dict[str, Any] | None = None

    def score(self, table: str, dimension: str) -> float | None:
        for s in self.scores:
            if s.table_name == table and s.dimension == dimension:
                return s.score
        raise KeyError((table, dimension))

    @property
    def overall(self) -> float | None:
        return self.score("all", "overall")


def _rule_columns(prefix: str, rules: Sequence[str]) -> list[str]:
    out = []
    for i, rule in enumerate(rules):
        out.append(f"count(*) filter (where ({rule}) is true) as {prefix}{i}_pass")
        out.append(f"count(*) filter (where ({rule}) is not null) as {prefix}{i}_checked")
    return out


def table_query(spec: TableSpec) -> str:
    """The one SQL statement that counts everything a table's scores need."""
    keys = ", ".join(f"t.{k}" for k in spec.key_columns)
    not_null = " and ".join(f"t.{k} is not null" for k in spec.key_columns)
    columns = [
        "count(*) as row_count",
        f"count(distinct ({keys})) filter (where {not_null}) as distinct_keys",
        *_rule_columns("completeness", spec.completeness),
        *_rule_columns("accuracy", spec.accuracy),
        *_rule_columns("consistency", spec.consistency),
        *_rule_columns("validity", spec.validity),
    ]
    if spec.landed_at and spec.due_at:
        lag = f"extract(epoch from ({spec.landed_at}) - ({spec.due_at})) / 3600.0"
        sla = float(spec.sla_hours)
        columns.append(
            f"avg(case when {lag} <= {sla} then 100.0 when {lag} >= {2 * sla} then 0.0 "
            f"else 100.0 * ({2 * sla} - {lag}) / {sla} end) as timeliness"
        )
    where = f"where {spec.day_column} = %(run_date)s" if spec.day_column else ""
    return f"select {', '.join(columns)} from {spec.name} as t {where}"


def _ratio(passed: int, checked: int) -> float | None:
    return None if checked == 0 else round(100.0 * passed / checked, 2)


def table_scores(spec: TableSpec, counts: dict[str, Any]) -> list[DimensionScore]:
    """The six dimensions and the weighted overall of one table, from its counts; pure."""
    rows = int(counts["row_count"])
    out = []
    for dimension in ("completeness", "accuracy", "consistency", "validity"):
        rules = getattr(spec, dimension)
        passed = sum(int(counts[f"{dimension}{i}_pass"]) for i in range(len(rules)))
        checked = sum(int(counts[f"{dimension}{i}_checked"]) for i in range(len(rules)))
        out.append(
            DimensionScore(spec.name, dimension, _ratio(passed, checked), checked, checked - passed)
        )
    distinct = int(counts["distinct_keys"])
    out.append(
        DimensionScore(spec.name, "uniqueness", _ratio(distinct, rows), rows, rows - distinct)
    )
    if spec.landed_at and spec.due_at:
        timeliness = counts.get("timeliness")
        score = 0.0 if rows == 0 or timeliness is None else round(float(timeliness), 2)
        out.append(DimensionScore(spec.name, "timeliness", score, rows, 0))
    else:
        out.append(DimensionScore(spec.name, "timeliness", None, 0, 0))
    out.append(DimensionScore(spec.name, "overall", weighted(out), rows, 0))
    return out


def weighted(scores: Sequence[DimensionScore]) -> float | None:
    """The reference weights over the dimensions that apply (renormalised)."""
    applicable = [
        (WEIGHTS[s.dimension], s.score)
        for s in scores
        if s.dimension in WEIGHTS and s.score is not None
    ]
    total = sum(w for w, _ in applicable)
    if not total:
        return None
    return round(sum(w * s for w, s in applicable if s is not None) / total, 2)


def network_scores(per_table: Sequence[DimensionScore]) -> list[DimensionScore]:
    """Per dimension the mean of the tables' scores, and the weighted overall ('all')."""
    out = []
    for dimension in DIMENSIONS:
        values = [s.score for s in per_table if s.dimension == dimension and s.score is not None]
        checked = sum(s.checked for s in per_table if s.dimension == dimension)
        failed = sum(s.failed for s in per_table if s.dimension == dimension)
        mean = round(sum(values) / len(values), 2) if values else None
        out.append(DimensionScore("all", dimension, mean, checked, failed))
    out.append(DimensionScore("all", "overall", weighted(out), 0, 0))
    return out


def severity(score: float | None) -> str | None:
    """Alert severity of an overall score: high below 70, medium below 85."""
    if score is None or score >= ALERT_MEDIUM_BELOW:
        return None
    return "high" if score < ALERT_HIGH_BELOW else "medium"


def _exists(conn: Any, relation: str) -> bool:
    row = conn.execute("select to_regclass(%s)", (relation,)).fetchone()
    return bool(row and row[0])


def measure(
    run_date: date, tables: Sequence[TableSpec] = TABLES, *, settings: Settings | None = None
) -> QualityRun:
    """Count and score every table for ``run_date`` (read only); a missing table is skipped."""
    run = QualityRun(f"quality-{run_date.isoformat()}-{uuid.uuid4().hex[:8]}", run_date)
    per_table: list[DimensionScore] = []
    with pg_connect("transformer", settings=settings) as conn:
        for spec in tables:
            if not _exists(conn, spec.name):
                continue
            cursor = conn.execute(table_query(spec), {"run_date": run_date})
            names = [c.name for c in cursor.description or []]
            row = cursor.fetchone()
            assert row is not None
            per_table.extend(table_scores(spec, dict(zip(names, row, strict=True))))
    run.scores = per_table + network_scores(per_table)
    return run


def store(run: QualityRun, *, settings: Settings | None = None) -> None:
    """Insert the run's scores into ``analytics.quality_results`` (the history)."""
    rows = [
        (
            run.run_id,
            run.run_date,
            s.table_name,
            s.dimension,
            s.score,
            s.checked,
            s.failed,
            Jsonb({"weight": WEIGHTS.get(s.dimension)}),
        )
        for s in run.scores
        if s.score is not None
    ]
    with pg_connect("loader", settings=settings) as conn, conn.cursor() as cur:
        cur.executemany(
            "insert into analytics.quality_results (run_id, run_date, table_name, dimension, "
            "score, checked_count, failed_count, details) values (%s, %s, %s, %s, %s, %s, %s, %s)",
            rows,
        )


def alert_message(run: QualityRun) -> dict[str, Any] | None:
    """The ``alerts`` message of a run whose overall score is below 85, else None."""
    level = severity(run.overall)
    if level is None:
        return None
    low_tables = {
        s.table_name: s.score
        for s in run.scores
        if s.dimension == "overall"
        and s.table_name != "all"
        and s.score is not None
        and s.score < ALERT_MEDIUM_BELOW
    }
    return {
        "type": "low_data_quality",
        "severity": level,
        "score": run.overall,
        "run_id": run.run_id,
        "run_date": run.run_date.isoformat(),
        "tables_below_threshold": low_tables,
        "alerted_at": datetime.now(UTC).isoformat(),
        "message": f"Data quality score dropped to {run.overall:.2f}% on {run.run_date}",
    }


def compute(
    run_date: date,
    tables: Sequence[TableSpec] = TABLES,
    *,
    settings: Settings | None = None,
    topic: str | None = None,
) -> QualityRun:
    """Measure, store and (below 85) alert; the Airflow entry point, stage ``quality_scores``."""
    s = settings or get_settings()
    with record_stage("quality_scores", run_date, settings=s) as stage:
        run = measure(run_date, tables, settings=s)
        store(run, settings=s)
        run.alert = alert_message(run)
        if run.alert is not None:
            producer = kafka_producer(s)
            try:
                producer.send(topic or ALERTS.name, value=json.dumps(run.alert).encode())
                producer.flush()
            finally:
                producer.close()
        stage.details.update(
            run_id=run.run_id,
            overall=run.overall,
            alert=run.alert["severity"] if run.alert else None,
        )
    return run
