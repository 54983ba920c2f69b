"""``ytempire revenue``: the revenue estimate against what YouTube reported."""

from __future__ import annotations

import click

from ytempire_cli.options import ISO_DATE


@click.group()
def revenue() -> None:
    """The revenue estimate and the actuals that calibrate it."""


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"


@revenue.command("calibration-error")
@click.option("--since", type=ISO_DATE, default=None, help="First day (Pacific); default: all.")
@click.option("--until", type=ISO_DATE, default=None, help="Last day (Pacific); default: all.")
@click.option("--niche", default=None, help="One niche only; default: every niche.")
def calibration_error(since: object, until: object, niche: str | None) -> None:
    """Print the estimate's median absolute percentage error before and after calibration.

    Over the settled channel-days with actual ad revenue and an estimate
    (marts.fct_channel_daily_revenue_actuals), each estimated at a CPM fitted
    on its niche's other channels (leave one channel out), against the same
    days at the seed's CPM tiers. Build the warehouse first (`ytempire
    warehouse build`); exits 1 when no channel-day qualifies.
    """
    from ytempire.revenue_calibration import EVALUATION
    from ytempire.revenue_calibration import calibration_error as measure

    result = measure(
        since=since.date() if since is not None else None,  # type: ignore[attr-defined]
        until=until.date() if until is not None else None,  # type: ignore[attr-defined]
        niche=niche,
    )
    if not result.channel_days:
        raise click.ClickException(
            "no settled channel-day has both actual ad revenue and an estimate"
            + (f" in niche {niche}" if niche else "")
            + ": land the Analytics API (`ytempire ingest youtube-analytics`) and the Data API "
            "for the same days, then `ytempire warehouse build`"
        )
    click.echo(
        f"revenue estimate vs actual ad revenue: {result.channel_days} settled channel-days "
        f"of {result.channels} channels, {result.first_day} to {result.last_day}"
        + (f", niche {niche}" if niche else "")
    )
    click.echo(f"evaluation: {EVALUATION}")
    click.echo(
        f"calibrated CPM on {result.calibrated_days} of {result.channel_days} channel-days "
        "(the others kept the seed's tier: too few actuals in their niche)"
    )
    click.echo(f"median absolute percentage error before calibration: {_pct(result.before_mdape)}")
    click.echo(f"median absolute percentage error after calibration:  {_pct(result.after_mdape)}")
