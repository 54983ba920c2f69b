"""The detector's scoring on series whose answer is known (pure, no services)."""

from __future__ import annotations

import math
from datetime import date, timedelta

import numpy as np
import pytest

from monitoring.anomalies import score_series
from monitoring.detector import (
    DetectorConfig,
    count_range,
    jump_check,
    plain_zscore,
    seasonal_zscore,
    trend_reversal,
)

START = date(2025, 1, 6)  # a Monday


def _weekly(days: int, weekend_lift: float = 0.6, noise: float = 0.03) -> np.ndarray:
    """Views with a strong weekend peak and small noise (deterministic)."""
    rng = np.random.default_rng(7)
    weekdays = (np.arange(days) + START.weekday()) % 7
    lift = np.where(weekdays >= 5, 1 + weekend_lift, 1.0)
    return 1000 * lift * np.exp(rng.normal(0, noise, days))


def _weekdays(days: int) -> np.ndarray:
    return (np.arange(days) + START.weekday()) % 7


def test_weekend_peak_is_seasonality_not_an_anomaly():
    values = _weekly(70)
    saturday = next(d for d in range(63, 70) if (START + timedelta(d)).weekday() == 5)
    verdict = seasonal_zscore(
        values[:saturday], _weekdays(saturday), values[saturday], 5, scale="log"
    )
    assert verdict is not None
    assert not verdict.is_anomaly
    assert verdict.low < values[saturday] < verdict.high
    assert abs(verdict.z) < 2


def test_a_fivefold_spike_is_flagged_high_with_its_expected_range():
    values = _weekly(70)
    verdict = seasonal_zscore(
        values[:69], _weekdays(69), values[69] * 5, int(_weekdays(70)[69]), scale="log"
    )
    assert verdict is not None
    assert verdict.is_anomaly
    assert (verdict.direction, verdict.severity) == ("up", "high")
    assert verdict.high < values[69] * 5
    assert verdict.low < values[69] < verdict.high


def test_a_collapse_is_flagged_down():
    values = _weekly(70)
    verdict = seasonal_zscore(
        values[:69], _weekdays(69), values[69] * 0.2, int(_weekdays(70)[69]), scale="log"
    )
    assert verdict is not None
    assert (verdict.is_anomaly, verdict.direction) == (True, "down")


def test_steady_growth_is_expected_not_an_anomaly():
    days = 80
    values = 1000 * np.exp(0.02 * np.arange(days))  # +2 % a day, no noise at all
    ours = seasonal_zscore(
        values[:-1], _weekdays(days - 1), values[-1], int(_weekdays(days)[-1]), scale="log"
    )
    assert ours is not None
    assert not ours.is_anomaly
    assert ours.expected == pytest.approx(values[-1], rel=0.01)


def test_too_short_a_history_gives_no_verdict():
    values = _weekly(40)
    config = DetectorConfig()
    short = config.min_samples - 1
    assert seasonal_zscore(values[:short], _weekdays(short), 1.0, 0, scale="log") is None
    assert plain_zscore(values[:short], 1.0) is None


@pytest.mark.parametrize("robust", [True, False])
def test_robust_and_plain_spreads_both_flag_a_purge_on_the_signed_sqrt_scale(robust):
    rng = np.random.default_rng(3)
    gained = rng.poisson(40, 60).astype(float)
    config = DetectorConfig(robust=robust)
    verdict = seasonal_zscore(gained, _weekdays(60), -900.0, 0, scale="sqrt", config=config)
    assert verdict is not None
    assert (verdict.is_anomaly, verdict.direction) == (True, "down")
    assert verdict.method == ("robust_seasonal_zscore" if robust else "seasonal_zscore")


def test_reference_pattern_checks():
    calm = np.array([10.0, 11, 10, 12, 11, 10, 11, 12, 10, 11])
    assert jump_check(calm, 40.0)
    assert not jump_check(calm, 12.0)
    assert not jump_check(calm[:5], 40.0)  # fewer than 10 values: no verdict
    assert trend_reversal(np.array([1.0, 2, 3, 4, 5, 6, 5, 4, 3, 2, 1, 0]))
    assert not trend_reversal(np.arange(12, dtype=float))


# --- low counts (issue 27: 1 view after 60 days of zero scored z 13.9, high) ---------------

QUIET_DAYS = 60


def _after_a_quiet_spell(value: float) -> list[tuple[date, float]]:
    """60 days of zero, then ``value``: the points ``score_series`` reads, oldest first."""
    return [(START + timedelta(d), 0.0) for d in range(QUIET_DAYS)] + [
        (START + timedelta(QUIET_DAYS), value)
    ]


@pytest.mark.parametrize(
    ("metric", "value"),
    [
        ("views_daily", 1.0),
        ("views_daily", 3.0),
        ("subscribers_daily", 1.0),
        ("subscribers_daily", 3.0),
        ("subscribers_daily", -3.0),
    ],
)
def test_a_few_counts_after_a_quiet_spell_are_counting_noise(metric: str, value: float):
    verdict, _ = score_series(metric, _after_a_quiet_spell(value), DetectorConfig())
    assert verdict is not None
    assert (verdict.is_anomaly, verdict.severity) == (False, None), verdict
    assert verdict.low <= value <= verdict.high


@pytest.mark.parametrize(
    ("metric", "value", "direction"),
    [
        ("views_daily", 500.0, "up"),
        ("subscribers_daily", 200.0, "up"),
        ("subscribers_daily", -200.0, "down"),
    ],
)
def test_a_real_jump_after_a_quiet_spell_is_still_high(metric: str, value: float, direction: str):
    verdict, _ = score_series(metric, _after_a_quiet_spell(value), DetectorConfig())
    assert verdict is not None
    assert (verdict.is_anomaly, verdict.severity, verdict.direction) == (True, "high", direction)
    assert verdict.high < abs(value)


def test_the_counting_floor_is_the_smallest_change_a_quiet_series_can_flag():
    """After zeros the expected range's top is the Poisson count at the threshold's tail."""
    config = DetectorConfig()
    top = score_series("views_daily", _after_a_quiet_spell(0.0), config)[0]
    assert top is not None
    first_flagged = math.floor(top.high) + 1
    below = score_series("views_daily", _after_a_quiet_spell(first_flagged - 1), config)[0]
    above = score_series("views_daily", _after_a_quiet_spell(first_flagged), config)[0]
    assert below is not None
    assert above is not None
    assert (below.is_anomaly, above.is_anomaly) == (False, True)
    assert 5 < first_flagged < 30  # a handful of views is noise, a few dozen is not


@pytest.mark.parametrize("metric", ["rows_landed", "source_rows_landed", "quota_units_used"])
def test_a_half_landing_of_a_few_rows_still_flags(metric: str):
    """The pipeline's own counts are not drawn at random: 20 rows a day, then 10, is real."""
    points = [(START + timedelta(d), 20.0) for d in range(QUIET_DAYS)]
    verdict, _ = score_series(
        metric, [*points, (START + timedelta(QUIET_DAYS), 10.0)], DetectorConfig()
    )
    assert verdict is not None
    assert (verdict.is_anomaly, verdict.direction) == (True, "down")


def test_counting_noise_does_not_soften_a_busy_series():
    """At a thousand views a day Poisson noise is ~3 %: the seasonal spread decides alone."""
    values = _weekly(70)
    day = int(_weekdays(70)[69])
    plain = seasonal_zscore(values[:69], _weekdays(69), values[69] * 5, day, scale="log")
    counted = seasonal_zscore(
        values[:69], _weekdays(69), values[69] * 5, day, scale="log", counts="poisson"
    )
    assert plain == counted


@pytest.mark.parametrize("counts", ["poisson", "skellam"])
def test_the_counting_range_is_scipys_quantiles_at_every_level(counts: str):
    """Bisection on cdf/sf: scipy's own Skellam ppf stopped the bench ("endless loop")."""
    from scipy import stats

    tail = float(stats.norm.sf(6.0))
    for expected in [-3000.0, -41.7, -1.0, 0.0, 0.4, 1.0, 3.3, 17.0, 250.5, 4000.0, 1e5]:
        low, high = count_range(expected, counts=counts, threshold=6.0)
        if counts == "poisson":
            noise = stats.poisson(max(expected, 1.0))
        else:
            noise = stats.skellam(max(expected, 0.0) + 1.0, max(-expected, 0.0) + 1.0)
        assert noise.cdf(low) >= tail > noise.cdf(low - 1), (expected, low)
        assert noise.sf(high) <= tail < noise.sf(high - 1), (expected, high)
