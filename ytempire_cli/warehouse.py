"""Run the dbt project and read its analyst views: ``ytempire warehouse ...``.

dbt runs in-process through ``dbtRunner`` with ``dbt_project/`` as both the
project and the profiles folder, so every connection setting comes from the
``YTEMPIRE_PG_*`` variables (``dbt_project/profiles.yml``). ``show`` reads the
materialized views as the read-only ``analyst`` role, exactly what an analyst
can see.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

import click

from ytempire.clients import pg_connect
from ytempire.dbt_runner import node_summary, run_dbt, run_results_summary, target_dir
from ytempire.errors import YTEmpireError
from ytempire_cli.options import run_date_option, stage_day

ANALYST_VIEWS = (
    "mv_channel_performance",
    "mv_video_analytics",
    "mv_channel_revenue_daily",
    "mv_niche_revenue_daily",
)
_SHOW_ORDER = {
    "mv_channel_performance": "views_28d_rank, channel_id",
    "mv_video_analytics": "views_7d desc, video_id",
    "mv_channel_revenue_daily": "metric_date desc, revenue_estimate_usd desc, channel_id",
    "mv_niche_revenue_daily": "metric_date desc, revenue_estimate_usd desc, niche",
}


def read_view(view: str, limit: int) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and the first ``limit`` rows of an analyst view, as the analyst role."""
    if view not in ANALYST_VIEWS:
        raise YTEmpireError(f"unknown view {view!r}; expected one of {', '.join(ANALYST_VIEWS)}")
    query = f"select * from marts.{view} order by {_SHOW_ORDER[view]} limit %s"
    with pg_connect("analyst") as conn, conn.cursor() as cur:
        cur.execute(query, (limit,))
        columns = [col.name for col in cur.description or []]
        return columns, cur.fetchall()


def format_table(columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> str:
    """A fixed-width text table (pure)."""
    cells = [[str(c) for c in columns], *[["" if v is None else str(v) for v in r] for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    lines = ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


@click.group()
def warehouse() -> None:
    """The dbt warehouse: build it, document it, read the analyst views."""


@warehouse.command(context_settings={"ignore_unknown_options": True})
@run_date_option
@click.argument("dbt_options", nargs=-1, type=click.UNPROCESSED)
def build(run_date: date | None, dbt_options: tuple[str, ...]) -> None:
    """`dbt build` (seeds, snapshot, models, tests); extra options go to dbt.

    Recorded as the day's `dbt_build` stage with the counts of run_results.json.
    """
    from ytempire.progress import progress_bar
    from ytempire.stage_runs import record_stage

    started = time.monotonic()
    with (
        record_stage("dbt_build", stage_day(run_date)) as run,
        progress_bar("dbt build", None, "nodes") as advance,
    ):
        written_after = time.time()

        def on_node(index: int, total: int) -> None:
            advance(done=index, total=total)

        try:
            result = run_dbt("build", *dbt_options, on_node=on_node)
        finally:
            results = target_dir() / "run_results.json"
            if results.exists() and results.stat().st_mtime >= written_after:
                run.details.update(run_results_summary(json.loads(results.read_text())))
    click.echo(
        f"dbt build passed in {time.monotonic() - started:.0f}s: {node_summary(result.result)}"
    )


@warehouse.command()
@click.option("--serve", is_flag=True, help="Then serve the site on 127.0.0.1 until Ctrl-C.")
@click.option(
    "--port",
    default=8580,
    show_default=True,
    type=int,
    envvar="YTEMPIRE_DBT_DOCS_PORT",
    show_envvar=True,
    help="Port of --serve.",
)
def docs(serve: bool, port: int) -> None:
    """`dbt docs generate` into dbt_project/target; with --serve, serve the site too."""
    run_dbt("docs generate", quiet=True)
    click.echo(f"dbt docs site generated in {target_dir()}")
    if serve:
        click.echo(f"serving it on http://127.0.0.1:{port}/ (Ctrl-C stops)")
        run_dbt("docs serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser")


@warehouse.command()
@click.option("--limit", default=5, show_default=True, help="Rows per view.")
def show(limit: int) -> None:
    """Print the first rows of each analyst materialized view (as role analyst)."""
    for view in ANALYST_VIEWS:
        columns, rows = read_view(view, limit)
        click.echo(f"\nmarts.{view}")
        click.echo(format_table(columns, rows))


@warehouse.command()
@click.option("--days", default=14, show_default=True, help="Days of history to land.")
@click.option("--channels", default=25, show_default=True, help="Channels in the network.")
@click.option(
    "--if-empty", is_flag=True, help="Do nothing when raw_youtube already holds snapshots."
)
def simulate(days: int, channels: int, if_empty: bool) -> None:
    """Land a simulated network straight into the raw tables (no API, no Kafka)."""
    from simulation.raw_history import NetworkSpec, land_days, raw_snapshot_count

    with pg_connect("loader") as conn:
        if if_empty and raw_snapshot_count(conn) > 0:
            click.echo("raw_youtube.channel_snapshots already has data; nothing landed")
            return
        land_days(
            conn,
            NetworkSpec(channels=channels),
            0,
            days - 1,
            progress=lambda msg: click.echo(f"  {msg}"),
        )
