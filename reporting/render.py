"""Render a :class:`~reporting.model.DailyReport` as one self-contained HTML page and as text.

The page is a Jinja2 template (``templates/daily.html.j2``, autoescaped) with
its CSS inline and every chart a PNG data URI: it opens from a mail
attachment or a file share with no network. The text summary says the same
things in the same order for a terminal, a log or a mail body. Pure: no I/O.

User text (channel titles, niche names, recorded reasons) is data in both: the
page escapes it (autoescape) and isolates its direction in ``<bdi>``, so a
right-to-left title does not reorder the id or the numbers beside it; the text
puts it between Unicode's FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE
(U+2068, U+2069; Unicode Bidirectional Algorithm, UAX #9), the plain-text
``<bdi>``, and turns control characters into spaces so a title is one line.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from reporting import charts
from reporting.charts import FSI, PDI  # UAX #9 isolates: the text form of <bdi>
from reporting.model import DailyReport, StageRow

TEMPLATES = Path(__file__).parent / "templates"


def plain(value: object) -> str:
    """User text as one line: control characters (newline, escape, ...) become spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(value))


def isolate(value: object) -> str:
    """User text for the text summary: :func:`plain`, direction-isolated (FSI ... PDI)."""
    return f"{FSI}{plain(value)}{PDI}"


def channel_anchor(channel_id: str) -> str:
    """The page's anchor of a channel's series section (``#`` + this links to it)."""
    return f"channel-{channel_id}"


def number(value: float | int | None) -> str:
    """Thousands separated; two decimals for a fraction below 100 (a share, a rate)."""
    if value is None:
        return "-"
    if isinstance(value, float) and not value.is_integer() and abs(value) < 100:
        return f"{value:,.2f}"
    return f"{value:,.0f}"


def usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.2f}"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(seconds, 60)
    return f"{int(minutes)}m {secs:04.1f}s" if minutes else f"{secs:.1f}s"


def expected_range(low: float | None, high: float | None) -> str:
    if low is None and high is None:
        return "-"
    return f"{number(low)} to {number(high)}"


def stage_summary(stage: StageRow) -> str:
    """The stage's counts worth a glance (pure), e.g. "channels collected 249, failed 1"."""
    d = stage.details
    keep = [(k, v) for k, v in d.items() if isinstance(v, int | float) and not isinstance(v, bool)]
    return ", ".join(f"{k.replace('_', ' ')} {number(v)}" for k, v in keep)


def headline(report: DailyReport) -> str:
    """One line: did the day's pipeline succeed, and if not, which stages failed."""
    failed = report.failed_stages
    if failed:
        names = ", ".join(s.stage for s in failed)
        return f"PIPELINE FAILED on {report.day}: {names}"
    ran = [s for s in report.stages if s.status != "not run"]
    if not ran:
        return f"NO PIPELINE STAGE RAN on {report.day}"
    running = [s.stage for s in ran if s.status == "running"]
    if running:
        return f"pipeline still running on {report.day}: {', '.join(running)}"
    return f"pipeline succeeded on {report.day} ({len(ran)} stages)"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        number=number,
        usd=usd,
        duration=duration,
        anchor=channel_anchor,
        stage_summary=stage_summary,
        plain=plain,
        signed_pct=signed_pct,
    )
    env.globals.update(expected_range=expected_range)
    return env


def chart_uris(report: DailyReport) -> dict[str, Any]:
    """Every chart of the page as a data URI (None where there is nothing to draw)."""
    return {
        "network": charts.network_series(report.series, report.window_anomalies, report.day),
        "components": charts.revenue_by_component(report.series),
        "niches": charts.revenue_by_niche(report.revenue_by_niche),
        "growth": charts.channel_growth(report.top_growth, report.bottom_growth),
        "new_videos": charts.new_videos(report.new_videos),
        "quality": charts.quality(report.quality),
        "channels": {s.channel_id: charts.channel(s) for s in report.channel_series},
    }


def totals(report: DailyReport) -> dict[str, Any]:
    """The day's and the window's network totals (views, subscribers gained, revenue)."""
    today = report.on_day()
    return {
        "day": today,
        "views_28d": sum(p.views for p in report.series),
        "subscribers_gained_28d": sum(p.subscribers_gained for p in report.series),
        "revenue_28d": sum(p.revenue_usd for p in report.series),
    }


OWNER_STAGES = ("owner_reports", "owner_revenue")


def owner_outcomes(report: DailyReport) -> list[tuple[str, str, dict[str, int]]]:
    """Per owner landing stage of the day: (stage, status, channels per outcome) (pure).

    The outcomes are the landers' per-channel trouble (``auth_revoked``,
    ``not_monetized``, ``no_credentials``, ...), counted by ``orchestration.owner``.
    """
    return [
        (s.stage, s.status, dict(s.details.get("outcomes") or {}))
        for s in report.stages
        if s.stage in OWNER_STAGES and s.status != "not run"
    ]


def owner_totals(report: DailyReport) -> dict[str, Any]:
    """Watch time over the window and actual vs estimated revenue over every channel (pure).

    ``ad_error_pct`` = (estimate - actual ad revenue) / actual x 100 over the
    channel-days that have both; ``compared_ad_usd`` is that actual ad revenue
    (the window's other days have actuals but no estimate, so the estimate is
    never set beside ``actual_ad_usd``). None without one.
    """
    rev = report.revenue_actuals
    estimated = [r.estimated_ad_revenue_usd for r in rev if r.estimated_ad_revenue_usd is not None]
    compared = sum(r.actual_ad_revenue_compared_usd for r in rev)
    return {
        "newest": report.newest_watch_time(),
        "watch_minutes_28d": sum(d.watch_time_minutes for d in report.watch_time),
        "views_28d": sum(d.views for d in report.watch_time),
        "actual_usd": sum(r.actual_revenue_usd for r in rev),
        "actual_ad_usd": sum(r.actual_ad_revenue_usd for r in rev),
        "estimated_ad_usd": sum(estimated) if estimated else None,
        "compared_ad_usd": compared,
        "ad_error_pct": 100 * (sum(estimated) - compared) / compared
        if estimated and compared
        else None,
        "days": sum(r.days for r in rev),
        "settled_days": sum(r.settled_days for r in rev),
    }


def signed_pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def html(report: DailyReport) -> str:
    """The page: self-contained HTML5 with embedded charts."""
    return (
        _environment()
        .get_template("daily.html.j2")
        .render(
            r=report,
            headline=headline(report),
            charts=chart_uris(report),
            totals=totals(report),
            owner=owner_totals(report),
            owner_outcomes=owner_outcomes(report),
            revenue_channels=report.revenue_actuals[:REVENUE_CHANNELS],
        )
    )


def text(report: DailyReport) -> str:
    """The plain-text summary, in the page's order."""
    lines = [
        f"YTEmpire daily report for {report.day} (window {report.window_start} to "
        f"{report.day}), generated {_ts(report.generated_at)}",
        headline(report),
        "",
    ]
    lines += ["PIPELINE"]
    for s in report.stages:
        extra = f"  error: {s.error}" if s.error else ""
        summary = stage_summary(s)
        lines.append(
            f"  {s.stage:<20} {s.status:<8} {duration(s.duration_s):>10}"
            f"{'  ' + summary if summary else ''}{extra}"
        )
    if report.quota is not None:
        q = report.quota
        counter = (
            "" if q.counter_used is None else f" (Redis budget counter {number(q.counter_used)})"
        )
        lines.append(
            f"  quota: {number(q.used)} units used by collection{counter}, "
            f"{number(q.left)} left of {number(q.limit)}"
        )
    lines += _collection_lines(report) + _events_lines(report) + _dbt_lines(report)
    lines += _expectation_lines(report)
    as_of = f" as of {_ts(report.freshness_as_of)}" if report.freshness_as_of else ""
    lines.append(f"  freshness{as_of}:" + _note(report, "freshness"))
    lines += [
        f"    {f.source:<36} {f.status:<14} max loaded at {_ts(f.max_loaded_at)}"
        for f in report.freshness
    ]
    lines += ["", "NETWORK", *_network_lines(report)]
    lines += ["", f"OWNER'S VIEW ({OWNER_SOURCES})", *_owner_lines(report)]
    lines += ["", "QUALITY SCORES" + _note(report, "quality")]
    lines += [f"  {q.dimension:<14} {q.score:6.2f}" for q in report.quality]
    lines += ["", f"ANOMALIES ON {report.day}" + _note(report, "anomalies")]
    lines += [
        f"  [{a.severity}] {a.metric} of {a.entity or 'the network'}: "
        f"{number(a.value)} (expected {expected_range(a.expected_low, a.expected_high)}; "
        f"{a.method})"
        for a in report.anomalies
    ]
    if report.read_as:
        lines += ["", "READ AS ANOTHER ROLE THAN THE ANALYST"]
        lines += [f"  {part}: {why}" for part, why in sorted(report.read_as.items())]
    if report.notes:
        lines += ["", "NOT IN THIS REPORT"]
        lines += [f"  {part}: {why}" for part, why in sorted(report.notes.items())]
    return "\n".join(lines) + "\n"


def _collection_lines(report: DailyReport) -> list[str]:
    c = report.collection
    if c is None:
        return ["  channels:" + _note(report, "collection")]
    others = len(c.issues) - len(c.failures)
    lines = [
        f"  channels: {c.channels_collected} collected, {len(c.failures)} failed"
        f"{f', {others} with other issues' if others else ''} of {c.channels_expected} active "
        f"({c.runs} run(s): {', '.join(c.run_statuses)})"
    ]
    lines += [f"    {i.status} {i.channel_id}: {plain(i.reason)}" for i in c.issues]
    return lines


def _events_lines(report: DailyReport) -> list[str]:
    e = report.events
    if e is None:
        return ["  events:" + _note(report, "events")]
    by_type = ", ".join(f"{t} {number(n)}" for t, n in e.landed_by_type.items())
    lines = [
        f"  events: {number(e.landed)} landed ({by_type or 'none'}), "
        f"{number(e.dead_lettered)} dead-lettered"
    ]
    lines += [f"    dead-lettered {number(n)}: {plain(reason)}" for reason, n in e.dead_by_reason]
    return lines


def _dbt_lines(report: DailyReport) -> list[str]:
    d = report.dbt
    if d is None:
        return ["  dbt:" + _note(report, "dbt")]
    lines = [
        f"  dbt models: {_counts(d.models)}; tests: {_counts(d.tests)}",
    ]
    lines += [f"    {f['status']} {f['node']}: {f.get('message', '')}" for f in d.failures]
    return lines


def _expectation_lines(report: DailyReport) -> list[str]:
    if "expectations" in report.notes:
        return ["  expectations:" + _note(report, "expectations")]
    lines = [
        f"  expectations: {len(report.expectation_failures)} failed of {report.expectations_run}"
    ]
    lines += [
        f"    failed {f.suite} on {f.asset}: {f.expectation}"
        f"{' on ' + f.column if f.column else ''}, {number(f.unexpected_count)} unexpected"
        f"{' (observed ' + f.observed + ')' if f.observed else ''}"
        f"{', e.g. ' + f.sample if f.sample else ''}{', error: ' + f.error if f.error else ''}"
        for f in report.expectation_failures
    ]
    return lines


def _network_lines(report: DailyReport) -> list[str]:
    t = totals(report)
    day = t["day"]
    if day is None:
        return ["  no figures for the day in the marts" + _note(report, "network")]
    lines = [
        f"  {report.day}: {number(day.views)} views, {number(day.subscribers_gained)} "
        f"subscribers gained ({number(day.subscribers)} in all), revenue estimate "
        f"{usd(day.revenue_usd)} (ad {usd(day.ad_revenue_usd)}, affiliate "
        f"{usd(day.affiliate_revenue_usd)}, sponsorship {usd(day.sponsorship_revenue_usd)}) "
        f"over {day.channels} channels",
        f"  last 28 days: {number(t['views_28d'])} views, "
        f"{number(t['subscribers_gained_28d'])} subscribers gained, "
        f"revenue estimate {usd(t['revenue_28d'])}",
    ]
    lines += [
        f"  revenue by niche: {isolate(niche)} {usd(v)}" for niche, v in report.revenue_by_niche
    ]
    for label, rows in (("top", report.top_growth), ("bottom", report.bottom_growth)):
        lines += [
            f"  {label} growth: {g.channel_id} {isolate(g.title)} {g.growth_pct:+.2f}% "
            f"({number(g.gained)} subscribers)"
            for g in rows
        ]
    published = next((v for v in report.new_videos if v.published_date == report.day), None)
    lines.append(
        f"  new videos on the day: {published.videos if published else 0}, first-day views "
        f"{number(published.first_day_views if published else 0)}; last 28 days: "
        f"{sum(v.videos for v in report.new_videos)}, first-day views "
        f"{number(sum(v.first_day_views for v in report.new_videos))}"
    )
    return lines


REVENUE_CHANNELS = 5  # channels listed by actual revenue (the totals cover them all)
OWNER_SOURCES = (
    "YouTube Reporting and Analytics APIs: a day arrives ~48 h after it ends, "
    "revenue settles after 72 h"
)


def _owner_lines(report: DailyReport) -> list[str]:
    lines = [
        f"  landing {stage}: {status}; channels by outcome: {_counts(counts)}"
        for stage, status, counts in owner_outcomes(report)
    ]
    o = owner_totals(report)
    newest = o["newest"]
    if newest is None:
        lines.append("  watch time:" + _note(report, "watch_time"))
    else:
        lines += [
            f"  watch time on {newest.metric_date} (the newest reported day): "
            f"{number(newest.watch_time_minutes)} minutes, {number(newest.views)} views, "
            f"{number(newest.engaged_views)} engaged views, average view duration "
            f"{duration(newest.average_view_duration_s)} over {newest.channels} channels",
            f"  watch time over the {len(report.watch_time)} reported days of the window: "
            f"{number(o['watch_minutes_28d'])} minutes, {number(o['views_28d'])} views",
        ]
        lines += [
            f"  most watched: {c.channel_id} {isolate(c.title)} "
            f"{number(c.watch_time_minutes)} minutes, {number(c.views)} views, "
            f"average view duration {duration(c.average_view_duration_s)}"
            for c in report.top_watch_time
        ]
    if not report.revenue_actuals:
        return [*lines, "  revenue, actual vs estimated:" + _note(report, "revenue_actuals")]
    lines.append(
        f"  revenue, actual vs estimated ({o['days']} channel-days in the window, "
        f"{o['settled_days']} settled): actual {usd(o['actual_usd'])} (ad "
        f"{usd(o['actual_ad_usd'])}); on the days with an estimate: ad revenue estimate "
        f"{usd(o['estimated_ad_usd'])} against actual {usd(o['compared_ad_usd'])}, "
        f"error {signed_pct(o['ad_error_pct'])}"
    )
    top = report.revenue_actuals[:REVENUE_CHANNELS]
    lines.append(f"  top {len(top)} of {len(report.revenue_actuals)} channels by actual revenue:")
    lines += [
        f"    {r.channel_id} {isolate(r.title)} actual {usd(r.actual_revenue_usd)} (ad "
        f"{usd(r.actual_ad_revenue_usd)}); on the days with an estimate: estimate "
        f"{usd(r.estimated_ad_revenue_usd)} against actual ad "
        f"{usd(r.actual_ad_revenue_compared_usd)}, error {signed_pct(r.error_pct)}; "
        f"{r.settled_days} of {r.days} days settled"
        for r in top
    ]
    return lines


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{number(n)} {status}" for status, n in sorted(counts.items())) or "none"


def _note(report: DailyReport, part: str) -> str:
    return f" {report.notes[part]}" if part in report.notes else ""


def _ts(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
