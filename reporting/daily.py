"""Build, write and deliver one day's report: the function the CLI and the DAG's last task call.

``write_daily_report(day)`` is the daily pipeline's ``report`` stage: it reads
the day (:mod:`.collect`), writes the page and the summary (:mod:`.render`,
:mod:`.delivery`), mails them when SMTP is configured, and records itself in
``analytics.pipeline_stage_runs``. It reports failed stages without failing
itself; run it with Airflow's trigger rule ``all_done``.
"""

from __future__ import annotations

import logging
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reporting.collect import gather
from reporting.delivery import ReportFiles, recipients_of, send_email, write_files
from reporting.render import headline, html, text
from ytempire.errors import ServiceUnavailable
from ytempire.settings import Settings, get_settings
from ytempire.stage_runs import record_stage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportOutcome:
    files: ReportFiles
    headline: str  # e.g. "PIPELINE FAILED on 2025-01-03: dbt_build"
    email: str  # what delivery did, one line


def default_out_dir(settings: Settings) -> Path:
    return Path(settings.local_dir) / "reports"


def write_daily_report(
    day: date,
    out_dir: Path | None = None,
    *,
    email: bool = True,
    freshness: bool = True,
    settings: Settings | None = None,
) -> ReportOutcome:
    """Write ``daily-report-<day>.html`` and ``.txt`` into ``out_dir`` and deliver them.

    Raises only when the files cannot be written or the mail server refuses;
    a database that is down leaves the stage unrecorded and the parts noted.
    """
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
