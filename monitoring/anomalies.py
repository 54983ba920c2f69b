"""Anomaly detection on the warehouse's daily series, with its memory in the warehouse.

:func:`detect` (stage ``anomaly_detection``; the CLI's ``ytempire quality
anomalies`` and the Airflow task call it) does, for one run date:

1. collect the day's values of every series (:mod:`monitoring.series`) into
   ``analytics.metric_observations``;
2. score each series that has a value that day against its own stored
   history (the ``window`` days before) with :func:`monitoring.detector.seasonal_zscore`;
   the reference pattern checks (jump, trend reversal) are recorded beside it;
3. upsert each flagged value into ``analytics.anomalies`` (one row per series,
   day and method: re-running a day rewrites, never duplicates);
4. join it to an episode in ``analytics.anomaly_episodes`` (consecutive flagged
   days of one series in one direction, one normal day of gap allowed) and
   publish one message per new episode on ``anomaly-alerts`` with severity and
   expected range, marking the episode alerted in the same transaction.

Nothing lives in memory between runs: a restarted detector reads the same
history and episodes, so it flags what an uninterrupted one would, and an
episode already alerted is never alerted again. A crash between the Kafka
flush and the commit can repeat one alert (at-least-once), never lose one.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from psycopg.types.json import Jsonb

from monitoring import series
from monitoring.detector import DetectorConfig, Verdict, jump_check, seasonal_zscore, trend_reversal
from ytempire.clients import kafka_producer, pg_connect
from ytempire.settings import Settings, get_settings
from ytempire.stage_runs import record_stage
from ytempire.topics import ANOMALY_ALERTS

log = logging.getLogger(__name__)

EPISODE_GAP_DAYS = 1  # normal days allowed inside one episode


@dataclass(frozen=True)
class Detection:
    """One flagged value and the episode it belongs to."""

    metric_name: str
    entity_id: str
    observed_date: date
    value: float
    expected: float
    expected_low: float
    expected_high: float
    z_score: float
    severity: str
    direction: str
    method: str
    episode_id: int
    episode_first_date: date
    is_new_episode: bool
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DetectionRun:
    run_date: date
    series_scored: int = 0
    series_short: int = 0
    detections: list[Detection] = field(default_factory=list)
    alerts_sent: int = 0


def _history(
    conn: Any, run_date: date, window: int
) -> dict[tuple[str, str], list[tuple[date, float]]]:
    """Per series with a value on ``run_date``: (day, value) of the window, oldest first."""
    rows = conn.execute(
        """
        select o.metric_name, o.entity_id, (o.observed_at at time zone 'UTC')::date, o.value
        from analytics.metric_observations as o
        where o.observed_at between (%(first)s::date::timestamp at time zone 'UTC')
                and (%(day)s::date::timestamp at time zone 'UTC')
            and exists (
                select from analytics.metric_observations as today
                where today.metric_name = o.metric_name and today.entity_id = o.entity_id
                    and today.observed_at = (%(day)s::date::timestamp at time zone 'UTC')
            )
        order by 1, 2, 3
        """,
        {"first": run_date - timedelta(days=window), "day": run_date},
    ).fetchall()
    out: dict[tuple[str, str], list[tuple[date, float]]] = defaultdict(list)
    for metric, entity, day, value in rows:
        out[(metric, entity)].append((day, value))
    return out


def score_series(
    metric: str, points: list[tuple[date, float]], config: DetectorConfig
) -> tuple[Verdict | None, dict[str, Any]]:
    """Score the last point of a series against the ones before; pure."""
    days = [d for d, _ in points]
    values = np.array([v for _, v in points], dtype=float)
    weekdays = np.array([d.weekday() for d in days], dtype=int)
    verdict = seasonal_zscore(
        values[:-1],
        weekdays[:-1],
        float(values[-1]),
        days[-1].weekday(),
        scale=series.SCALE.get(metric, "linear"),
        counts=series.COUNTS.get(metric),
        config=config,
    )
    patterns = {
        "jump": jump_check(values[:-1], float(values[-1])),
        "trend_reversal": trend_reversal(values[-config.training_days :]),
    }
    return verdict, patterns


_UPSERT_ANOMALY = """
insert into analytics.anomalies (
    metric_name, entity_id, observed_date, value, expected_low, expected_high, method,
    severity, direction, z_score, episode_id, details
) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
on conflict (metric_name, entity_id, observed_date, method) do update set
    value = excluded.value, expected_low = excluded.expected_low,
    expected_high = excluded.expected_high, severity = excluded.severity,
    direction = excluded.direction, z_score = excluded.z_score,
    episode_id = excluded.episode_id, details = excluded.details, detected_at = now()
"""


def _episode(
    conn: Any, metric: str, entity: str, day: date, verdict: Verdict, value: float
) -> tuple[int, date, bool]:
    """Join the flagged day to its series' episode, or open one; (id, first date, is new)."""
    reach = timedelta(days=EPISODE_GAP_DAYS + 1)
    row = conn.execute(
        """
        select episode_id, first_date from analytics.anomaly_episodes
        where metric_name = %s and entity_id = %s and direction = %s
            and last_date >= %s and first_date <= %s
        order by first_date
        limit 1
        for update
        """,
        (metric, entity, verdict.direction, day - reach, day + reach),
    ).fetchone()
    if row:
        conn.execute(
            """
            update analytics.anomaly_episodes set
                first_date = least(first_date, %(day)s),
                last_date = greatest(last_date, %(day)s),
                severity = case when %(severity)s = 'high' then 'high' else severity end,
                peak_value = case when abs(%(z)s) > abs(peak_z) then %(value)s else peak_value end,
                peak_z = case when abs(%(z)s) > abs(peak_z) then %(z)s else peak_z end
            where episode_id = %(id)s
            """,
            {
                "day": day,
                "severity": verdict.severity,
                "z": verdict.z,
                "value": value,
                "id": row[0],
            },
        )
        return int(row[0]), min(row[1], day), False
    new = conn.execute(
        """
        insert into analytics.anomaly_episodes (
            metric_name, entity_id, direction, first_date, last_date, severity, peak_z,
            peak_value, expected_low, expected_high
        ) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
        returning episode_id
        """,
        (
            metric,
            entity,
            verdict.direction,
            day,
            day,
            verdict.severity,
            verdict.z,
            value,
            verdict.low,
            verdict.high,
        ),
    ).fetchone()
    assert new is not None
    return int(new[0]), day, True


def alert_message(detection: Detection) -> dict[str, Any]:
    """The ``anomaly-alerts`` message of a new episode."""
    body = asdict(detection)
    body.pop("is_new_episode")
    return {
        "type": "data_anomaly",
        "alerted_at": datetime.now(UTC).isoformat(),
        "expected_range": [detection.expected_low, detection.expected_high],
        **body,
    }


def _publish(conn: Any, detections: list[Detection], settings: Settings, topic: str) -> int:
    """Alert each episode not alerted yet; mark it in the caller's transaction."""
    pending = conn.execute(
        "select episode_id from analytics.anomaly_episodes "
        "where alerted_at is null and episode_id = any(%s)",
        ([d.episode_id for d in detections],),
    ).fetchall()
    todo = {row[0] for row in pending}
    firsts = {}
    for detection in detections:
        if detection.episode_id in todo and detection.episode_id not in firsts:
            firsts[detection.episode_id] = detection
    if not firsts:
        return 0
    producer = kafka_producer(settings)
    try:
        for detection in firsts.values():
            producer.send(
                topic,
                key=f"{detection.metric_name}:{detection.entity_id}".encode(),
                value=json.dumps(alert_message(detection), default=str).encode(),
            )
        producer.flush()
    finally:
        producer.close()
    conn.execute(
        "update analytics.anomaly_episodes set alerted_at = now() where episode_id = any(%s)",
        (list(firsts),),
    )
    return len(firsts)


def detect_day(
    run_date: date,
    *,
    config: DetectorConfig | None = None,
    settings: Settings | None = None,
    topic: str | None = None,
) -> DetectionRun:
    """Score, persist and alert the stored series of ``run_date`` (no collection)."""
    config = config or DetectorConfig()
    s = settings or get_settings()
    run = DetectionRun(run_date)
    with pg_connect("loader", settings=s) as conn:
        histories = _history(conn, run_date, config.window)
        for (metric, entity), points in sorted(histories.items()):
            verdict, patterns = score_series(metric, points, config)
            if verdict is None:
                run.series_short += 1
                continue
            run.series_scored += 1
            if not verdict.is_anomaly:
                continue
            assert verdict.severity is not None
            episode_id, first, is_new = _episode(
                conn, metric, entity, run_date, verdict, points[-1][1]
            )
            details = {"expected": verdict.expected, **patterns}
            conn.execute(
                _UPSERT_ANOMALY,
                (
                    metric,
                    entity,
                    run_date,
                    points[-1][1],
                    verdict.low,
                    verdict.high,
                    verdict.method,
                    verdict.severity,
                    verdict.direction,
                    verdict.z,
                    episode_id,
                    Jsonb(details),
                ),
            )
            run.detections.append(
                Detection(
                    metric,
                    entity,
                    run_date,
                    points[-1][1],
                    verdict.expected,
                    verdict.low,
                    verdict.high,
                    verdict.z,
                    verdict.severity,
                    verdict.direction,
                    verdict.method,
                    episode_id,
                    first,
                    is_new,
                    details,
                )
            )
        if run.detections:
            run.alerts_sent = _publish(conn, run.detections, s, topic or ANOMALY_ALERTS.name)
        conn.commit()
    return run


def detect(
    run_date: date,
    *,
    config: DetectorConfig | None = None,
    settings: Settings | None = None,
    topic: str | None = None,
    collect: bool = True,
    progress: Callable[[str], None] = lambda _msg: None,
) -> DetectionRun:
    """Collect the day's series from the warehouse, then :func:`detect_day`; the Airflow
    entry point, recorded as stage ``anomaly_detection``."""
    s = settings or get_settings()
    with record_stage("anomaly_detection", run_date, settings=s) as stage:
        if collect:
            stage.details["values_collected"] = series.collect(
                run_date, settings=s, progress=progress
            )
        run = detect_day(run_date, config=config, settings=s, topic=topic)
        stage.details.update(
            series_scored=run.series_scored,
            series_short_history=run.series_short,
            anomalies=len(run.detections),
            alerts=run.alerts_sent,
        )
    return run
