"""Anomaly scoring of one daily series: pure functions, no I/O (numpy and scipy).

Two scorers share one interface, ``score(history, value, weekday) -> Verdict``:

- :func:`plain_zscore` is the reference design's detector, kept for comparison:
  ``z = (x - mean) / std`` over the last ``window`` raw values (at least
  ``min_samples``), threshold 3;
- :func:`seasonal_zscore` is the warehouse's detector. On a log scale for
  counts (``log1p``; linear for signed or bounded metrics) it removes
  day-of-week seasonality (the median, per weekday, of the values minus their
  centred 7-day rolling median, as in a classical decomposition), fits the
  trend of the last ``training_days`` deseasonalised values (Theil-Sen with
  ``robust``, least squares without), and scores the new value's residual
  against the training residuals' spread: ``1.4826 x MAD`` with ``robust``,
  the standard deviation without (``scipy.stats.median_abs_deviation``). The
  spread has a floor (``min_scale``) so a near-constant series does not flag
  noise. Sources: Cleveland et al., "STL" (1990) for the decomposition; Sen
  (1968) for the slope; Leys et al. (2013) for MAD-based outlier scores;
  Elementary's dbt anomaly tests for the training-period and day-of-week ideas.

  Counts of random arrivals (views, subscribers: ``monitoring.series.COUNTS``)
  are also held to their counting noise (``counts``), so a low-count series
  needs a change larger than counting can make before it is anomalous:
  after 60 days of zero views the floored spread alone scores 1 view z 13.9
  and 3 views z 27.7, yet one view a day is nothing. The value's tail
  probability under a Poisson count at the expected level (a Skellam
  difference of two Poisson counts for a signed net count such as
  subscribers gained minus lost), with the expected count floored at
  ``min_expected_count`` a day (a series of zeros cannot tell a rate of 0.05
  from one of 1, so it is given the noisier), becomes a normal score
  (:func:`count_zscore`); the reported z is the smaller of the two in
  magnitude, and the expected range widens to the counts the threshold's tail
  allows. After zeros that range tops at 11 views a day at the default
  threshold 6: 1 or 3 views are noise, 12 a flag, 25 high. On a busy series
  counting noise is a few percent and the seasonal spread decides alone.
  Source: the c chart for counts of events with exact Poisson probability
  limits in place of the normal ones at low counts (Montgomery, "Introduction
  to Statistical Quality Control", ch. 7, control charts for nonconformities);
  Skellam (1946) for the difference of two Poisson counts.

:func:`jump_check` and :func:`trend_reversal` are the reference design's
pattern checks (a change over 5x the mean absolute change; opposite trends in
the two halves of the window), applied to the newest value.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class DetectorConfig:
    """Parameters of the detector; defaults are those the bench measured (bench/README.md).

    ``threshold`` is in units of the residual spread: the reference's 3 is
    kept for the plain z-score; the seasonal detector's default comes from the
    precision/recall bench. ``severity`` is high beyond ``1.5 x threshold``.
    ``min_expected_count`` (events a day) floors the rate the counting-noise
    test of a count series assumes (:func:`count_zscore`).
    """

    threshold: float = 6.0
    window: int = 100
    min_samples: int = 30
    training_days: int = 100
    seasonality: bool = True
    robust: bool = False
    min_scale: float = 0.05
    min_expected_count: float = 1.0


REFERENCE = DetectorConfig(threshold=3.0, seasonality=False, robust=False)


@dataclass(frozen=True)
class Verdict:
    """Score of one value: z (signed), expected value and range in the metric's units."""

    z: float
    expected: float
    low: float
    high: float
    is_anomaly: bool
    severity: str | None
    method: str

    @property
    def direction(self) -> str:
        return "up" if self.z > 0 else "down"


def _severity(z: float, threshold: float) -> str | None:
    if abs(z) <= threshold:
        return None
    return "high" if abs(z) > 1.5 * threshold else "medium"


def plain_zscore(
    history: np.ndarray, value: float, config: DetectorConfig = REFERENCE
) -> Verdict | None:
    """The reference design's z-score: mean and population std of the last ``window`` values.

    ``None`` below ``min_samples`` values. A constant history flags any other value.
    """
    values = np.asarray(history, dtype=float)[-config.window :]
    if len(values) < config.min_samples:
        return None
    mean, std = float(values.mean()), float(values.std())
    if std == 0:
        z = 0.0 if value == mean else math.copysign(math.inf, value - mean)
    else:
        z = (value - mean) / std
    band = 2 * std  # the reference's "expected range": mean +- 2 std
    severity = _severity(z, config.threshold)
    return Verdict(
        z, mean, mean - band, mean + band, severity is not None, severity, "plain_zscore"
    )


def seasonal_index(values: np.ndarray, weekdays: np.ndarray) -> np.ndarray:
    """Seven additive weekday effects (Monday=0), centred on 0; zeros under two weeks."""
    index = np.zeros(7)
    if len(values) < 14:
        return index
    medians = np.median(sliding_window_view(values, 7), axis=1)  # centred at i + 3
    residuals = values[3 : 3 + len(medians)] - medians
    days = weekdays[3 : 3 + len(medians)]
    for day in range(7):
        chosen = residuals[days == day]
        if len(chosen):
            index[day] = float(np.median(chosen))
    return index - float(np.median(index))


def _forward(values: np.ndarray, scale: str) -> np.ndarray:
    if scale == "log":
        return np.log1p(np.maximum(values, 0.0))
    if scale == "sqrt":
        return np.sign(values) * np.sqrt(np.abs(values))
    return values


def _inverse(value: float, scale: str) -> float:
    if scale == "log":
        return float(np.expm1(value))
    if scale == "sqrt":
        return float(np.sign(value) * value * value)
    return value


COUNT_NOISES = ("poisson", "skellam")


def _count_distribution(expected: float, counts: str, min_expected_count: float) -> Any:
    if counts == "poisson":
        return stats.poisson(max(expected, min_expected_count))
    if counts == "skellam":
        return stats.skellam(
            max(expected, 0.0) + min_expected_count, max(-expected, 0.0) + min_expected_count
        )
    raise ValueError(f"counts must be one of {', '.join(COUNT_NOISES)}, not {counts!r}")


def count_zscore(
    value: float, expected: float, *, upward: bool, counts: str, min_expected_count: float = 1.0
) -> float:
    """The normal score (>= 0) of ``value``'s tail probability under counting noise alone.

    ``counts`` is ``"poisson"`` (a non-negative count, rate ``max(expected,
    min_expected_count)`` a day) or ``"skellam"`` (a signed net count: gains
    at ``max(expected, 0) + min_expected_count``, losses at ``max(-expected, 0)
    + min_expected_count``). ``upward`` picks the tail: P(X >= value) or
    P(X <= value). ``z = Phi^-1(1 - p)``, clipped at 0; ``inf`` when the tail
    underflows (counting cannot explain the value at all). Raises
    ``ValueError`` for another ``counts``.
    """
    distribution = _count_distribution(expected, counts, min_expected_count)
    if upward:
        log_tail = float(distribution.logsf(math.ceil(value) - 1))
    else:
        log_tail = float(distribution.logcdf(math.floor(value)))
    return max(0.0, float(stats.norm.isf(math.exp(log_tail))))


def count_range(
    expected: float, *, counts: str, threshold: float, min_expected_count: float = 1.0
) -> tuple[float, float]:
    """The counts counting noise alone allows at ``threshold``: (lowest, highest), integers.

    The lowest ``k`` with P(X <= k) >= tail and the lowest with P(X > k) <=
    tail, where tail is the normal tail beyond ``threshold``: scipy's ``ppf``
    and ``isf``, found by integer bisection on ``cdf``/``sf`` (the generic
    discrete ``ppf`` scipy uses for the Skellam distribution fails to converge
    for some rates). Distributions as in :func:`count_zscore`.
    """
    distribution = _count_distribution(expected, counts, min_expected_count)
    tail = float(stats.norm.sf(threshold))
    centre = math.floor(float(distribution.mean()))
    step = max(1, math.ceil(float(distribution.std())))

    def lowest(holds: Callable[[int], bool]) -> int:
        """The lowest integer where the monotone ``holds`` turns true."""
        below, above, width = centre, centre, step
        while holds(below):
            below, width = below - width, width * 2
        while not holds(above):
            above, width = above + width, width * 2
        while above - below > 1:
            middle = (below + above) // 2
            below, above = (below, middle) if holds(middle) else (middle, above)
        return above

    return (
        float(lowest(lambda k: float(distribution.cdf(k)) >= tail)),
        float(lowest(lambda k: float(distribution.sf(k)) <= tail)),
    )


def seasonal_zscore(
    history: np.ndarray,
    weekdays: np.ndarray,
    value: float,
    weekday: int,
    *,
    scale: str,
    counts: str | None = None,
    config: DetectorConfig = DetectorConfig(),
) -> Verdict | None:
    """Score ``value`` (on ``weekday``) against its series' recent history.

    ``history`` and ``weekdays`` are aligned arrays, oldest first, of the days
    before the value's (gaps allowed); ``scale`` is ``"log"``, ``"sqrt"`` or
    ``"linear"``; ``counts`` (``"poisson"``, ``"skellam"`` or ``None``) holds a
    count series to its counting noise as well (module docstring). ``None``
    below ``min_samples`` values.
    """
    values = _forward(np.asarray(history, dtype=float)[-config.window :], scale)
    days = np.asarray(weekdays, dtype=int)[-config.window :]
    if len(values) < config.min_samples:
        return None
    index = seasonal_index(values, days) if config.seasonality else np.zeros(7)
    deseasoned = values - index[days]
    train = deseasoned[-config.training_days :]
    x = np.arange(len(train), dtype=float)
    if config.robust:
        slope, intercept, _, _ = stats.theilslopes(train, x)
    else:
        slope, intercept = np.polyfit(x, train, 1)
    residuals = train - (intercept + slope * x)
    if config.robust:
        spread = float(stats.median_abs_deviation(residuals, scale="normal"))
    else:
        spread = float(np.std(residuals, ddof=1))
    floor = (
        config.min_scale
        if scale != "linear"
        else config.min_scale * max(float(np.median(np.abs(train))), 1.0)
    )
    spread = max(spread, floor)
    expected = float(intercept + slope * len(train) + index[weekday])
    z = (float(_forward(np.array([value], dtype=float), scale)[0]) - expected) / spread
    band = config.threshold * spread
    expected_value = _inverse(expected, scale)
    low, high = _inverse(expected - band, scale), _inverse(expected + band, scale)
    if counts is not None:
        counted = count_zscore(
            value,
            expected_value,
            upward=z > 0,
            counts=counts,
            min_expected_count=config.min_expected_count,
        )
        z = math.copysign(min(abs(z), counted), z)
        count_low, count_high = count_range(
            expected_value,
            counts=counts,
            threshold=config.threshold,
            min_expected_count=config.min_expected_count,
        )
        low, high = min(low, count_low), max(high, count_high)
    severity = _severity(z, config.threshold)
    method = ("robust_" if config.robust else "") + (
        "seasonal_zscore" if config.seasonality else "zscore"
    )
    return Verdict(z, expected_value, low, high, severity is not None, severity, method)


def jump_check(history: np.ndarray, value: float, factor: float = 5.0) -> bool:
    """Reference pattern check: the newest change exceeds ``factor`` x the mean absolute change.

    Needs at least 10 history values; False otherwise or when the series never moved.
    """
    values = np.asarray(history, dtype=float)
    if len(values) < 10:
        return False
    mean_change = float(np.mean(np.abs(np.diff(values))))
    return bool(mean_change > 0 and abs(value - values[-1]) > factor * mean_change)


def trend_reversal(values: np.ndarray) -> bool:
    """Reference pattern check: the two halves' linear trends have opposite signs and differ
    by more than the mean absolute change. Needs at least 10 values.
    """
    series = np.asarray(values, dtype=float)
    if len(series) < 10:
        return False
    half = len(series) // 2
    first, second = series[:half], series[half:]
    slope_first = np.polyfit(np.arange(len(first)), first, 1)[0]
    slope_second = np.polyfit(np.arange(len(second)), second, 1)[0]
    mean_change = float(np.mean(np.abs(np.diff(series))))
    return bool(
        np.sign(slope_first) != np.sign(slope_second)
        and abs(slope_first - slope_second) > mean_change
    )
