"""``ytempire quota``: the shared YouTube quota budget of a Pacific quota day."""

from __future__ import annotations

import click

from ytempire_cli.options import ISO_DATE


@click.command()
@click.option(
    "--date",
    "day",
    type=ISO_DATE,
    default=None,
    help="Quota day (Pacific); default: today.",
)
def quota(day: object) -> None:
    """Print the YouTube quota units used and remaining."""
    from ytempire.quota import budget_from_settings, quota_day

    budget = budget_from_settings()
    the_day = day.date() if day is not None else quota_day()  # type: ignore[attr-defined]
    used = budget.used(the_day)
    click.echo(
        f"youtube quota {the_day} (Pacific): used {used}, remaining "
        f"{max(0, budget.daily_limit - used)} of {budget.daily_limit} units"
    )
