"""What a task's log leads with: the project's lines, not the libraries' chatter.

Airflow's task log (the UI's Logs tab) gets every stdlib logger at INFO. Some
libraries fill it: Great Expectations logs ~200 "Skipping registering
function" lines per import, Cosmos repeats its DAG-rendering notes and a
warning per analysis/exposure node in every task (the task parses the DAG
file), kafka-python logs each connection, py4j each callback. :func:`quiet_library_logs`
raises those loggers' levels in the process that parses the DAG file, which
is every task's process. ``YTEMPIRE_AIRFLOW_LIBRARY_LOGS=1`` keeps them (for a
library's own debugging). Airflow's ``[logging] namespace_levels`` is not
enough: in a task process it filters Airflow's structlog loggers, not the
stdlib records the libraries write.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

LIBRARY_LOGS_VARIABLE = "YTEMPIRE_AIRFLOW_LIBRARY_LOGS"
# Logger -> the lowest level kept. Cosmos' node-conversion notes are warnings about
# analyses and exposures it has no task for, on every parse: ERROR keeps real ones.
QUIET_LOGGERS: dict[str, int] = {
    "great_expectations": logging.WARNING,
    "cosmos.converter": logging.WARNING,
    "cosmos.dbt.graph": logging.WARNING,
    "cosmos.airflow.graph": logging.ERROR,
    "kafka": logging.WARNING,
    "py4j": logging.WARNING,
    "dlt": logging.WARNING,
    "urllib3": logging.WARNING,
    "httpx": logging.WARNING,
}


def quiet_library_logs(environ: Mapping[str, str] | None = None) -> bool:
    """Raise :data:`QUIET_LOGGERS` to their levels unless asked not to; whether it did."""
    env = os.environ if environ is None else environ
    if env.get(LIBRARY_LOGS_VARIABLE, "").strip() not in ("", "0"):
        return False
    for name, level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    return True
