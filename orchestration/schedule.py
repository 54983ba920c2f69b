"""When ``ytempire_daily`` runs: the one definition the DAG file and the run helpers share.

The YouTube Data API's quota day resets at midnight Pacific (see
:data:`ytempire.quota.PACIFIC`); the DAG runs at 02:00 Pacific, once the day
it collects has ended. Kept free of imports so the DAG file can read it at
parse time.
"""

SCHEDULE_TIMEZONE = "America/Los_Angeles"  # the quota day's zone, ytempire.quota.PACIFIC
RUN_HOUR = 2
DAILY_CRON = f"0 {RUN_HOUR} * * *"
