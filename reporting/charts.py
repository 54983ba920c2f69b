"""The report's charts, drawn with matplotlib (Agg, no display) as PNG data URIs.

Each function takes model objects and returns ``data:image/png;base64,...``,
which the page embeds directly, so it opens with no network and no files
beside it; None when there is nothing to draw. Pure apart from matplotlib.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter

from reporting.model import (
    Anomaly,
    ChannelGrowth,
    ChannelSeries,
    DayPoint,
    NewVideos,
    QualityScore,
)

ANOMALY_COLOR = "#d62728"
COMPONENT_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c")
GOOD, BAD = "#2ca02c", "#d62728"
# quality thresholds of the monitor's alerts (issue 18): below 85 medium, below 70 high
QUALITY_MEDIUM, QUALITY_HIGH = 85, 70
DPI = 100


@contextmanager
def _figure(width: float, height: float, rows: int = 1) -> Iterator[tuple[Any, Any]]:
    fig, axes = plt.subplots(rows, 1, figsize=(width, height), sharex=rows > 1, squeeze=False)
    try:
        yield fig, axes[:, 0]
    finally:
        plt.close(fig)


def _data_uri(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _human(value: float, _pos: object = None) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.1f}{suffix}"
    return f"{value:.0f}"


def _date_axis(ax: Any) -> None:
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d"))


def _mark_anomalies(ax: Any, days: list[date], value_on: dict[date, Any]) -> None:
    """Ring each anomaly day's point in red (legend entry "anomaly found")."""
    if days:
        ax.scatter(
            days,
            [value_on[d] for d in days],
            s=75,
            facecolors="none",
            edgecolors=ANOMALY_COLOR,
            linewidths=2,
            zorder=3,
            label="anomaly found",
        )


def network_series(series: list[DayPoint], anomalies: list[Anomaly], day: date) -> str | None:
    """Daily views, subscribers gained and revenue; days with an anomaly marked in red."""
    if not series:
        return None
    dates = [p.metric_date for p in series]
    flagged = sorted({a.observed_on for a in anomalies if a.observed_on in set(dates)})
    panels: tuple[tuple[str, list[float]], ...] = (
        ("views", [p.views for p in series]),
        ("subscribers gained", [p.subscribers_gained for p in series]),
        ("revenue estimate (USD)", [p.revenue_usd for p in series]),
    )
    with _figure(9, 6.5, rows=3) as (fig, axes):
        for ax, (label, values) in zip(axes, panels, strict=True):
            ax.plot(dates, values, marker="o", markersize=3, linewidth=1.5)
            by_date = dict(zip(dates, values, strict=True))
            _mark_anomalies(ax, flagged, by_date)
            ax.axvline(day, color="#999999", linestyle=":", linewidth=1)
            ax.set_ylabel(label)
            ax.yaxis.set_major_formatter(FuncFormatter(_human))
            ax.grid(alpha=0.3)
        if flagged:
            axes[0].legend(loc="upper left", fontsize=8)
        axes[0].set_title("Network, daily (last 28 days)")
        _date_axis(axes[-1])
        return _data_uri(fig)


def revenue_by_component(series: list[DayPoint]) -> str | None:
    """Stacked daily revenue: ad, affiliate and sponsorship estimates (USD)."""
    if not series:
        return None
    dates = [p.metric_date for p in series]
    parts = (
        ("ad", [p.ad_revenue_usd for p in series]),
        ("affiliate", [p.affiliate_revenue_usd for p in series]),
        ("sponsorship", [p.sponsorship_revenue_usd for p in series]),
    )
    with _figure(9, 3.2) as (fig, (ax,)):
        bottom = [0.0] * len(dates)
        for (label, values), color in zip(parts, COMPONENT_COLORS, strict=True):
            ax.bar(dates, values, bottom=bottom, label=label, color=color, width=0.8)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_title("Revenue estimate by component (USD)")
        ax.yaxis.set_major_formatter(FuncFormatter(_human))
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(axis="y", alpha=0.3)
        _date_axis(ax)
        return _data_uri(fig)


def _barh(title: str, labels: list[str], values: list[float], colors: list[str]) -> str:
    height = 0.6 + 0.32 * len(labels)
    with _figure(9, max(1.8, height)) as (fig, (ax,)):
        positions = list(range(len(labels)))[::-1]
        ax.barh(positions, values, color=colors)
        ax.set_yticks(positions, labels, fontsize=8)
        ax.set_title(title)
        ax.xaxis.set_major_formatter(FuncFormatter(_human))
        ax.grid(axis="x", alpha=0.3)
        return _data_uri(fig)


def revenue_by_niche(rows: list[tuple[str, float]]) -> str | None:
    """Revenue estimate per niche over the window (USD)."""
    if not rows:
        return None
    return _barh(
        "Revenue estimate by niche, last 28 days (USD)",
        [niche for niche, _ in rows],
        [revenue for _, revenue in rows],
        [COMPONENT_COLORS[0]] * len(rows),
    )


def channel_growth(top: list[ChannelGrowth], bottom: list[ChannelGrowth]) -> str | None:
    """Subscriber growth (%) over the window of the fastest and slowest growing channels."""
    rows = [*top, *bottom]
    if not rows:
        return None
    return _barh(
        "Subscriber growth over 28 days (%): top and bottom channels",
        [f"{g.title or g.channel_id} ({g.channel_id[:8]}…)" for g in rows],
        [g.growth_pct or 0.0 for g in rows],
        [GOOD] * len(top) + [BAD] * len(bottom),
    )


def new_videos(rows: list[NewVideos]) -> str | None:
    """Videos published per day (bars) and their first-day views (line)."""
    if not rows:
        return None
    dates = [r.published_date for r in rows]
    with _figure(9, 3.2) as (fig, (ax,)):
        ax.bar(dates, [r.videos for r in rows], color="#9ecae1", label="new videos")
        ax.set_ylabel("new videos")
        twin = ax.twinx()
        twin.plot(
            dates,
            [r.first_day_views for r in rows],
            color="#08519c",
            marker="o",
            markersize=3,
            label="first-day views",
        )
        twin.set_ylabel("first-day views")
        twin.yaxis.set_major_formatter(FuncFormatter(_human))
        ax.set_title("New videos and their first-day views")
        _date_axis(ax)
        handles = [*ax.get_legend_handles_labels()[0], *twin.get_legend_handles_labels()[0]]
        ax.legend(handles=handles, fontsize=8, loc="upper left")
        return _data_uri(fig)


def quality(scores: list[QualityScore]) -> str | None:
    """Quality score per dimension (0-100) against the alert thresholds."""
    if not scores:
        return None
    colors = [
        BAD if s.score < QUALITY_HIGH else "#ff7f0e" if s.score < QUALITY_MEDIUM else GOOD
        for s in scores
    ]
    with _figure(9, 0.6 + 0.4 * len(scores)) as (fig, (ax,)):
        positions = list(range(len(scores)))[::-1]
        ax.barh(positions, [s.score for s in scores], color=colors)
        ax.set_yticks(positions, [s.dimension for s in scores])
        for threshold in (QUALITY_MEDIUM, QUALITY_HIGH):
            ax.axvline(threshold, color="#777777", linestyle="--", linewidth=1)
        ax.set_xlim(0, 100)
        ax.set_title("Data quality score by dimension (alerts below 85 and 70)")
        return _data_uri(fig)


def channel(series: ChannelSeries) -> str | None:
    """One channel's daily views (line) and revenue (bars), anomaly days marked."""
    if not series.points:
        return None
    dates = [d for d, _, _ in series.points]
    views = dict((d, v) for d, v, _ in series.points)
    with _figure(9, 2.8) as (fig, (ax,)):
        ax.bar(dates, [r for _, _, r in series.points], color="#c7e9c0", label="revenue (USD)")
        ax.set_ylabel("revenue (USD)")
        twin = ax.twinx()
        twin.plot(dates, [views[d] for d in dates], marker="o", markersize=3, label="views")
        _mark_anomalies(twin, [d for d in series.anomaly_dates if d in views], views)
        twin.set_ylabel("views")
        twin.yaxis.set_major_formatter(FuncFormatter(_human))
        ax.set_title(f"{series.title or series.channel_id} ({series.channel_id})")
        _date_axis(ax)
        handles = [*ax.get_legend_handles_labels()[0], *twin.get_legend_handles_labels()[0]]
        ax.legend(handles=handles, fontsize=8, loc="upper left")
        return _data_uri(fig)
