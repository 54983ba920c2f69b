"""Build, write and deliver one day's report: the function the CLI and the DAG's last task call.

``write_daily_report(day)`` is the daily pipeline's ``report`` stage: it reads
the day (:mod:`.collect`), writes the page and the summary (:mod:`.render`,
:mod:`.delivery`), mails them when SMTP is configured, and records itself in
``analytics.pipeline_stage_runs``. It reports failed stages without failing
itself; run it with Airflow's trigger rule ``all_done``. A day after today
(Pacific) is refused before anything is recorded or written
(:class:`FutureDay`); :func:`default_day` is the newest day the pipeline ran.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reporting import queries
from reporting.collect import gather
from reporting.delivery import ReportFiles, recipients_of, send_email, write_files
from reporting.render import headline, html, text
from ytempire.clients import pg_connect
from ytempire.errors import ServiceUnavailable, YTEmpireError
from ytempire.quota import quota_day
from ytempire.settings import Settings, get_settings
from ytempire.stage_runs import record_stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportOutcome:
    files: ReportFiles
    headline: str  # e.g. "PIPELINE FAILED on 2025-01-03: dbt_build"
    email: str  # what delivery did, one line


class FutureDay(YTEmpireError):
    """A report was asked for a business day that has not begun (nothing can have run)."""

    exit_code = 2


def default_out_dir(settings: Settings) -> Path:
    return settings.reports_path


def default_day(settings: Settings | None = None) -> date:
    """The newest business day up to today on which a pipeline stage (not ``report``) ran;
    today's Pacific day when none has."""
    s = settings or get_settings()
    today = quota_day()
    with pg_connect("transformer", settings=s) as conn:
        return queries.latest_run_day(conn, today) or today


def refuse_future(day: date) -> None:
    """Raise :class:`FutureDay` when ``day`` is after today's Pacific business day."""
    today = quota_day()
    if day > today:
        raise FutureDay(
            f"cannot report on {day}: it is after today's business day ({today}, Pacific), so "
            f"no stage can have run. Next: pass a day up to {today}, or omit --date for the "
            "newest day the pipeline ran."
        )


def write_daily_report(
    day: date,
    out_dir: Path | None = None,
    *,
    email: bool = True,
    freshness: bool = True,
    settings: Settings | None = None,
) -> ReportOutcome:
    """Write ``daily-report-<day>.html`` and ``.txt`` into ``out_dir`` and deliver them.

    Raises :class:`FutureDay` for a day after today (nothing recorded or
    written), and otherwise only when the files cannot be written or the mail
    server refuses; a database that is down leaves the stage unrecorded and the
    parts noted.
    """
    refuse_future(day)
    s = settings or get_settings()
    with ExitStack() as stack:
        try:
            run = stack.enter_context(record_stage("report", day, settings=s))
        except ServiceUnavailable as exc:
            log.warning("not recording the report stage: %s", exc)
            run = None
        report = gather(day, settings=s, freshness=freshness)
        files = write_files(out_dir or default_out_dir(s), day, html(report), text(report))
        line = headline(report)
        sent = (
            send_email(day, line, files, recipients_of(s.report_email_to))
            if email
            else "email: skipped (not requested)"
        )
        if run is not None:
            run.details.update(
                html=str(files.html),
                failed_stages=len(report.failed_stages),
                anomalies=len(report.anomalies),
                email=sent,
            )
    return ReportOutcome(files, line, sent)
