"""Orchestration: the daily run's stages as functions, and the local Airflow that schedules them.

``daily`` holds one function per stage of ``ytempire_daily`` (the Airflow DAG
in ``airflow/dags/`` only wires them together); ``airflow_local`` prepares and
starts Airflow on the project's PostgreSQL. Like the CLI, this package sits on
top of every layer (ingestion, streaming, dbt) and imports them lazily.
"""
