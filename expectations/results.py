"""What a checkpoint found, kept: warehouse rows, a Redis summary, alerts for failures.

:func:`outcomes` turns a GX ``ExpectationSuiteValidationResult`` into plain
:class:`Outcome` records (pure, no I/O). Then:

- :func:`store` inserts one ``analytics.validation_results`` row per expectation
  (suite, run, expectation, success, observed value, unexpected count, a
  sample of the offending values and the key columns of the offending rows);
- :func:`summarise` writes the run's counts to the Redis hash
  ``<prefix>quality:validation:<run date>`` and ``<prefix>quality:validation:latest``
  (field ``<checkpoint>:<suite>``, JSON), kept 8 days, for the live dashboard
  (the reference design's ``validation:metrics`` list, made idempotent);
- :func:`publish_failures` sends each failed expectation on ``alerts`` with the
  rule and a sample of the rows that broke it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from psycopg.types.json import Jsonb

from ytempire.clients import kafka_producer, pg_connect, redis_client
from ytempire.settings import Settings, get_settings
from ytempire.topics import ALERTS

if TYPE_CHECKING:
    from expectations.checkpoints import Validation

SAMPLE_SIZE = 20  # offending values / rows kept per expectation
SUMMARY_TTL_S = 8 * 24 * 3600


@dataclass(frozen=True)
class Outcome:
    """One expectation's verdict on one asset."""

    suite_name: str
    asset_name: str
    expectation_index: int
    expectation_type: str
    column: str | None
    kwargs: dict[str, Any]
    success: bool
    observed_value: Any
    element_count: int | None
    unexpected_count: int | None
    unexpected_percent: float | None
    unexpected_sample: list[Any]
    unexpected_rows: list[dict[str, Any]]
    exception_message: str | None


def _plain(value: Any) -> Any:
    """JSON-safe copy (UUIDs, dates, Decimals as text or numbers)."""
    return json.loads(json.dumps(value, default=str))


def outcomes(validation: Validation, result: Any) -> list[Outcome]:
    """Outcome records of a GX validation result, in the suite's expectation order."""
    out = []
    for index, item in enumerate(result.results):
        config = item.expectation_config
        kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
        detail = item.result or {}
        sample = _plain(detail.get("partial_unexpected_list") or [])[:SAMPLE_SIZE]
        rows = _plain(detail.get("partial_unexpected_index_list") or [])[:SAMPLE_SIZE]
        if not rows and sample and all(isinstance(value, dict) for value in sample):
            rows = sample  # multi-column rules sample whole key combinations
        exception = None
        if item.exception_info and item.exception_info.get("raised_exception"):
            exception = str(item.exception_info.get("exception_message"))
        out.append(
            Outcome(
                suite_name=validation.suite,
                asset_name=validation.asset,
                expectation_index=index,
                expectation_type=config.type,
                column=kwargs.get("column"),
                kwargs=_plain(kwargs),
                success=bool(item.success),
                observed_value=_plain(detail.get("observed_value")),
                element_count=detail.get("element_count"),
                unexpected_count=detail.get("unexpected_count"),
                unexpected_percent=detail.get("unexpected_percent"),
                unexpected_sample=sample,
                unexpected_rows=rows,
                exception_message=exception,
            )
        )
    return out


_INSERT = """
insert into analytics.validation_results (
    run_id, run_date, checkpoint_name, suite_name, asset_name, expectation_index,
    expectation_type, column_name, kwargs, success, observed_value, element_count,
    unexpected_count, unexpected_percent, unexpected_sample, unexpected_rows,
    exception_message
) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
on conflict (run_id, suite_name, expectation_index) do nothing
"""


def store(
    run_id: str,
    checkpoint: str,
    run_date: date,
    items: Sequence[Outcome],
    *,
    settings: Settings | None = None,
) -> int:
    """Insert the outcomes into ``analytics.validation_results``; return rows written."""
    rows = [
        (
            run_id,
            run_date,
            checkpoint,
            o.suite_name,
            o.asset_name,
            o.expectation_index,
            o.expectation_type,
            o.column,
            Jsonb(o.kwargs),
            o.success,
            Jsonb(o.observed_value),
            o.element_count,
            o.unexpected_count,
            o.unexpected_percent,
            Jsonb(o.unexpected_sample),
            Jsonb(o.unexpected_rows),
            o.exception_message,
        )
        for o in items
    ]
    with pg_connect("loader", settings=settings) as conn, conn.cursor() as cur:
        cur.executemany(_INSERT, rows)
    return len(rows)


def suite_summaries(items: Iterable[Outcome]) -> dict[str, dict[str, Any]]:
    """Per suite: expectations evaluated and failed, and the failed expectation types."""
    summary: dict[str, dict[str, Any]] = {}
    for o in items:
        entry = summary.setdefault(
            o.suite_name, {"evaluated": 0, "failed": 0, "failed_expectations": []}
        )
        entry["evaluated"] += 1
        if not o.success:
            entry["failed"] += 1
            entry["failed_expectations"].append(o.expectation_type)
    for entry in summary.values():
        entry["success"] = entry["failed"] == 0
    return summary


def summarise(
    run_id: str,
    checkpoint: str,
    run_date: date,
    items: Sequence[Outcome],
    *,
    settings: Settings | None = None,
    prefix: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Write the per-suite summary to Redis (dashboard keys); return it."""
    s = settings or get_settings()
    prefix = s.redis_key_prefix if prefix is None else prefix
    now = datetime.now(UTC).isoformat()
    fields: dict[str | bytes, bytes | float | int | str] = {
        f"{checkpoint}:{suite}": json.dumps(
            {**entry, "run_id": run_id, "run_date": run_date.isoformat(), "validated_at": now}
        )
        for suite, entry in suite_summaries(items).items()
    }
    if fields:
        client = redis_client(settings=s)
        day_key = f"{prefix}quality:validation:{run_date.isoformat()}"
        latest_key = f"{prefix}quality:validation:latest"
        with client.pipeline() as pipe:
            pipe.hset(day_key, mapping=fields)
            pipe.expire(day_key, SUMMARY_TTL_S)
            pipe.hset(latest_key, mapping=fields)
            pipe.execute()
    return {str(k): json.loads(str(v)) for k, v in fields.items()}


def alert_message(run_id: str, checkpoint: str, run_date: date, outcome: Outcome) -> dict[str, Any]:
    """The ``alerts`` message of one failed expectation (rule, rows, sample)."""
    return {
        "type": "data_quality_failure",
        "severity": "high",
        "checkpoint": checkpoint,
        "run_id": run_id,
        "run_date": run_date.isoformat(),
        "alerted_at": datetime.now(UTC).isoformat(),
        **{k: v for k, v in asdict(outcome).items() if k != "expectation_index"},
    }


def publish_failures(
    run_id: str,
    checkpoint: str,
    run_date: date,
    items: Sequence[Outcome],
    *,
    settings: Settings | None = None,
    topic: str | None = None,
) -> int:
    """Publish one ``alerts`` message per failed expectation; return how many were sent."""
    failed = [o for o in items if not o.success]
    if not failed:
        return 0
    producer = kafka_producer(settings)
    try:
        for outcome in failed:
            message = alert_message(run_id, checkpoint, run_date, outcome)
            producer.send(
                topic or ALERTS.name,
                key=f"{outcome.suite_name}:{outcome.expectation_type}".encode(),
                value=json.dumps(message, default=str).encode(),
            )
        producer.flush()
    finally:
        producer.close()
    return len(failed)
