"""The raw tables exactly as the landers create them, without landing anything.

dlt creates ``raw_youtube.*`` and ``raw_events.*`` on a lander's first load,
from the source's declared columns and the lander's destination. Code that
fills the raw tables by other means (the bulk history simulator behind
``ytempire warehouse simulate``, the dbt tests and benchmarks) creates them
here, with the DDL dlt itself generates from the same two inputs, so it
cannot drift from what the landers write.

The two landers differ in one respect, reproduced here: the YouTube rows
pass dlt's normalizer, which adds ``_dlt_load_id`` and ``_dlt_id`` to each
table; the Kafka landing imports the files it wrote itself (see
:mod:`ingestion.kafka_events.destination`), so its tables hold only their
declared columns.
"""

from __future__ import annotations

import tempfile
from typing import Any, cast

import dlt
import psycopg
from dlt.common.schema import Schema
from dlt.common.schema.typing import C_DLT_ID, C_DLT_LOAD_ID, TColumnSchema

from ingestion.kafka_events import kafka_events
from ingestion.kafka_events import landing as kafka_landing
from ingestion.youtube import landing as youtube_landing
from ingestion.youtube import youtube_source
from ytempire.settings import Settings, get_settings


def _youtube_schema() -> Schema:
    # discover_schema() never runs a resource: the collector is never made.
    schema = youtube_source([], make_collector=_never).discover_schema()
    # The columns dlt's relational normalizer adds to each row: text, not null, and the
    # row key unique (its hints on the schema; tests/test_raw_tables.py compares them
    # with a real load).
    dlt_columns: dict[str, TColumnSchema] = {
        C_DLT_LOAD_ID: {"name": C_DLT_LOAD_ID, "data_type": "text", "nullable": False},
        C_DLT_ID: {"name": C_DLT_ID, "data_type": "text", "nullable": False, "unique": True},
    }
    for table in schema.data_tables():
        schema.update_table({"name": table["name"], "columns": dlt_columns})
    return schema


def _kafka_schema() -> Schema:
    return kafka_events([]).discover_schema()


def _never(_state: dict[str, Any]) -> Any:
    raise AssertionError("the schema of a source is read without running it")


def raw_table_ddl(settings: Settings | None = None) -> dict[str, str]:
    """``"dataset.table"`` -> the ``CREATE TABLE`` dlt issues for it on a lander's first load.

    Pure apart from reading the landers' declarations: no connection is opened.
    """
    s = settings or get_settings()
    ddl: dict[str, str] = {}
    sources = (
        (youtube_landing.DATASET, _youtube_schema(), youtube_landing.destination(s)),
        (kafka_landing.DATASET, _kafka_schema(), kafka_landing.destination(s)),
    )
    with tempfile.TemporaryDirectory(prefix="ytempire-raw-ddl-") as folder:
        for dataset, schema, destination in sources:
            pipeline = dlt.pipeline(
                pipeline_name=f"raw_ddl_{schema.name}",
                destination=destination,
                dataset_name=dataset,
                pipelines_dir=folder,
            )
            pipeline.schemas.save_schema(schema)
            with pipeline.destination_client(schema.name) as client:
                for table in schema.data_tables():
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
