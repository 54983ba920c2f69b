"""dlt plumbing the owner's landers share: the destination, the pipeline, loads in blocks.

Both landers load with dlt's ``merge`` and the ``delete-insert`` strategy: a
load stages each table in ``<dataset>_staging`` (``sql/42_raw_youtube_owner.sql``
makes both schemas; the loader cannot) and then, in one transaction per
table, deletes the destination rows of the days the load holds and inserts
the staged rows, deduplicated by the ``primary_key``. So a replayed job (dlt
killed between a commit and its bookkeeping) lands nothing twice, and a day
is replaced whole or not at all.

The days are selected by a ``destination_scope`` (:func:`day_replacing`), not
by dlt's ``merge_key`` and ``primary_key`` together: those compile to one
``EXISTS`` with an ``OR`` that PostgreSQL can only run as a nested loop over
the whole table (minutes per load once it holds millions of rows); a row
``IN`` the staged days is a hash semi-join, helped by the day index
:func:`ensure_day_indexes` keeps on each table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import dlt
from dlt.pipeline.exceptions import PipelineStepFailed

from ingestion.load_failures import Lander, load_failed
from ytempire.clients import dlt_credentials
from ytempire.settings import Settings

# No network but the APIs and the warehouse: dlt's anonymous telemetry stays off.
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def destination(settings: Settings) -> Any:
    """dlt's PostgreSQL destination as the loader role.

    No unique indexes: dlt's would make ``_dlt_id`` of its state table unique,
    which turns a replayed state job into a terminal failure; the merge's
    primary keys guard the data tables instead.
    """
    return dlt.destinations.postgres(
        credentials=dlt_credentials("loader", settings), create_indexes=False
    )


def make_pipeline(
    name: str, dataset: str, settings: Settings, pipelines_dir: Path | None = None
) -> dlt.Pipeline:
    return dlt.pipeline(
        pipeline_name=name,
        destination=destination(settings),
        dataset_name=dataset,
        pipelines_dir=str(pipelines_dir or settings.dlt_pipelines_dir),
    )


def day_replacing(*key: str) -> dict[str, str]:
    """dlt's write disposition that replaces, in one transaction, every row of the ``key``
    (channel and day) values the load holds."""
    names = ", ".join(key)
    return {
        "disposition": "merge",
        "strategy": "delete-insert",
        "destination_scope": f"({names}) in (select {names} from {{staging_table}})",
    }


def day_replaced_table(
    key: tuple[str, ...], primary_key: list[str], cols: list[dict[str, Any]]
) -> dict[str, Any]:
    """The hints of a table whose loads replace whole ``key`` (channel and day) values.

    The ``destination_scope`` alone selects the rows to replace: the table
    declares no ``merge_key`` (dlt ignores it beside a scope, and warns on
    every load that it does). The key's columns say ``merge_key: False``
    outright, which clears the hint from a pipeline schema stored before this
    was so (dlt keeps a stored column hint until a load says otherwise).
    """
    for hint in cols:
        if hint["name"] in key:
            hint["merge_key"] = False
    return {
        "write_disposition": day_replacing(*key),
        "primary_key": primary_key,
        "columns": cols,
    }


def ensure_day_indexes(pipeline: dlt.Pipeline, indexes: dict[str, tuple[str, ...]]) -> None:
    """Create the ``table -> columns`` indexes the landed tables lack (after a load: dlt makes
    a table on its first load, with no index but the ones it declares)."""
    with pipeline.sql_client() as client:
        for table, key in indexes.items():
            found = client.execute_sql(
                "select to_regclass(%s) is not null", f"{pipeline.dataset_name}.{table}"
            )
            if not (found and found[0][0]):
                continue
            name = client.make_qualified_table_name(table)
            cols = ", ".join(client.escape_column_name(c) for c in key)
            client.execute_sql(
                f"create index if not exists {table}_{key[-1]}_idx on {name} ({cols})"
            )


def columns(required: tuple[str, ...] = (), **types: str) -> list[dict[str, Any]]:
    """Column hints (a dict each: dlt writes into the hints it is given); ``required`` ones
    are NOT NULL."""
    out = []
    for name, data_type in types.items():
        hint: dict[str, Any] = {
            "name": name,
            "data_type": data_type,
            "nullable": name not in required,
        }
        if data_type == "timestamp":
            hint["timezone"] = True
        out.append(hint)
    return out


def land_in_blocks(
    pipeline: dlt.Pipeline,
    make_source: Callable[[Callable[[dict[str, Any]], Iterator[Any]]], Any],
    block_items: Callable[[list[str], dict[str, Any]], Iterator[Any]],
    channel_ids: list[str],
    block_size: int,
    *,
    lander: Lander,
    settings: Settings,
    done: Callable[[int], bool],
    indexes: dict[str, tuple[str, ...]],
) -> None:
    """Land ``channel_ids`` in blocks, one dlt load each (CSV files COPYed by dlt).

    ``block_items(block, state)`` yields a block's items; ``done(landed)`` is
    told how many channels have landed and says whether to stop; ``indexes``
    (table -> columns) are made once their table exists. A failed load is
    raised as :func:`~ingestion.load_failures.load_failed` words it for
    ``lander``.
    """
    for start in range(0, max(len(channel_ids), 1), block_size):
        block = channel_ids[start : start + block_size]
        try:
            pipeline.run(make_source(partial(block_items, block)), loader_file_format="csv")
        except PipelineStepFailed as exc:
            raise load_failed(exc, lander, settings) from exc
        ensure_day_indexes(pipeline, indexes)
        if done(min(start + block_size, len(channel_ids))):
            return
