"""The project's Airflow plugin: the daily DAG's timetable, and run notes naming the quota day.

* ``QuotaDayTimetable`` (``orchestration.timetable``): Airflow serializes a
  custom timetable only when a plugin registers it.
* A listener that notes each ``ytempire_daily`` run with the quota day it
  works on, when the scheduler starts it: ``quota day 2025-01-03``, from the
  trigger form's ``quota_day`` or, without one, from the run's data interval
  (``orchestration.daily.quota_day_of_run``). A note the operator typed is kept
  after it. The grid, the run's page and the REST API show the note.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.listeners import hookimpl
from airflow.plugins_manager import AirflowPlugin

from orchestration.timetable import QuotaDayTimetable

log = logging.getLogger(__name__)
DAG_ID = "ytempire_daily"


class QuotaDayNotes:
    """Listener: the scheduler calls it as a run starts (in its own session)."""

    @hookimpl
    def on_dag_run_running(self, dag_run: Any, msg: str) -> None:
        if dag_run.dag_id != DAG_ID:
            return
        from orchestration.daily import quota_day_note, quota_day_of_run

        try:
            day = quota_day_of_run(dag_run.data_interval_start, dag_run.conf or {})
        except ValueError as error:  # the run fails in its tasks with the same message
            log.warning("run %s: no quota day: %s", dag_run.run_id, error)
            return
        note = quota_day_note(day)
        current = dag_run.note or ""
        if not current.startswith(note):
            dag_run.note = f"{note}\n{current}".strip()


class YTEmpirePlugin(AirflowPlugin):
    name = "ytempire"
    timetables = [QuotaDayTimetable]
    listeners = [QuotaDayNotes()]
