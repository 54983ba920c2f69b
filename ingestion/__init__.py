"""dlt pipelines landing raw data in PostgreSQL: the YouTube Data API and the Kafka topics.

Credentials come from :mod:`ytempire.settings`, never from dlt secrets, so dlt's
Airflow secrets provider is switched off for every pipeline here: with Airflow
installed it otherwise imports Airflow (writing ``~/airflow/airflow.cfg``) and
queries its metastore on each config lookup, seconds per run and log noise
outside an Airflow task.
"""

import os

os.environ.setdefault("PROVIDERS__ENABLE_AIRFLOW_SECRETS", "false")
