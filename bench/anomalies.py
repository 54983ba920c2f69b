"""Precision and recall of the anomaly detector on labelled simulated anomalies.

    uv run --frozen python bench/anomalies.py [--channels 250] [--days 120]
    uv run --frozen python bench/anomalies.py --smoke   # 10 channels x 75 days, one threshold

The simulator (:mod:`simulation.anomalies`) builds every channel's
daily series with weekly seasonality, growth and heavy-tailed noise, and
injects one labelled anomaly per channel (five kinds in turn). Each detector
scores every (channel, metric, day) once it has ``min_samples`` days of history,
exactly as ``ytempire quality anomalies`` scores a day:

- ``reference``: the reference design's plain z-score (window 100, >= 30 samples,
  threshold 3) on the raw values;
- ``seasonal+robust`` (this warehouse's default): day-of-week seasonality,
  Theil-Sen trend, MAD spread, on log1p of counts;
- two ablations: ``seasonal`` (least squares and standard deviation) and
  ``robust`` (no seasonality).

An injected anomaly is found when its series is flagged on one of its days
(recall, per kind). A false alarm is a channel-day with any series flagged
outside every labelled anomaly's days and the 7 days after it (the recovery);
precision is flagged channel-days inside labelled days / (those + false
alarms) -- a false alarm has no kind, so precision is over all kinds. Figures are per kind
(recall) and per 1,000 evaluated channel-days (false alarms); the table is
printed for several thresholds so the default's choice can be checked.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np
from benchlib import Figures, add_smoke_flag

from monitoring.detector import REFERENCE, DetectorConfig, plain_zscore, seasonal_zscore
from monitoring.series import COUNTS, SCALE
from simulation.anomalies import KINDS, METRICS, simulate_series

RECOVERY_DAYS = 7
DETECTORS = {"seasonal": DetectorConfig()}
ABLATIONS = {
    "seasonal+robust": replace(DetectorConfig(), robust=True),
    "robust": replace(DetectorConfig(), seasonality=False, robust=True),
    "no-seasonality": replace(DetectorConfig(), seasonality=False),
}


def _z_scores(network, config, detector: str) -> dict[tuple[str, str], np.ndarray]:
    """|z| per (metric, channel) and day (NaN before min_samples)."""
    weekdays = network.weekdays()
    out = {}
    for (metric, channel), values in network.values.items():
        z = np.full(network.days, np.nan)
        for day in range(config.min_samples, network.days):
            if detector == "reference":
                verdict = plain_zscore(values[:day], values[day], config)
            else:
                verdict = seasonal_zscore(
                    values[:day],
                    weekdays[:day],
                    values[day],
                    int(weekdays[day]),
                    scale=SCALE.get(metric, "linear"),
                    counts=COUNTS.get(metric),
                    config=config,
                )
            if verdict is not None:
                z[day] = abs(verdict.z)
        out[(metric, channel)] = z
    return out


def _evaluate(network, z_scores, threshold: float, first_day: int) -> tuple[dict, int, int, int]:
    """Recall per kind, false-alarm and true-alarm channel-days, evaluated channel-days."""
    labelled = defaultdict(list)
    for label in network.labels:
        labelled[label.channel_id].append(label)
    found: dict[str, list[bool]] = defaultdict(list)
    for label in network.labels:
        z = z_scores[(label.metric, label.channel_id)][label.first_day : label.last_day + 1]
        found[label.kind].append(bool(np.any(z > threshold)))
    false_alarms = true_alarms = 0
    for channel in network.channel_ids:
        excused = np.zeros(network.days, dtype=bool)
        inside = np.zeros(network.days, dtype=bool)
        for label in labelled[channel]:
            excused[label.first_day : label.last_day + 1 + RECOVERY_DAYS] = True
            inside[label.first_day : label.last_day + 1] = True
        flagged = np.zeros(network.days, dtype=bool)
        for metric in METRICS:
            z = z_scores[(metric, channel)]
            flagged |= np.nan_to_num(z, nan=0.0) > threshold
        false_alarms += int(np.sum(flagged[first_day:] & ~excused[first_day:]))
        true_alarms += int(np.sum(flagged[first_day:] & inside[first_day:]))
    evaluated = len(network.channel_ids) * (network.days - first_day)
    recall = {kind: (sum(hits), len(hits)) for kind, hits in found.items()}
    return recall, false_alarms, true_alarms, evaluated


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--channels", type=int, default=250)
    parser.add_argument("--days", type=int, default=120)
    parser.add_argument("--thresholds", default="4,5,6,7")
    parser.add_argument("--ablations", action="store_true", help="also the two ablations")
    add_smoke_flag(parser)
    args = parser.parse_args()
    if args.smoke:
        args.channels, args.days, args.thresholds = 10, 75, str(DetectorConfig().threshold)
    figures = Figures("anomalies", smoke=args.smoke)
    started = time.perf_counter()
    network = simulate_series(args.channels, args.days)
    print(
        f"{args.channels} channels x {args.days} days, {len(network.labels)} injected anomalies "
        f"({', '.join(KINDS)}); evaluated from day {REFERENCE.min_samples}"
    )
    runs = {"reference": (REFERENCE, [REFERENCE.threshold])}
    # the default threshold is always among them: the figures are its
    thresholds = sorted(
        {float(t) for t in args.thresholds.split(",")} | {DetectorConfig().threshold}
    )
    chosen = {**DETECTORS, **(ABLATIONS if args.ablations else {})}
    runs.update({name: (config, thresholds) for name, config in chosen.items()})
    header = f"{'detector':<16} {'thr':>4} " + " ".join(f"{k:>16}" for k in KINDS)
    print(f"\n{header} {'precision':>9} {'false alarms':>13} {'per 1,000 ch-days':>18}")
    reference_fa = None
    summary: dict[str, tuple[float, float, float]] = {}  # recall, precision, per 1,000
    for name, (config, levels) in runs.items():
        z_scores = _z_scores(network, config, name)
        for threshold in levels:
            recall, fa, ta, evaluated = _evaluate(network, z_scores, threshold, config.min_samples)
            cells = " ".join(
                f"{hits / total:>9.3f} ({hits:>2}/{total:<2})"
                for hits, total in (recall[k] for k in KINDS)
            )
            per_k = 1000 * fa / evaluated
            if name == "reference":
                reference_fa = fa
            ratio = f"  ({reference_fa / fa:.1f}x fewer)" if reference_fa and fa else ""
            precision = ta / (ta + fa) if ta + fa else 0.0
            print(
                f"{name:<16} {threshold:>4.1f} {cells} {precision:>9.3f} {fa:>13} "
                f"{per_k:>18.2f}{ratio}"
            )
            if name == "reference" or threshold == config.threshold:
                found = sum(hits for hits, _ in recall.values())
                labelled = sum(total for _, total in recall.values())
                summary[name] = (found / max(labelled, 1), precision, per_k)
    print(f"\n{time.perf_counter() - started:.0f} s")
    ours, ref = summary["seasonal"], summary["reference"]
    default = DetectorConfig().threshold
    figures.add(
        f"recall, this detector (z {default:g})", ours[0], "", "reference z-score", ref[0], digits=3
    )
    figures.add(
        f"precision, this detector (z {default:g})",
        ours[1],
        "",
        "reference z-score",
        ref[1],
        digits=3,
    )
    figures.add(
        f"false alarms per 1,000 ch-days (z {default:g})",
        ours[2],
        "",
        "reference z-score",
        ref[2],
        digits=2,
    )
    figures.print()


if __name__ == "__main__":
    main()
