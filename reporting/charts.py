"""The report's charts, drawn with matplotlib (Agg, no display) as PNG data URIs.

Each function takes model objects and returns ``data:image/png;base64,...``,
which the page embeds directly, so it opens with no network and no files
beside it; None when there is nothing to draw. Pure apart from matplotlib.

User text (channel titles, niche names) is data here, never markup: every
figure is drawn with ``text.parse_math`` off, so ``$`` pairs, ``^`` and ``\frac``
are characters, not mathtext (matplotlib's own switch, for every title, tick
label, legend and note at once); each such text passes through :func:`label`,
which makes it one line, shortens it with an ellipsis and drops the characters
no chart font can draw. The fonts are DejaVu Sans, then Symbola (Debian's
``fonts-symbola``: monochrome emoji; matplotlib cannot draw the bitmap
``Noto Color Emoji``); a chart that dropped characters says which in a note.
"""

from __future__ import annotations

import base64
import io
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before pyplot: no display, no GUI toolkit

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.ft2font import FT2Font
from matplotlib.ticker import FuncFormatter

from reporting.model import (
    Anomaly,
    ChannelGrowth,
    ChannelSeries,
    DayPoint,
    NewVideos,
    QualityScore,
)

log = logging.getLogger(__name__)

ANOMALY_COLOR = "#d62728"
COMPONENT_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c")
GOOD, BAD = "#2ca02c", "#d62728"
# quality thresholds of the monitor's alerts (issue 18): below 85 medium, below 70 high
QUALITY_MEDIUM, QUALITY_HIGH = 85, 70
DPI = 100
# The chart fonts, in fallback order: text, then emoji and symbols (fonts-symbola).
FONTS = ("DejaVu Sans", "Symbola")
MAX_TITLE_CHARS = 60  # a chart title's user text, at 9 inches and 12 pt
MAX_TICK_CHARS = 36  # a bar's label: the plot keeps most of the width
ELLIPSIS = "…"
# UAX #9 isolates around user text set beside other text: a right-to-left title keeps
# "(UC…)" on its right (matplotlib lays text out with the Unicode bidi algorithm).
FSI, PDI = "\u2068", "\u2069"


@dataclass(frozen=True)
class Label:
    """User text made fit for a chart: ``text`` to draw, ``dropped`` the characters no font has."""

    text: str
    dropped: tuple[str, ...] = ()


@cache
def _drawable() -> frozenset[int]:
    """The code points some chart font has a glyph for (fonts found by matplotlib's own lookup).

    A font installed after matplotlib's font cache was written is not in that
    cache; the system's fonts are added first, so a fresh ``fonts-symbola`` counts.
    """
    known = {f.fname for f in font_manager.fontManager.ttflist}
    for path in font_manager.findSystemFonts():
        if path not in known:
            # a bitmap-only font (Noto Color Emoji) is refused: matplotlib cannot scale it
            with suppress(NotImplementedError, RuntimeError, OSError, ValueError):
                font_manager.fontManager.addfont(path)
    points: set[int] = set()
    for family in FONTS:
        try:
            path = font_manager.fontManager.findfont(
                font_manager.FontProperties(family=family), fallback_to_default=False
            )
        except ValueError:  # not installed: its characters are dropped and named
            log.warning("chart font %r is not installed (scripts/setup.sh installs it)", family)
            continue
        points.update(FT2Font(path).get_charmap())
    return frozenset(points)


def label(value: str, limit: int = MAX_TITLE_CHARS) -> Label:
    """``value`` as one line of at most ``limit`` characters (``…`` ends a cut), drawable.

    Control characters become spaces; format characters (zero-width joiners,
    direction marks, variation selectors) are left out silently, since they
    draw nothing; any other character no chart font has is left out and listed
    in ``dropped``, for the chart to say so.
    """
    drawable = _drawable()
    kept: list[str] = []
    dropped: list[str] = []
    for char in value:
        category = unicodedata.category(char)
        if category == "Cc":
            kept.append(" ")
        elif category in ("Cf", "Mn") and ord(char) not in drawable:
            continue
        elif ord(char) in drawable or char == " ":
            kept.append(char)
        elif char not in dropped:
            dropped.append(char)
    text = "".join(kept).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + ELLIPSIS
    return Label(text, tuple(dropped))


def _note_dropped(fig: Any, labels: Iterable[Label]) -> None:
    """Say on the chart which characters of its user text no font could draw."""
    dropped = list(dict.fromkeys(c for fitted in labels for c in fitted.dropped))
    if dropped:
        names = ", ".join(f"U+{ord(c):04X}" for c in dropped[:8])
        more = f" and {len(dropped) - 8} more" if len(dropped) > 8 else ""
        fig.text(
            0.01,
            0.005,
            f"not drawn (no font has them): {names}{more}",
            fontsize=7,
            color="#7c4a03",
            va="bottom",
        )


@contextmanager
def _figure(width: float, height: float, rows: int = 1) -> Iterator[tuple[Any, Any]]:
    _drawable()  # registers fonts installed after matplotlib's font cache was written
    with plt.rc_context({"text.parse_math": False, "font.family": list(FONTS)}):
        fig, axes = plt.subplots(rows, 1, figsize=(width, height), sharex=rows > 1, squeeze=False)
        try:
            yield fig, axes[:, 0]
        finally:
            plt.close(fig)


def _data_uri(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.tight_layout(rect=(0, 0.03, 1, 1) if len(fig.texts) else None)
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
        for ax, (name, values) in zip(axes, panels, strict=True):
            ax.plot(dates, values, marker="o", markersize=3, linewidth=1.5)
            by_date = dict(zip(dates, values, strict=True))
            _mark_anomalies(ax, flagged, by_date)
            ax.axvline(day, color="#999999", linestyle=":", linewidth=1)
            ax.set_ylabel(name)
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
        for (name, values), color in zip(parts, COMPONENT_COLORS, strict=True):
            ax.bar(dates, values, bottom=bottom, label=name, color=color, width=0.8)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_title("Revenue estimate by component (USD)")
        ax.yaxis.set_major_formatter(FuncFormatter(_human))
        ax.legend(fontsize=8, loc="upper left")
        ax.grid(axis="y", alpha=0.3)
        _date_axis(ax)
        return _data_uri(fig)


def _barh(title: str, labels: list[Label], values: list[float], colors: list[str]) -> str:
    """Horizontal bars labelled with user text already through :func:`label`."""
    height = 0.6 + 0.32 * len(labels)
    with _figure(9, max(1.8, height)) as (fig, (ax,)):
        positions = list(range(len(labels)))[::-1]
        ax.barh(positions, values, color=colors)
        ax.set_yticks(positions, [fitted.text for fitted in labels], fontsize=8)
        ax.set_title(title)
        ax.xaxis.set_major_formatter(FuncFormatter(_human))
        ax.grid(axis="x", alpha=0.3)
        _note_dropped(fig, labels)
        return _data_uri(fig)


def revenue_by_niche(rows: list[tuple[str, float]]) -> str | None:
    """Revenue estimate per niche over the window (USD)."""
    if not rows:
        return None
    return _barh(
        "Revenue estimate by niche, last 28 days (USD)",
        [label(niche, MAX_TICK_CHARS) for niche, _ in rows],
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
        [_channel_label(g.title, g.channel_id) for g in rows],
        [g.growth_pct or 0.0 for g in rows],
        [GOOD] * len(top) + [BAD] * len(bottom),
    )


def _channel_label(title: str, channel_id: str) -> Label:
    """``<title> (UCxxxxxx…)``: the title shortened so the id always shows."""
    fitted = label(title, MAX_TICK_CHARS - 12)
    shown = f"{FSI}{fitted.text}{PDI}" if fitted.text else channel_id
    return Label(f"{shown} ({channel_id[:8]}{ELLIPSIS})", fitted.dropped)


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
    labels = [label(s.dimension, MAX_TICK_CHARS) for s in scores]
    with _figure(9, 0.6 + 0.4 * len(scores)) as (fig, (ax,)):
        positions = list(range(len(scores)))[::-1]
        ax.barh(positions, [s.score for s in scores], color=colors)
        ax.set_yticks(positions, [fitted.text for fitted in labels])
        _note_dropped(fig, labels)
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
        title = label(series.title)
        shown = f"{FSI}{title.text}{PDI}" if title.text else series.channel_id
        ax.set_title(f"{shown} ({series.channel_id})")
        _note_dropped(fig, [title])
        _date_axis(ax)
        handles = [*ax.get_legend_handles_labels()[0], *twin.get_legend_handles_labels()[0]]
        ax.legend(handles=handles, fontsize=8, loc="upper left")
        return _data_uri(fig)
