"""Gather one day's :class:`~reporting.model.DailyReport` from the warehouse, Redis and dbt.

Every part is read on its own: a table not created yet, a missing grant, Redis
or dbt unavailable, or a part with no rows for the day leaves that part empty
and a note in ``report.notes`` saying which and why; the other parts are read
as usual. Connections are autocommit and read-only, so one failed query does
not abort the next and the report cannot write anything.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from reporting import queries
from reporting.model import (
    ChannelGrowth,
    ChannelSeries,
    Collection,
    DailyReport,
    DbtResults,
    Freshness,
    Quota,
)
from ytempire.clients import pg_connect
from ytempire.errors import YTEmpireError
from ytempire.quota import PACIFIC
from ytempire.settings import Settings, get_settings

log = logging.getLogger(__name__)
# The instant dbt's freshness check judges at (dbt_project/macros/freshness/freshness_as_of.sql).
FRESHNESS_AS_OF_VARIABLE = "YTEMPIRE_FRESHNESS_AS_OF"
T = TypeVar("T")
TOP_CHANNELS = 5

# The roles the two readers use (see reporting.queries).
MARTS_ROLE = "analyst"
OPS_ROLE = "transformer"


def gather(
    day: date,
    *,
    settings: Settings | None = None,
    redis_prefix: str | None = None,
    freshness: bool = True,
) -> DailyReport:
    """Read everything the report shows for ``day``. Never raises for a missing part.

    ``freshness`` runs ``dbt source freshness`` (a few seconds of dbt parsing)
    as of :func:`freshness_as_of`; ``redis_prefix`` overrides the quota
    counter's key prefix (tests).
    """
    s = settings or get_settings()
    start, _ = queries.window(day)
    report = DailyReport(day=day, window_start=start, generated_at=datetime.now(UTC))
    with _reader(OPS_ROLE, s) as ops, _reader(MARTS_ROLE, s) as marts:
        _pipeline(report, ops, s, redis_prefix)
        _network(report, ops, marts)
    if freshness:
        as_of = freshness_as_of(day, report.generated_at)
        report.freshness_as_of = as_of
        report.freshness = _part(report, "freshness", lambda: source_freshness(as_of), [])
    else:
        report.notes["freshness"] = "not checked (--no-freshness)"
    return report


def _pipeline(report: DailyReport, ops: Any, s: Settings, redis_prefix: str | None) -> None:
    day = report.day
    report.stages = _part(report, "stages", lambda: queries.stage_runs(ops, day), [])
    runs: list[dict[str, Any]] = _part(
        report,
        "collection",
        lambda: queries.collection_runs(ops, day),
        [],
        empty="not run: no collection run recorded for the day",
    )
    if runs:
        report.collection = _part(report, "collection", lambda: _collection(ops, day, runs), None)
    report.quota = _quota(report, runs, s, redis_prefix)
    report.events = _part(report, "events", lambda: queries.events(ops, day), None)
    if report.events is not None and not report.events.landed and not report.events.dead_by_reason:
        report.notes["events"] = "no data: no event of the day landed or dead-lettered"
    report.dbt = _dbt(report)
    counted = _part(report, "expectations", lambda: queries.expectation_results(ops, day), None)
    if counted is not None:
        report.expectations_run, report.expectation_failures = counted
        if not report.expectations_run:
            report.notes["expectations"] = "not run: no expectation was validated on the day"
    report.quality = _part(report, "quality", lambda: queries.quality_scores(ops, day), [])
    report.window_anomalies = _part(
        report, "anomalies", lambda: queries.anomalies(ops, report.window_start, day), []
    )
    report.anomalies = [a for a in report.window_anomalies if a.observed_on == day]
    if report.window_anomalies and not report.anomalies:
        report.notes["anomalies"] = "none on the day"


def _network(report: DailyReport, ops: Any, analyst: Any) -> None:
    day = report.day

    def marts(name: str, read: Callable[[Any], T], default: T) -> T:
        return _part(
            report, name, lambda: _as_analyst_else_ops(report, name, read, analyst, ops), default
        )

    report.series = marts("network", lambda c: queries.network_series(c, day), [])
    report.revenue_by_niche = marts(
        "revenue_by_niche", lambda c: queries.revenue_by_niche(c, day), []
    )
    growth: list[ChannelGrowth] = marts("growth", lambda c: queries.channel_growth(c, day), [])
    ranked = [g for g in growth if g.growth_pct is not None]
    report.top_growth = ranked[:TOP_CHANNELS]
    report.bottom_growth = ranked[max(TOP_CHANNELS, len(ranked) - TOP_CHANNELS) :][::-1]
    report.new_videos = marts("new_videos", lambda c: queries.new_videos(c, day), [])
    _owner(report, ops, analyst)
    channel_ids = sorted({a.channel_id for a in report.anomalies if a.channel_id})
    if channel_ids:
        found: dict[str, list[Any]] = marts(
            "channel_series", lambda c: queries.channel_series(c, day, channel_ids), {}
        )
        report.channel_series = [
            ChannelSeries(
                channel_id,
                found.get(channel_id, ["", []])[0],
                found.get(channel_id, ["", []])[1],
                _anomaly_days(report, channel_id),
            )
            for channel_id in channel_ids
        ]


# The owner's view arrives about two days after a day, and not at all where no owner granted
# access: an empty part says so rather than "no data for the day".
OWNER_EMPTY = (
    "no owner reports in the window (YouTube delivers a day ~48 h after it ends; none where "
    "no channel owner granted access)"
)


def _owner(report: DailyReport, ops: Any, analyst: Any) -> None:
    """Watch time and actual revenue vs the estimate, from the owner's marts (issue 28)."""
    day = report.day

    def marts(name: str, read: Callable[[Any], T], default: T) -> T:
        return _part(
            report,
            name,
            lambda: _as_analyst_else_ops(report, name, read, analyst, ops),
            default,
            empty=OWNER_EMPTY,
        )

    report.watch_time = marts("watch_time", lambda c: queries.watch_time(c, day), [])
    report.top_watch_time = marts(
        "top_watch_time", lambda c: queries.channel_watch_time(c, day, TOP_CHANNELS), []
    )
    report.revenue_actuals = marts("revenue_actuals", lambda c: queries.revenue_actuals(c, day), [])


def _as_analyst_else_ops(
    report: DailyReport, name: str, read: Callable[[Any], T], analyst: Any, ops: Any
) -> T:
    """``read`` as the analyst; where the analyst may not read a mart, as the ops role (noted)."""
    try:
        return read(analyst)
    except psycopg.errors.InsufficientPrivilege as exc:
        reason = str(exc).strip().splitlines()[0]
        report.read_as[name] = f"ytempire_{OPS_ROLE} (analyst: {reason})"
        return read(ops)


def _anomaly_days(report: DailyReport, channel_id: str) -> list[date]:
    return sorted(
        {a.observed_on for a in report.window_anomalies if a.channel_id == channel_id} - {None}  # type: ignore[arg-type]
    )


def _collection(ops: Any, day: date, runs: list[dict[str, Any]]) -> Collection:
    expected, collected, missing = queries.channels_not_collected(ops, day)
    issues = queries.channel_issues(runs, missing)
    return Collection(
        runs=len(runs),
        run_statuses=tuple(str(r["status"]) for r in runs),
        channels_expected=expected,
        channels_collected=collected,
        issues=tuple(issues),
    )


def _quota(
    report: DailyReport, runs: list[dict[str, Any]], s: Settings, prefix: str | None
) -> Quota:
    from ytempire.clients import redis_client
    from ytempire.quota import QuotaBudget

    used = sum(int(r["quota_units_used"] or 0) for r in runs)
    counter: int | None = None
    try:
        budget = QuotaBudget(
            redis_client(settings=s),
            s.youtube_daily_quota,
            s.redis_key_prefix if prefix is None else prefix,
            where=s.redis_url,
        )
        counter = budget.used(report.day) if budget.client.exists(budget.key(report.day)) else None
    except (YTEmpireError, OSError) as exc:
        report.notes["quota_counter"] = f"unavailable: {exc}"
    return Quota(used=used, limit=s.youtube_daily_quota, counter_used=counter)


def _dbt(report: DailyReport) -> DbtResults | None:
    build = next((s for s in report.stages if s.stage == "dbt_build"), None)
    if build is None or build.status == "not run":
        report.notes["dbt"] = "not run: no dbt build recorded for the day"
        return None
    details = build.details
    if "models" not in details and "tests" not in details:
        report.notes["dbt"] = (
            "no data: the build recorded no run_results (it failed before dbt ran)"
        )
        return None
    return DbtResults(
        models=dict(details.get("models", {})),
        tests=dict(details.get("tests", {})),
        failures=list(details.get("failures", [])),
    )


def freshness_as_of(day: date, now: datetime) -> datetime:
    """The instant the report of ``day`` judges source freshness at: the end of the business
    day (the next Pacific midnight: the end of the run's data interval), or ``now`` while
    the day is not over.

    So a report says how fresh its sources were for its own day and reads the
    same whenever it is made again; a past day (a backfill, the simulated days
    of the demo) is not judged against today's clock. dbt's thresholds apply
    unchanged; see the macro ``freshness_as_of`` in dbt_project/macros/freshness.
    """
    end_of_day = datetime.combine(day + timedelta(days=1), time(), tzinfo=PACIFIC)
    return min(now, end_of_day).astimezone(UTC)


def source_freshness(as_of: datetime | None = None) -> list[Freshness]:
    """dbt's own freshness check of every source with a ``freshness`` block, as of ``as_of``
    (an aware instant; default now).

    Runs ``dbt source freshness`` in-process (its warn/error thresholds live in
    the sources' YAML; ``$YTEMPIRE_FRESHNESS_AS_OF``, read by the project's
    ``freshness_as_of`` macro, sets the instant it judges at) and reads its
    ``sources.json``. A stale source is a result, not an error; a source newest
    loaded after ``as_of`` has a negative age and passes.
    """
    from dbt.cli.main import dbtRunner

    from ytempire.dbt_runner import dbt_args

    with (
        tempfile.TemporaryDirectory(prefix="ytempire-freshness-") as folder,
        _environ(FRESHNESS_AS_OF_VARIABLE, as_of.isoformat() if as_of else ""),
    ):
        output = Path(folder) / "sources.json"
        result = dbtRunner().invoke(
            dbt_args("source freshness", "--output", str(output), "--log-level", "none")
        )
        if not output.exists():
            raise YTEmpireError(f"dbt source freshness wrote no results: {result.exception}")
        results = json.loads(output.read_text())["results"]
    return sorted((_freshness(r) for r in results), key=lambda f: f.source)


@contextmanager
def _environ(name: str, value: str) -> Iterator[None]:
    """``$name`` set to ``value`` for the block (dbt runs in-process), then as it was."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            del os.environ[name]
        else:
            os.environ[name] = before


def _freshness(result: dict[str, Any]) -> Freshness:
    loaded_at = _parse_ts(result.get("max_loaded_at"))
    age_s = result.get("max_loaded_at_time_ago_in_s")
    return Freshness(
        source=str(result["unique_id"]).removeprefix("source.ytempire."),
        status=str(result["status"]),
        max_loaded_at=loaded_at,
        age_hours=None if loaded_at is None or age_s is None else float(age_s) / 3600,
    )


def _parse_ts(value: str | None) -> datetime | None:
    """dbt's timestamp; None for none, or for the year-1 stamp dbt gives an empty table."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None if parsed.year == 1 else parsed


def _part(
    report: DailyReport,
    name: str,
    read: Callable[[], T],
    default: T,
    empty: str = "no data for the day",
) -> T:
    """``read()``, or ``default`` with a note naming why the part is missing; ``empty``
    is the note when it read nothing."""
    try:
        value = read()
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0]
        report.notes[name] = f"unavailable: {type(exc).__name__}: {reason}"
        log.info("report part %s unavailable: %s", name, reason)
        return default
    except Exception as exc:  # dbt, Redis: the report goes on without the part
        report.notes[name] = f"unavailable: {type(exc).__name__}: {exc}"
        log.info("report part %s unavailable: %s", name, exc)
        return default
    if not value and name not in report.notes:
        report.notes[name] = empty
    return value


@contextmanager
def _reader(role: str, settings: Settings) -> Iterator[Any]:
    """An autocommit, read-only connection as ``role``: one failed query spoils no other."""
    with pg_connect(role, autocommit=True, settings=settings) as conn:
        conn.execute("set session characteristics as transaction read only")
        yield conn
