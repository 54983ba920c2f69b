"""What the owner's sources share: channels' tokens, calls, outcomes and dlt loads.

The YouTube Reporting API (:mod:`ingestion.youtube_reporting`) and the
Analytics API (:mod:`ingestion.youtube_analytics`) answer a channel's owner
only: each channel is called with its own OAuth credentials
(:mod:`.tokens`), through :mod:`.calls` (retries, the API's own quota
budget, Google's answers sorted out). One channel's trouble never stops the
others: it becomes that channel's outcome in the run record (like the Data
API collector's ``channel_issues``):

- ``no_credentials``: the token store holds no grant for the channel;
- ``auth_revoked``: its refresh token was revoked or expired (``invalid_grant``);
- ``not_monetized``: the Analytics API refused its monetary metrics (403:
  the channel is not in the Partner Program, or its grant lacks the
  monetary scope); its other figures land;
- ``report_type_deprecated``: a job of the channel reports a type YouTube
  deprecated (or replaced by a newer version); alerted once, and a job of
  the newest version is made;
- ``no_reports_yet``: its jobs have no report yet (YouTube makes the first
  about 48 h after a job is created);
- ``failed``: anything else, with Google's reason; the next run asks again.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

log = logging.getLogger(__name__)

OutcomeStatus = Literal[
    "no_credentials",
    "auth_revoked",
    "not_monetized",
    "report_type_deprecated",
    "no_reports_yet",
    "failed",
]


@dataclass(frozen=True)
class ChannelOutcome:
    """Why a channel was not landed in full, or what needs a person (``reason`` is for people)."""

    status: OutcomeStatus
    reason: str


@dataclass
class Outcomes:
    """Each channel's outcomes in one run (several per channel are possible)."""

    source: str
    by_channel: dict[str, list[ChannelOutcome]] = field(default_factory=dict)

    def note(self, channel_id: str, status: OutcomeStatus, reason: str) -> None:
        self.by_channel.setdefault(channel_id, []).append(ChannelOutcome(status, reason))
        level = (
            logging.WARNING
            if status in ("failed", "auth_revoked", "report_type_deprecated")
            else logging.INFO
        )
        log.log(level, "%s: channel %s %s: %s", self.source, channel_id, status, reason)

    def channels_with(self, status: OutcomeStatus) -> list[str]:
        return sorted(
            c for c, items in self.by_channel.items() if any(o.status == status for o in items)
        )

    def as_json(self) -> dict[str, Any] | None:
        """``{channel: [{status, reason}, ...]}``, or None when every channel landed cleanly."""
        return {
            c: [asdict(o) for o in items] for c, items in sorted(self.by_channel.items())
        } or None
