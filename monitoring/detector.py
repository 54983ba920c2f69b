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

:func:`jump_check` and :func:`trend_reversal` are the reference design's
pattern checks (a change over 5x the mean absolute change; opposite trends in
the two halves of the window), applied to the newest value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True)
class DetectorConfig:
    """Parameters of the detector; defaults are those the bench measured (bench/README.md).

    ``threshold`` is in units of the residual spread: the reference's 3 is
    kept for the plain z-score; the seasonal detector's default comes from the
    precision/recall bench. ``severity`` is high beyond ``threshold + 1``.
    """

    threshold: float = 6.0
    window: int = 100
    min_samples: int = 30
    training_days: int = 100
    seasonality: bool = True
    robust: bool = False
    min_scale: float = 0.05


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


def seasonal_zscore(
    history: np.ndarray,
    weekdays: np.ndarray,
    value: float,
    weekday: int,
    *,
    scale: str,
    config: DetectorConfig = DetectorConfig(),
) -> Verdict | None:
    """Score ``value`` (on ``weekday``) against its series' recent history.

    ``history`` and ``weekdays`` are aligned arrays, oldest first, of the days
    before the value's (gaps allowed). ``None`` below ``min_samples`` values.
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
    severity = _severity(z, config.threshold)
    method = ("robust_" if config.robust else "") + (
        "seasonal_zscore" if config.seasonality else "zscore"
    )
    return Verdict(
        z,
        _inverse(expected, scale),
        _inverse(expected - band, scale),
        _inverse(expected + band, scale),
        severity is not None,
        severity,
        method,
    )


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
