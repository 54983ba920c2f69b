"""The record of one owner lander run: its tally, its ``runs`` table and its last row.

The Reporting and Analytics landers each keep a ``runs`` table with one row
per run, merged on ``run_id``: every block's load writes the run's record so
far, so the last load's row is the run's, and a run that stops early (a
spent budget, a service down) still records what it landed and why.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import dlt

from ingestion.youtube_owner import Outcomes
from ingestion.youtube_owner.calls import OwnerApi, QuotaExhausted
from ingestion.youtube_owner.loads import columns
from ytempire.errors import ServiceUnavailable

log = logging.getLogger(__name__)


@dataclass
class RunTally:
    """What one run did so far. A lander's tally adds its own counts (:meth:`counts`)."""

    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    channels: int = 0
    status: str = "complete"  # or "partial": stopped early, what was fetched landed
    error: BaseException | None = None

    def counts(self) -> dict[str, int]:
        """The lander's own counts, by their ``runs`` column (see :func:`runs_table`)."""
        return {}


class RunCollector(Protocol):
    """What :func:`run_block` needs of a lander's collector."""

    api: OwnerApi
    outcomes: Outcomes

    @property
    def tally(self) -> RunTally: ...

    def items(self, block: list[str], state: dict[str, Any]) -> Iterator[Any]: ...


def runs_table(**counts: str) -> dict[str, Any]:
    """The ``runs`` table's dlt hints: the run's id, times, status and channels, the
    lander's ``counts`` (column name -> dlt data type), its API calls, its channels'
    issues (json) and the error that stopped it."""
    return {
        "write_disposition": "merge",
        "primary_key": ["run_id"],
        "columns": columns(
            ("run_id",),
            run_id="text",
            started_at="timestamp",
            finished_at="timestamp",
            status="text",
            channels="bigint",
            **counts,
            api_calls="bigint",
            channel_issues="json",
            error="text",
        ),
    }


def run_block(
    source: str, collector: RunCollector, block: list[str], state: dict[str, Any]
) -> Iterator[Any]:
    """A block's items, then the run's record so far as a ``runs`` row.

    A spent budget (``QuotaExhausted``) or a service down (``ServiceUnavailable``)
    ends the block early and marks the run ``partial`` with that error: what was
    fetched still lands, and the lander decides what to raise once it has.
    ``source`` names the lander in the warning.
    """
    tally = collector.tally
    try:
        yield from collector.items(block, state)
    except (QuotaExhausted, ServiceUnavailable) as exc:
        tally.status, tally.error = "partial", exc
        log.warning("%s: stopped early, landing what was fetched: %s", source, exc)
    yield dlt.mark.with_table_name(
        [
            {
                "run_id": tally.run_id,
                "started_at": tally.started_at,
                "finished_at": datetime.now(UTC),
                "status": tally.status,
                "channels": tally.channels,
                **tally.counts(),
                "api_calls": collector.api.count(),
                "channel_issues": collector.outcomes.as_json(),
                "error": str(tally.error) if tally.error else None,
            }
        ],
        "runs",
    )
