"""Calendar dates as the warehouse writes and reads them: ISO 8601 ``YYYY-MM-DD`` only.

One rule for every place a person types a day (CLI options, the Airflow
trigger form's ``quota_day``, the simulators' day switch): ``2025-01-03``.
``2025-1-3`` (which ``strptime('%Y-%m-%d')`` would take) and ``20250103``
(which ``date.fromisoformat`` takes) are refused with an example, so a day
reads the same in a command, a run id and a log line.
"""

from __future__ import annotations

import re
from datetime import date

ISO_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_ISO_DATE = re.compile(ISO_DATE_PATTERN, re.ASCII)
EXAMPLE = "2025-01-03"


def parse_iso_date(value: str) -> date:
    """``value`` as a date if it is ``YYYY-MM-DD`` (zero-padded) and a real day.

    Raises ``ValueError`` saying what was given and showing an example.
    """
    text = value.strip()
    if not _ISO_DATE.match(text):
        raise ValueError(f"{value!r} is not an ISO date: give YYYY-MM-DD, e.g. {EXAMPLE}")
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{value!r} is not a calendar day ({error}); e.g. {EXAMPLE}") from None
