"""How far the revenue estimate is from what YouTube reported, before and after calibration.

The estimate prices public views at a base CPM (dbt docs block
``cpm_calibration``). ``marts.fct_channel_daily_revenue_actuals`` holds, for
every channel-day the Analytics API reported, the actual ad revenue beside
two estimates of the same day: ``seed_ad_revenue_estimate_usd`` at the seed's
CPM tier (before calibration) and ``ad_revenue_estimate_usd`` at the CPM the
warehouse resolved (after: calibrated from the niche's *other* channels'
actuals where the niche has enough of them, else the tier).

The figure is the median absolute percentage error (MdAPE) of each over the
same rows: settled channel-days with actual ad revenue above zero and a
scored estimate (not the channel's baseline day, when its counters measured
nothing). It is evaluated by holding channels out (leave one channel out): a
channel's CPM is fitted on its niche's other channels, never on its own
actuals, so calibration is not scored on the data it was fitted on. The
days of a channel's own window may overlap the days its niche was fitted
on (the same season, other channels), as they do for a channel without
actuals in production.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ytempire.clients import pg_connect
from ytempire.settings import Settings

EVALUATION = (
    "leave one channel out: each channel-day is estimated at a CPM fitted on its niche's "
    "other channels' actuals, never its own"
)

_QUERY = """
select
    count(*) as channel_days,
    count(distinct channel_id) as channels,
    count(*) filter (where cpm_source = 'calibrated') as calibrated_days,
    percentile_cont(0.5) within group (order by seed_ad_revenue_estimate_abs_pct_error)
        as before_mdape,
    percentile_cont(0.5) within group (order by ad_revenue_estimate_abs_pct_error)
        as after_mdape,
    min(metric_date) as first_day,
    max(metric_date) as last_day
from marts.fct_channel_daily_revenue_actuals
where
    is_settled
    and estimated_ad_revenue_usd > 0
    and ad_revenue_estimate_abs_pct_error is not null
    and seed_ad_revenue_estimate_abs_pct_error is not null
    and metric_date >= %(since)s
    and metric_date <= %(until)s
    and (%(niche)s::text is null or niche = %(niche)s::text)
"""


@dataclass(frozen=True)
class CalibrationError:
    """The estimate's median absolute percentage error (percent) before and after calibration.

    ``before_mdape``/``after_mdape`` are None when no channel-day qualifies;
    ``calibrated_days`` is how many of ``channel_days`` had a calibrated CPM
    (the others kept the seed's tier, so their error is the same in both).
    """

    channel_days: int
    channels: int
    calibrated_days: int
    before_mdape: float | None
    after_mdape: float | None
    first_day: date | None
    last_day: date | None

    @property
    def improvement_pct_points(self) -> float | None:
        """before - after, in percentage points (positive: calibration helped)."""
        if self.before_mdape is None or self.after_mdape is None:
            return None
        return self.before_mdape - self.after_mdape


def calibration_error(
    settings: Settings | None = None,
    *,
    since: date | None = None,
    until: date | None = None,
    niche: str | None = None,
) -> CalibrationError:
    """The MdAPE before and after calibration over the settled channel-days in
    [``since``, ``until``] (default: all), of one ``niche`` or all; read as the analyst."""
    params = {
        "since": since or date.min,
        "until": until or date.max,
        "niche": niche,
    }
    with pg_connect("analyst", settings=settings) as conn:
        row = conn.execute(_QUERY, params).fetchone()
    assert row is not None  # an aggregate always answers one row
    days, channels, calibrated, before, after, first, last = row
    return CalibrationError(
        channel_days=int(days),
        channels=int(channels),
        calibrated_days=int(calibrated),
        before_mdape=None if before is None else float(before),
        after_mdape=None if after is None else float(after),
        first_day=first,
        last_day=last,
    )
