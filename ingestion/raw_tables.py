"""The raw tables exactly as the landers create them, without landing anything.

dlt creates ``raw_youtube.*`` and ``raw_events.*`` on a lander's first load,
from the source's declared columns and the lander's destination. Code that
fills the raw tables by other means (the bulk history simulator behind
``ytempire warehouse simulate``, the dbt tests and benchmarks) creates them
here, with the DDL dlt itself generates from the same two inputs, so it
cannot drift from what the landers write.

The landers differ in one respect, reproduced here: rows that pass dlt's
relational normalizer (the YouTube Data API's, the owner APIs' ledgers and
revenue) get ``_dlt_load_id`` and ``_dlt_id``; the Kafka landing imports the
files it wrote itself (see :mod:`ingestion.kafka_events.destination`) and the
Reporting API's report rows are Arrow tables, so those tables hold only
their declared columns.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

import dlt
import psycopg
from dlt.common.schema import Schema
from dlt.common.schema.typing import C_DLT_ID, C_DLT_LOAD_ID, TColumnSchema
from dlt.extract.items import TableNameMeta

from ingestion import youtube_analytics, youtube_reporting
from ingestion.kafka_events import kafka_events
from ingestion.kafka_events import landing as kafka_landing
from ingestion.youtube import landing as youtube_landing
from ingestion.youtube import youtube_source
from ingestion.youtube_analytics import landing as analytics_landing
from ingestion.youtube_owner import loads as owner_loads
from ingestion.youtube_reporting import landing as reporting_landing
from ytempire.settings import Settings, get_settings


def _dlt_columns(unique: bool = True) -> dict[str, TColumnSchema]:
    """The columns dlt's relational normalizer adds to each row: text, not null, and the row
    key unique (its hints on the schema; tests/test_raw_tables.py compares them with a real
    load). The owner landers' destination creates no unique index (``unique`` False)."""
    row_key: TColumnSchema = {"name": C_DLT_ID, "data_type": "text", "nullable": False}
    if unique:
        row_key["unique"] = True
    return {
        C_DLT_LOAD_ID: {"name": C_DLT_LOAD_ID, "data_type": "text", "nullable": False},
        C_DLT_ID: row_key,
    }


def _youtube_schema() -> Schema:
    # discover_schema() never runs a resource: the collector is never made.
    schema = youtube_source([], make_collector=_never).discover_schema()
    for table in schema.data_tables():
        schema.update_table({"name": table["name"], "columns": _dlt_columns()})
    return schema


def _owner_schema(source: Any, tables: dict[str, Any], arrow_tables: tuple[str, ...]) -> Schema:
    """An owner lander's tables from its declarations (one resource, a hint variant per table)."""
    resource = next(iter(source.resources.values()))
    schema = Schema(source.name)
    for name in tables:
        table = resource.compute_table_schema(meta=TableNameMeta(name))
        schema.update_table(table)
        if name not in arrow_tables:  # dict rows pass dlt's relational normalizer
            schema.update_table({"name": name, "columns": _dlt_columns(unique=False)})
    return schema


def _reporting_schema() -> Schema:
    source = youtube_reporting.youtube_reporting_source(_never)
    return _owner_schema(source, youtube_reporting.TABLES, youtube_reporting.FAMILIES)


def _analytics_schema() -> Schema:
    source = youtube_analytics.youtube_analytics_source(_never)
    return _owner_schema(source, youtube_analytics.TABLES, ())


def _kafka_schema() -> Schema:
    return kafka_events([]).discover_schema()


def _never(_state: dict[str, Any]) -> Any:
    raise AssertionError("the schema of a source is read without running it")


def lander_schemas(settings: Settings | None = None) -> tuple[tuple[str, Schema, Any], ...]:
    """``(dataset, schema, destination)`` of each lander: the schema its declarations make
    and the dlt destination it loads with. Nothing is run and no connection is opened."""
    s = settings or get_settings()
    return (
        (youtube_landing.DATASET, _youtube_schema(), youtube_landing.destination(s)),
        (kafka_landing.DATASET, _kafka_schema(), kafka_landing.destination(s)),
        (reporting_landing.DATASET, _reporting_schema(), owner_loads.destination(s)),
        (analytics_landing.DATASET, _analytics_schema(), owner_loads.destination(s)),
    )


@contextmanager
def lander_clients(settings: Settings | None = None) -> Iterator[list[tuple[str, Any]]]:
    """``(dataset, job client)`` of each lander, bound to its schema: what dlt's load step
    verifies and creates the tables with. No connection is opened."""
    with tempfile.TemporaryDirectory(prefix="ytempire-raw-ddl-") as folder:
        clients = []
        for dataset, schema, destination in lander_schemas(settings):
            pipeline = dlt.pipeline(
                pipeline_name=f"raw_ddl_{schema.name}",
                destination=destination,
                dataset_name=dataset,
                pipelines_dir=folder,
            )
            pipeline.schemas.save_schema(schema)
            # not entered: entering would connect, and nothing here needs the database
            clients.append((dataset, pipeline.destination_client(schema.name)))
        yield clients


def raw_table_ddl(settings: Settings | None = None) -> dict[str, str]:
    """``"dataset.table"`` -> the ``CREATE TABLE`` dlt issues for it on a lander's first load.

    Pure apart from reading the landers' declarations: no connection is opened.
    """
    ddl: dict[str, str] = {}
    with lander_clients(settings) as clients:
        for dataset, client in clients:
            for table in client.schema.data_tables():
                columns = list(table["columns"].values())
                # dlt's own DDL generator (what its load step runs for a new table)
                generate = cast(Any, client)._get_table_update_sql
                (statement,) = generate(table["name"], columns, False)
                ddl[f"{dataset}.{table['name']}"] = statement
    return ddl


def create_raw_tables(conn: psycopg.Connection[Any], settings: Settings | None = None) -> list[str]:
    """Create the raw tables that do not exist yet, as the loader; return the names created.

    Runs in the caller's transaction (no commit). Re-runnable: an existing table,
    landed or created here, is left as it is.
    """
    created = []
    for name, statement in raw_table_ddl(settings).items():
        row = conn.execute("select to_regclass(%s)", (name,)).fetchone()
        if row is None or row[0] is None:
            conn.execute(statement.encode())  # dlt's generated DDL, not a literal
            created.append(name)
    return created
