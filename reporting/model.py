"""The daily report's data: plain dataclasses, filled by :mod:`.collect`, read by the renderers.

Money is in USD, durations in seconds, dates are Pacific business days (the
YouTube quota day the collector labels its snapshots with). A part that could
not be read is absent from its field and named in :attr:`DailyReport.notes`
with the reason ("not run", "no data", "unavailable: ...").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class StageRow:
    """The latest attempt of one pipeline stage on the day (``status`` "not run" if none)."""

    stage: str
    status: str  # success | failed | abandoned | running | not run (ytempire.stage_runs)
    attempts: int = 0
    started_at: datetime | None = None
    finished_at: datetime | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


@dataclass(frozen=True)
class Quota:
    """YouTube Data API units of the day: what the collector's runs recorded spending."""

    used: int
    limit: int
    counter_used: int | None  # the shared Redis budget's counter, while it lives (2 days)

    @property
    def left(self) -> int:
        return max(0, self.limit - max(self.used, self.counter_used or 0))


@dataclass(frozen=True)
class ChannelIssue:
    """A channel the day's collection did not collect in full, and why."""

    channel_id: str
    status: str  # failed | missing (no snapshot) | not_found | gone | no_uploads
    reason: str

    @property
    def is_failure(self) -> bool:
        """Failed or missing: the channel's day is lost, not merely empty or retired."""
        return self.status in FAILURE_STATUSES


FAILURE_STATUSES = ("failed", "missing")


@dataclass(frozen=True)
class Collection:
    """Channels the day should have collected, those collected, and why the others were not."""

    runs: int
    run_statuses: tuple[str, ...]
    channels_expected: int
    channels_collected: int
    issues: tuple[ChannelIssue, ...]

    @property
    def failures(self) -> list[ChannelIssue]:
        return [i for i in self.issues if i.is_failure]


@dataclass(frozen=True)
class Events:
    """Kafka events of the day (by Kafka timestamp): landed per type, dead-lettered per reason."""

    landed_by_type: dict[str, int]
    dead_by_reason: list[tuple[str, int]]

    @property
    def landed(self) -> int:
        return sum(self.landed_by_type.values())

    @property
    def dead_lettered(self) -> int:
        return sum(count for _, count in self.dead_by_reason)


@dataclass(frozen=True)
class DbtResults:
    """Counts from dbt's run_results.json of the day's build, by resource type and status."""

    models: dict[str, int]
    tests: dict[str, int]
    failures: list[dict[str, str]]


@dataclass(frozen=True)
class ExpectationFailure:
    """One failed expectation of a GX checkpoint run (``observed``/``sample`` as JSON text)."""

    suite: str
    asset: str
    expectation: str
    column: str | None
    unexpected_count: int | None
    observed: str | None
    sample: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Freshness:
    source: str
    status: str  # pass | warn | error | runtime error
    max_loaded_at: datetime | None
    age_hours: float | None


@dataclass(frozen=True)
class DayPoint:
    """The network on one metric day (sums over its channels)."""

    metric_date: date
    channels: int
    views: int
    subscribers_gained: int
    subscribers: int
    revenue_usd: float
    ad_revenue_usd: float
    affiliate_revenue_usd: float
    sponsorship_revenue_usd: float


@dataclass(frozen=True)
class ChannelGrowth:
    """A channel's subscribers gained over the window, and that as % of where it started."""

    channel_id: str
    title: str
    subscribers: int
    gained: int
    growth_pct: float | None
    views: int


@dataclass(frozen=True)
class NewVideos:
    published_date: date
    videos: int
    first_day_views: int


@dataclass(frozen=True)
class QualityScore:
    dimension: str
    score: float
    checked_at: datetime


@dataclass(frozen=True)
class Anomaly:
    """One flagged day of one series; ``channel_id`` set when the series' entity is a channel."""

    metric: str
    entity: str
    channel_id: str | None
    observed_on: date | None
    value: float
    expected_low: float | None
    expected_high: float | None
    severity: str
    method: str


@dataclass(frozen=True)
class ChannelSeries:
    """One channel's daily views and revenue over the window, for an anomaly's link."""

    channel_id: str
    title: str
    points: list[tuple[date, int, float]]  # (metric_date, views, revenue_usd)
    anomaly_dates: list[date]


@dataclass(frozen=True)
class WatchTimeDay:
    """The network on one day of the owner's reports (YouTube Reporting API, ``channel_basic``).

    ``average_view_duration_s`` is minutes watched x 60 / views over every
    channel (None without views), as YouTube defines it.
    """

    metric_date: date
    channels: int
    views: int
    engaged_views: int
    watch_time_minutes: float
    average_view_duration_s: float | None


@dataclass(frozen=True)
class ChannelWatchTime:
    """A channel's watch time over the window (minutes), its views and average view duration."""

    channel_id: str
    title: str
    watch_time_minutes: float
    views: int
    average_view_duration_s: float | None


@dataclass(frozen=True)
class RevenueVsEstimate:
    """A channel's actual revenue (YouTube Analytics API) beside the warehouse's estimate.

    Over the days of the window YouTube reported: ``actual_revenue_usd`` (what
    the channel earns: ads, Premium, transactions), ``actual_ad_revenue_usd``
    and the estimate of the same ad revenue on the days the warehouse has one
    (``estimated_ad_revenue_usd``, beside ``actual_ad_revenue_compared_usd``,
    the actual ad revenue of those same days). ``error_pct`` = (estimate -
    actual) / actual x 100 over those days; None without a comparable day.
    ``settled_days`` of ``days`` no longer change (72 h after their end).
    """

    channel_id: str
    title: str
    days: int
    settled_days: int
    actual_revenue_usd: float
    actual_ad_revenue_usd: float
    estimated_ad_revenue_usd: float | None
    actual_ad_revenue_compared_usd: float

    @property
    def error_pct(self) -> float | None:
        if self.estimated_ad_revenue_usd is None or not self.actual_ad_revenue_compared_usd:
            return None
        return (
            100
            * (self.estimated_ad_revenue_usd - self.actual_ad_revenue_compared_usd)
            / self.actual_ad_revenue_compared_usd
        )


@dataclass
class DailyReport:
    """Everything the page and the summary show for ``day``; ``notes`` says what is missing."""

    day: date
    window_start: date
    generated_at: datetime
    stages: list[StageRow] = field(default_factory=list)
    quota: Quota | None = None
    collection: Collection | None = None
    events: Events | None = None
    dbt: DbtResults | None = None
    expectations_run: int = 0
    expectation_failures: list[ExpectationFailure] = field(default_factory=list)
    freshness: list[Freshness] = field(default_factory=list)
    freshness_as_of: datetime | None = None  # the instant freshness was judged at
    series: list[DayPoint] = field(default_factory=list)
    revenue_by_niche: list[tuple[str, float]] = field(default_factory=list)
    top_growth: list[ChannelGrowth] = field(default_factory=list)
    bottom_growth: list[ChannelGrowth] = field(default_factory=list)
    new_videos: list[NewVideos] = field(default_factory=list)
    quality: list[QualityScore] = field(default_factory=list)
    anomalies: list[Anomaly] = field(default_factory=list)  # observed on the day
    window_anomalies: list[Anomaly] = field(default_factory=list)  # the 28 days, for markers
    channel_series: list[ChannelSeries] = field(default_factory=list)
    # the owner's view (Reporting and Analytics APIs): its days arrive ~48 h late, so these
    # cover the window's days YouTube has reported, not necessarily ``day`` itself
    watch_time: list[WatchTimeDay] = field(default_factory=list)
    top_watch_time: list[ChannelWatchTime] = field(default_factory=list)
    revenue_actuals: list[RevenueVsEstimate] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)
    # parts read from the marts by another role than the analyst, and why
    read_as: dict[str, str] = field(default_factory=dict)

    @property
    def failed_stages(self) -> list[StageRow]:
        return [s for s in self.stages if s.status in ("failed", "abandoned")]

    def newest_watch_time(self) -> WatchTimeDay | None:
        """The newest day of the owner's reports in the window (reports arrive ~48 h late)."""
        return self.watch_time[-1] if self.watch_time else None

    def on_day(self) -> DayPoint | None:
        """The network's figures for the report's day, if the marts have it."""
        return next((p for p in self.series if p.metric_date == self.day), None)
