"""The ``ytempire`` command line: one entry point for every job of the warehouse.

Subcommands are registered by name in ``LAZY_COMMANDS`` and imported only when
invoked, so ``ytempire doctor`` does not pay for importing Spark or dlt.
Errors derived from :class:`~ytempire.errors.YTEmpireError` are printed as one
message (what failed, where, what to do next) with their exit code.
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from ytempire.errors import YTEmpireError
from ytempire.redaction import redact_text
from ytempire.settings import get_settings

# name -> "module:attribute" of a click command or group, imported on use.
LAZY_COMMANDS: dict[str, str] = {
    "airflow": "ytempire_cli.airflow:airflow",
    "ingest": "ytempire_cli.ingest:ingest",
    "process": "ytempire_cli.process:process",
    "quality": "ytempire_cli.quality:quality",
    "quota": "ytempire_cli.quota:quota",
    "report": "ytempire_cli.report:report",
    "revenue": "ytempire_cli.revenue:revenue",
    "serve": "ytempire_cli.serve:serve",
    "services": "ytempire_cli.services:services",
    "simulate": "ytempire_cli.simulate:simulate",
    "stream": "ytempire_cli.stream:stream",
    "warehouse": "ytempire_cli.warehouse:warehouse",
    "youtube-owner": "ytempire_cli.youtube_owner:youtube_owner",
}


class LazyGroup(click.Group):
    """A click group whose heavier subcommands are imported when invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LAZY_COMMANDS:
            module_name, attr = LAZY_COMMANDS[cmd_name].split(":")
            command: click.Command = getattr(importlib.import_module(module_name), attr)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup)
@click.option(
    "-v", "--verbose", is_flag=True, help="Log progress and the libraries' INFO lines too."
)
def cli(verbose: bool) -> None:
    """YTEmpire warehouse: land, transform, stream and check YouTube network data."""
    from ytempire.progress import configure_logging

    configure_logging(verbose)


@cli.command()
@click.option(
    "--apps",
    is_flag=True,
    help="Also fail (exit 1) if an app service is stopped or unhealthy.",
)
def doctor(apps: bool) -> None:
    """Each service's health and version, then each app service's state, health and lag.

    Exits 1 if an infrastructure service is down; a stopped app service
    (`ytempire services start`) is reported, and an error only with --apps.
    """
    from ytempire.health import run_checks
    from ytempire_cli.services import app_health, print_app_health

    s = get_settings()
    results = run_checks(s)
    width = max(len(r.service) for r in results)
    for r in results:
        status = "up" if r.ok else "DOWN"
        click.echo(f"{r.service:<{width}}  {status:<4}  {r.version:<10}  {r.detail}")
    click.echo(f"app services (`ytempire services start|stop|status`; files in {s.services_path}):")
    down = [r.service for r in results if not r.ok]
    report = app_health(s, down=frozenset(down))
    print_app_health(report)
    if apps:
        down += [h.state.name for h in report if not h.healthy]
    if down:
        raise click.ClickException(f"down: {', '.join(down)}")


@cli.group()
def db() -> None:
    """The warehouse database."""


@db.command("init")
@click.option("--database", default=None, help="Database to create/update (default: settings).")
def db_init(database: str | None) -> None:
    """Create the database and apply sql/ (schemas, roles, tables). Re-runnable."""
    from ytempire.db import init_database

    steps: list[str] = []
    name = init_database(database, progress=steps.append)
    for line in steps if logging.getLogger().isEnabledFor(logging.INFO) else ():
        click.echo(f"  {line}")
    click.echo(f"database {name} is up to date ({len(steps)} steps; -v lists them)")


@db.command("conninfo")
@click.option(
    "--role",
    type=click.Choice(["analyst", "loader", "transformer"]),
    default="analyst",
    show_default=True,
)
def db_conninfo(role: str) -> None:
    """Print a libpq connection string for ROLE (for psql, BI tools)."""
    from ytempire.clients import pg_conninfo

    click.echo(pg_conninfo(role))


@cli.group()
def topics() -> None:
    """The Kafka topics."""


@topics.command("create")
def topics_create() -> None:
    """Create the topics in ytempire.topics that do not exist yet."""
    from ytempire.topics import ensure_topics

    created = ensure_topics()
    click.echo(f"created: {', '.join(created)}" if created else "all topics exist")


def _driver_error(exc: BaseException) -> YTEmpireError | None:
    """A driver's connection error that escaped a command, as the project's own error."""
    psycopg = sys.modules.get("psycopg")
    if psycopg is not None and isinstance(exc, psycopg.OperationalError):
        from ytempire.clients import pg_connection_lost, pg_unavailable

        if pg_connection_lost(str(exc)):
            return pg_unavailable(exc, "the command")
    redis = sys.modules.get("redis")
    if redis is not None and isinstance(exc, redis.ConnectionError | redis.TimeoutError):
        from ytempire.errors import ServiceUnavailable
        from ytempire.redaction import redact_url

        return ServiceUnavailable("Redis", redact_url(get_settings().redis_url), exc)
    return None


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, prog_name="ytempire", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:  # the user's own arguments, with the usage line
        exc.show()
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"Error: {redact_text(exc.format_message())}", err=True)
        sys.exit(exc.exit_code)
    except YTEmpireError as exc:
        click.echo(f"error: {redact_text(str(exc))}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        service_error = _driver_error(exc)
        if service_error is not None:  # a service went away mid-command: say so, no traceback
            click.echo(f"error: {redact_text(str(service_error))}", err=True)
            sys.exit(service_error.exit_code)
        # a bug: its traceback, without the secrets it may quote
        import traceback

        click.echo(redact_text("".join(traceback.format_exception(exc))), err=True, nl=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
