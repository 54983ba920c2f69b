"""Daily series of the simulated channel network with labelled anomalies injected.

The anomaly detector is measured against these series (``bench/anomalies.py``)
and the demo lands them as history (``ytempire simulate anomalies``). Every
value is a pure function of (seed, channel, day), so two runs agree.

Per channel, the undisturbed series follow what small channels look like:

- ``views_daily``: a log-normal level, a slow growth or decline, a weekly
  pattern (weekend up by 10-35 %), and heavy-tailed day-to-day noise
  (Student t, 6 degrees of freedom, 8-20 % in log terms);
- ``subscribers_daily`` (gained, net): views x a subscribe rate, Poisson noise;
- ``revenue_usd``: views / 1000 x an RPM of $1-8 with a little noise;
- ``engagement_rate``: 2-6 % (percent, like the marts) with noise;
- ``rows_landed``: the collector's video snapshot rows of the channel that day
  (uploads of the last 28 days daily, older ones weekly, as the raw landing does).

Injected kinds (one per channel by default, after the first ``first_day`` days),
each labelled with its channel, series and days:

- ``viral_spike``: views x 4-10 for a day, half that effect the next day;
- ``views_collapse``: views x 0.1-0.3 for 4-10 days;
- ``subscriber_purge``: one day's net subscribers -0.5 % to -3 % of the base;
- ``stalled_channel``: views, subscribers and revenue at 0 for 3-10 days;
- ``half_landing``: the day's landed rows halved.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from simulation import ids

KINDS = ("viral_spike", "views_collapse", "subscriber_purge", "stalled_channel", "half_landing")
METRICS = ("views_daily", "subscribers_daily", "revenue_usd", "engagement_rate", "rows_landed")
TARGET_METRIC = {
    "viral_spike": "views_daily",
    "views_collapse": "views_daily",
    "subscriber_purge": "subscribers_daily",
    "stalled_channel": "views_daily",
    "half_landing": "rows_landed",
}
_WEEKEND_SHAPE = np.array([-0.25, -0.35, -0.3, -0.15, 0.25, 0.9, 0.8])  # Mon..Sun, x amplitude
_DAILY_TIER_DAYS = 28


@dataclass(frozen=True)
class InjectedAnomaly:
    """One labelled anomaly: its channel, the series it hits and its days (inclusive)."""

    channel_id: str
    kind: str
    metric: str
    first_day: int
    last_day: int


@dataclass
class SeriesNetwork:
    """Per (metric, channel id): an array of daily values from ``start_date``."""

    start_date: date
    days: int
    channel_ids: list[str]
    values: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    labels: list[InjectedAnomaly] = field(default_factory=list)

    def day_date(self, day: int) -> date:
        return self.start_date + timedelta(days=day)

    def weekdays(self) -> np.ndarray:
        first = self.start_date.weekday()
        return (np.arange(self.days) + first) % 7

    def observations(self) -> Iterator[tuple[str, str, date, float]]:
        """(metric, channel id, day, value) of every value, for landing."""
        for (metric, channel), series in self.values.items():
            for day, value in enumerate(series):
                yield metric, channel, self.day_date(day), float(value)


def _rng(seed: int, *parts: int) -> np.random.Generator:
    return np.random.default_rng([seed, *parts])


def _rows_landed(rng: np.random.Generator, days: int) -> np.ndarray:
    rate = rng.uniform(1.0, 3.0)
    history = 400  # days of uploads before day 0, so the weekly tier is in steady state
    uploads = rng.poisson(rate, size=history + days)
    rows = np.zeros(days)
    for day in range(days):
        ages = np.arange(history + day + 1)[::-1]  # age of each upload day at `day`
        due = (ages < _DAILY_TIER_DAYS) | (ages % 7 == 0)
        rows[day] = uploads[: history + day + 1][due].sum()
    return rows


def _channel_series(
    rng: np.random.Generator, days: int, weekdays: np.ndarray
) -> dict[str, np.ndarray]:
    t = np.arange(days)
    level = rng.lognormal(mean=8.0, sigma=1.0)
    growth = rng.normal(0.002, 0.003)
    amplitude = rng.uniform(0.10, 0.35)
    weekly = 1 + amplitude * _WEEKEND_SHAPE[weekdays] / 0.9
    noise_sd = rng.uniform(0.08, 0.20)
    noise = rng.standard_t(6, size=days) * noise_sd / np.sqrt(1.5)
    views = np.round(level * np.exp(growth * t) * weekly * np.exp(noise))
    subscribers = rng.poisson(views * rng.uniform(0.002, 0.01)).astype(float)
    revenue = np.round(views / 1000 * rng.uniform(1.0, 8.0) * np.exp(rng.normal(0, 0.05, days)), 2)
    engagement = np.round(rng.uniform(2.0, 6.0) * np.exp(rng.normal(0, 0.08, days)), 2)
    return {
        "views_daily": views,
        "subscribers_daily": subscribers,
        "revenue_usd": revenue,
        "engagement_rate": engagement,
        "rows_landed": _rows_landed(rng, days),
    }


def _inject(rng: np.random.Generator, series: dict[str, np.ndarray], kind: str, day: int) -> int:
    """Apply ``kind`` from ``day`` in place; return its last day."""
    days = len(series["views_daily"])
    if kind == "viral_spike":
        factor = rng.uniform(4.0, 10.0)
        series["views_daily"][day] = round(series["views_daily"][day] * factor)
        series["revenue_usd"][day] = round(series["revenue_usd"][day] * factor, 2)
        if day + 1 < days:
            series["views_daily"][day + 1] = round(
                series["views_daily"][day + 1] * (1 + (factor - 1) / 2)
            )
        return day
    if kind == "views_collapse":
        last = min(day + int(rng.integers(4, 11)) - 1, days - 1)
        factor = rng.uniform(0.1, 0.3)
        for metric in ("views_daily", "revenue_usd"):
            series[metric][day : last + 1] = np.round(series[metric][day : last + 1] * factor)
        return last
    if kind == "subscriber_purge":
        base = series["subscribers_daily"][:day].sum() + 200 * max(
            float(series["subscribers_daily"][:day].mean()), 1.0
        )
        series["subscribers_daily"][day] = -round(base * rng.uniform(0.005, 0.03))
        return day
    if kind == "stalled_channel":
        last = min(day + int(rng.integers(3, 11)) - 1, days - 1)
        for metric in ("views_daily", "subscribers_daily", "revenue_usd"):
            series[metric][day : last + 1] = 0
        return last
    if kind == "half_landing":
        series["rows_landed"][day] = np.floor(series["rows_landed"][day] / 2)
        return day
    raise ValueError(f"unknown anomaly kind {kind!r}; known: {', '.join(KINDS)}")


def simulate_series(
    channels: int = 250,
    days: int = 120,
    *,
    start_date: date = date(2025, 1, 1),
    seed: int = ids.DEFAULT_SEED,
    first_day: int = 45,
    kinds: tuple[str, ...] = KINDS,
    anomalous_channels: int | None = None,
    inject_on: int | None = None,
) -> SeriesNetwork:
    """The network's daily series with anomalies injected and labelled.

    The first ``anomalous_channels`` channels (all by default) get one anomaly
    each, the kinds taking turns, on a random day in ``[first_day, days - 3]``
    (or on ``inject_on`` when given). The rest stay undisturbed.
    """
    if days < first_day + 3 and inject_on is None:
        raise ValueError(f"{days} days leave no room for anomalies after day {first_day}")
    network = SeriesNetwork(start_date, days, [ids.channel_id(i, seed) for i in range(channels)])
    weekdays = network.weekdays()
    disturbed = channels if anomalous_channels is None else anomalous_channels
    for index, channel in enumerate(network.channel_ids):
        rng = _rng(seed, index)
        series = _channel_series(rng, days, weekdays)
        if index < disturbed and kinds:
            kind = kinds[index % len(kinds)]
            day = inject_on if inject_on is not None else int(rng.integers(first_day, days - 2))
            last = _inject(rng, series, kind, day)
            network.labels.append(InjectedAnomaly(channel, kind, TARGET_METRIC[kind], day, last))
        for metric, values in series.items():
            network.values[(metric, channel)] = values
    return network


def land_observations(conn: Any, network: SeriesNetwork) -> int:
    """Upsert every value into ``analytics.metric_observations`` as ``source='simulated'``.

    Runs as the loader; commits. Returns the rows written.
    """
    with conn.cursor() as cur:
        cur.execute(
            "create temporary table if not exists sim_observations ("
            "metric_name text, entity_id text, observed_on date, value double precision"
            ") on commit drop"
        )
        with cur.copy("copy sim_observations from stdin") as copy:
            for row in network.observations():
                copy.write_row(row)
        cur.execute(
            """
            insert into analytics.metric_observations
                (metric_name, entity_id, observed_at, value, source)
            select metric_name, entity_id, observed_on::timestamp at time zone 'UTC', value,
                'simulated'
            from sim_observations
            on conflict (metric_name, entity_id, observed_at) do update
                set value = excluded.value, source = excluded.source, recorded_at = now()
            """
        )
        written = cur.rowcount
    conn.commit()
    return written
