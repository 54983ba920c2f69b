"""``ytempire quality``: Great Expectations checkpoints, the quality scorecard, anomalies.

Each command calls the same function an Airflow task calls (and records its
stage in ``analytics.pipeline_stage_runs``). Exit status of ``validate``: 0 every
expectation passed, 3 one or more failed (data problem), 2 a service is down,
1 any other error -- a scheduler can stop the pipeline on 3 and retry on 2.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import click

from ytempire_cli.options import ISO_DATE


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def _date_option(help_text: str) -> Callable[[Any], Any]:
    return click.option(
        "--date",
        "run_date",
        type=ISO_DATE,
        default=None,
        help=help_text + " (default: yesterday, UTC).",
    )


@click.group()
def quality() -> None:
    """Validate (GX checkpoints), score (six dimensions) and watch (anomalies) the data."""


def _day(value: datetime | None) -> date:
    return value.date() if value else _yesterday()


def _topic_option(envvar: str, default: str) -> Callable[[Any], Any]:
    return click.option(
        "--alerts-topic",
        "topic",
        envvar=envvar,
        default=None,
        help=f"Kafka topic the alerts go to (default: ${envvar}, else {default}).",
    )


@quality.command("validate")
@click.option(
    "--checkpoint",
    type=click.Choice(["raw", "owner", "marts", "all"]),
    default="all",
    show_default=True,
    help="raw: before dbt; owner: the owner's sources (freshness per report type, rows per "
    "day); marts: after dbt.",
)
@click.option("--suite", "suites", multiple=True, help="Only this suite (repeatable).")
@_date_option("Business day validated")
@_topic_option("YTEMPIRE_ALERTS_TOPIC", "alerts")
def validate(
    checkpoint: str, suites: tuple[str, ...], run_date: datetime | None, topic: str | None
) -> None:
    """Run GX checkpoints; store results, summarise in Redis, alert failures. Exit 3 on failure."""
    from expectations.checkpoints import CHECKPOINTS, VALIDATIONS, ValidationFailed, validate

    day = _day(run_date)
    names: tuple[str, ...] = CHECKPOINTS if checkpoint == "all" else (checkpoint,)
    if suites:
        known = {v.suite for name in names for v in VALIDATIONS[name]}
        unknown = sorted(set(suites) - known)
        if unknown:
            raise click.BadParameter(
                f"{', '.join(unknown)}; known: {', '.join(sorted(known))}", param_hint="--suite"
            )
        names = tuple(n for n in names if {v.suite for v in VALIDATIONS[n]} & set(suites))
    failure: ValidationFailed | None = None
    for name in names:
        chosen = [v.suite for v in VALIDATIONS[name] if not suites or v.suite in suites]
        try:
            run = validate(name, day, suites=chosen, alerts_topic=topic)
        except ValidationFailed as exc:
            run, failure = exc.run, exc
        passed = len(run.outcomes) - len(run.failed)
        click.echo(f"{name}: {passed}/{len(run.outcomes)} expectations passed ({run.run_id})")
        for outcome in run.failed:
            where = f".{outcome.column}" if outcome.column else ""
            sample = outcome.unexpected_rows[:3] or outcome.unexpected_sample[:3]
            reason = outcome.exception_message or f"{outcome.unexpected_count} rows, e.g. {sample}"
            click.echo(f"  FAILED {outcome.suite_name}{where} {outcome.expectation_type}: {reason}")
        click.echo(f"  data docs: {run.docs_index}")
    if failure is not None:
        raise failure


@quality.command("scores")
@_date_option("Business day scored")
@_topic_option("YTEMPIRE_ALERTS_TOPIC", "alerts")
def scores(run_date: datetime | None, topic: str | None) -> None:
    """Compute the six-dimension scores per table and overall; store them; alert below 85."""
    from monitoring.scores import DIMENSIONS, compute

    run = compute(_day(run_date), topic=topic)
    tables = list(dict.fromkeys(s.table_name for s in run.scores))
    header = f"{'table':<32}" + "".join(f"{d[:12]:>13}" for d in (*DIMENSIONS, "overall"))
    click.echo(header)
    for table in tables:
        cells = []
        for dimension in (*DIMENSIONS, "overall"):
            value = run.score(table, dimension)
            cells.append(f"{'-' if value is None else f'{value:.2f}':>13}")
        click.echo(f"{table:<32}" + "".join(cells))
    if run.alert:
        click.echo(f"alert ({run.alert['severity']}): {run.alert['message']}")


@quality.command("anomalies")
@_date_option("Day scored")
@click.option("--no-collect", is_flag=True, help="Score the stored series only.")
@_topic_option("YTEMPIRE_ANOMALY_ALERTS_TOPIC", "anomaly-alerts")
def anomalies(run_date: datetime | None, no_collect: bool, topic: str | None) -> None:
    """Collect the day's series, flag anomalies, alert each new episode once."""
    from monitoring.anomalies import detect

    day = _day(run_date)
    run = detect(day, collect=not no_collect, topic=topic)
    click.echo(
        f"{day}: {run.series_scored} series scored ({run.series_short} with too short a "
        f"history), {len(run.detections)} anomalies, {run.alerts_sent} new alerts"
    )
    for d in run.detections:
        state = "new episode" if d.is_new_episode else f"episode from {d.episode_first_date}"
        click.echo(
            f"  {d.severity:<6} {d.metric_name:<18} {d.entity_id:<26} value {d.value:,.2f} "
            f"expected {d.expected_low:,.2f}..{d.expected_high:,.2f} (z {d.z_score:+.1f}, "
            f"{d.direction}; {state})"
        )


@quality.command("simulate-history")
@click.option("--channels", default=25, show_default=True)
@click.option("--days", default=90, show_default=True, help="Days of history, ending on --date.")
@_date_option("Last simulated day")
@click.option(
    "--inject",
    "kinds",
    multiple=True,
    default=("viral_spike",),
    show_default=True,
    help="Anomaly kind injected on the last day, one channel per kind (repeatable).",
)
@click.option("--seed", default=1818, show_default=True, help="Seed of the simulated channels.")
def simulate_history(
    channels: int, days: int, run_date: datetime | None, kinds: tuple[str, ...], seed: int
) -> None:
    """Land a simulated, labelled history of the channel series (source 'simulated')."""
    from simulation.anomalies import KINDS, land_observations, simulate_series
    from ytempire.clients import pg_connect

    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)}; known: {', '.join(KINDS)}")
    last = _day(run_date)
    network = simulate_series(
        channels,
        days,
        start_date=last - timedelta(days=days - 1),
        seed=seed,
        kinds=kinds,
        anomalous_channels=len(kinds),
        inject_on=days - 1,
    )
    with pg_connect("loader") as conn:
        written = land_observations(conn, network)
    click.echo(f"landed {written:,} simulated values ({channels} channels x {days} days)")
    for label in network.labels:
        click.echo(
            f"  injected {label.kind} on {label.metric} of {label.channel_id} "
            f"on {network.day_date(label.first_day)}"
        )
