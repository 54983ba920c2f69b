"""One run's revenue collection: per channel, the days not settled yet, per day and per video-day.

For each channel, with its own credentials (``ids=channel==MINE``):

1. the days to fetch: from the day after the last settled one (the source
   state; a channel's first run starts :data:`FIRST_RUN_DAYS` back) to
   yesterday (Pacific);
2. one ``reports.query`` with ``dimensions=day`` over those days: the
   channel-day figures. A 403 is the channel's ``not_monetized`` outcome
   (not in the Partner Program, or no monetary scope granted): nothing more
   is asked for it this run;
3. for each day that answered a row, the top-videos report of that day
   (``dimensions=video``, ``sort=-estimatedRevenue``, ``maxResults=200``,
   paged by ``startIndex``): its video-day figures.

A day is settled once fetched :data:`SETTLE_AFTER` after its end; the
state's ``settled_through`` moves past every day settled in turn, so an
unsettled day (and every later one) is fetched again by the next run, and a
settled day never again. A day without a row that is old enough to be
settled had no data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import dlt

from ingestion.youtube_analytics import (
    CHANNEL_DAY_METRICS,
    METRIC_COLUMNS,
    VIDEO_DAY_METRICS,
)
from ingestion.youtube_owner import Outcomes
from ingestion.youtube_owner.calls import AuthRevoked, OwnerApi, OwnerApiError, build_client
from ingestion.youtube_owner.runs import RunTally
from ingestion.youtube_owner.tokens import ChannelToken, OAuthClient, credentials

log = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")
SETTLE_AFTER = timedelta(hours=72)  # Google: estimated revenue settles 48-72 h after a day
FIRST_RUN_DAYS = 30
TOP_VIDEOS_PAGE = 200  # the top-videos report's largest maxResults


def day_end(day: date) -> datetime:
    """The end of a Pacific day, in UTC."""
    following = day + timedelta(days=1)
    return datetime(following.year, following.month, following.day, tzinfo=PACIFIC).astimezone(UTC)


@dataclass
class Tally(RunTally):
    """What one run did: the runs row's counts of this lander."""

    channel_days: int = 0
    video_days: int = 0

    def counts(self) -> dict[str, int]:
        return {"channel_days": self.channel_days, "video_days": self.video_days}


@dataclass
class Collector:
    """Collects the revenue of ``channel_ids`` for one dlt load (see the module docstring)."""

    api: OwnerApi
    tokens: dict[str, ChannelToken]
    client: OAuthClient | None
    api_url: str
    token_uri: str
    outcomes: Outcomes
    tally: Tally
    now: datetime
    first_run_days: int = FIRST_RUN_DAYS

    progress: Callable[[], None] = lambda: None  # told each time a channel is done

    def items(self, channel_ids: list[str], state: dict[str, Any]) -> Iterator[Any]:
        settled: dict[str, str] = state.setdefault("settled_through", {})
        for channel_id in channel_ids:
            self.tally.channels += 1
            token = self.tokens.get(channel_id)
            if token is None or self.client is None:
                self.outcomes.note(
                    channel_id,
                    "no_credentials",
                    "no OAuth grant in the token store. Next: its owner grants access "
                    "(`ytempire youtube-owner grant`).",
                )
                self.progress()
                continue
            try:
                yield from self._channel(channel_id, token, settled)
            except AuthRevoked as exc:
                self.outcomes.note(channel_id, "auth_revoked", str(exc))
            except OwnerApiError as exc:
                if exc.status == 403:
                    self.outcomes.note(
                        channel_id,
                        "not_monetized",
                        f"the Analytics API refused its revenue ({exc.reason or 'forbidden'}): "
                        "the channel is not in the YouTube Partner Program, or its grant lacks "
                        "yt-analytics-monetary.readonly",
                    )
                else:
                    self.outcomes.note(channel_id, "failed", str(exc))
            self.progress()

    def window(self, channel_id: str, settled: dict[str, str]) -> tuple[date, date] | None:
        """(first, last) day to fetch for a channel; None when nothing is due."""
        last = self.now.astimezone(PACIFIC).date() - timedelta(days=1)
        held = settled.get(channel_id)
        first = (
            date.fromisoformat(held) + timedelta(days=1)
            if held
            else last - timedelta(days=self.first_run_days - 1)
        )
        return (first, last) if first <= last else None

    def _channel(
        self, channel_id: str, token: ChannelToken, settled: dict[str, str]
    ) -> Iterator[Any]:
        assert self.client is not None
        window = self.window(channel_id, settled)
        if window is None:
            return
        first, last = window
        client = build_client(
            "youtubeAnalytics", "v2", self.api_url, credentials(token, self.client, self.token_uri)
        )
        fetched_at = self.now
        request = client.reports().query(
            ids="channel==MINE",
            startDate=first.isoformat(),
            endDate=last.isoformat(),
            metrics=",".join(CHANNEL_DAY_METRICS),
            dimensions="day",
            sort="day",
            currency="USD",
        )
        rows = _rows(self.api.execute("reports.query", request, channel_id))
        channel_days = [_row(channel_id, date.fromisoformat(r["day"]), r, fetched_at) for r in rows]
        if channel_days:
            yield dlt.mark.with_table_name(channel_days, "channel_days")
            self.tally.channel_days += len(channel_days)
        for row in channel_days:
            videos = self._videos(client, channel_id, row["day"], fetched_at)
            if videos:
                yield dlt.mark.with_table_name(videos, "video_days")
                self.tally.video_days += len(videos)
        self._settle(channel_id, first, last, settled)

    def _videos(self, client: Any, channel_id: str, day: date, fetched_at: datetime) -> list[dict]:
        out: list[dict[str, Any]] = []
        start = 1
        while True:
            request = client.reports().query(
                ids="channel==MINE",
                startDate=day.isoformat(),
                endDate=day.isoformat(),
                metrics=",".join(VIDEO_DAY_METRICS),
                dimensions="video",
                sort="-estimatedRevenue",
                maxResults=TOP_VIDEOS_PAGE,
                startIndex=start,
                currency="USD",
            )
            rows = _rows(self.api.execute("reports.query", request, channel_id))
            out += [{"video_id": r["video"], **_row(channel_id, day, r, fetched_at)} for r in rows]
            if len(rows) < TOP_VIDEOS_PAGE:
                return out
            start += TOP_VIDEOS_PAGE

    def _settle(self, channel_id: str, first: date, last: date, settled: dict[str, str]) -> None:
        """Move ``settled_through`` past the days of the window settled at this fetch."""
        through = None
        day = first
        while day <= last and self.now >= day_end(day) + SETTLE_AFTER:
            through = day
            day += timedelta(days=1)
        if through is not None:
            settled[channel_id] = through.isoformat()


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    """A ``resultTable`` as dicts by column name."""
    names = [h["name"] for h in body.get("columnHeaders", [])]
    return [dict(zip(names, row, strict=True)) for row in body.get("rows", [])]


def _row(channel_id: str, day: date, row: dict[str, Any], fetched_at: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"channel_id": channel_id, "day": day}
    out.update({column: row[metric] for metric, column in METRIC_COLUMNS.items() if metric in row})
    out.update(
        currency="USD", is_settled=fetched_at >= day_end(day) + SETTLE_AFTER, fetched_at=fetched_at
    )
    return out
