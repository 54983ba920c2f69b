"""When ``ytempire_daily`` runs: the one definition the DAG file and the run helpers share.

The YouTube Data API's quota day resets at midnight Pacific (see
:data:`ytempire.quota.PACIFIC`); the DAG runs at 02:00 Pacific, once the day
it collects has ended. A quota day is written ISO (``YYYY-MM-DD``,
:mod:`ytempire.dates`) wherever it is typed: the trigger form's ``quota_day``
param checks it with :data:`QUOTA_DAY_PATTERN`. Imports nothing heavy, so the
DAG file can read it at parse time.
"""

from ytempire.dates import ISO_DATE_PATTERN

SCHEDULE_TIMEZONE = "America/Los_Angeles"  # the quota day's zone, ytempire.quota.PACIFIC
RUN_HOUR = 2
DAILY_CRON = f"0 {RUN_HOUR} * * *"
QUOTA_DAY_PATTERN = ISO_DATE_PATTERN  # the trigger form's check of the quota_day param
