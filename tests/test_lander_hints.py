"""Every lander's table hints are ones dlt takes as meant: its load step has nothing to warn of.

dlt verifies a load's tables before loading them and logs a warning for a
hint it will ignore (a ``merge_key`` beside a ``destination_scope``, a merge
key with ``upsert``, a ``hard_delete`` column on an append table, ...), on
every load. Pure: the landers' declared schemas and dlt's own verification,
no connection.
"""

from __future__ import annotations

import copy
import logging

import pytest

from ingestion.raw_tables import lander_clients, lander_schemas
from ytempire.settings import Settings


def test_dlt_verifies_every_landers_tables_without_a_warning(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    verified = []
    with lander_clients(settings) as clients, caplog.at_level(logging.WARNING):
        logging.getLogger("dlt").addHandler(caplog.handler)  # dlt's logger may not propagate
        try:
            for dataset, client in clients:
                names = [t["name"] for t in client.schema.data_tables()]
                # what dlt's load step runs before it loads these tables
                verified += [f"{dataset}.{t['name']}" for t in client.verify_schema(names)]
        finally:
            logging.getLogger("dlt").removeHandler(caplog.handler)
    assert "raw_youtube_reporting.channel_basic" in verified
    assert "raw_youtube_analytics.video_days" in verified
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_a_merge_key_stored_by_an_earlier_version_is_cleared(settings: Settings) -> None:
    """Pipelines that loaded before the owner tables dropped ``merge_key`` stored it in their
    schema; dlt keeps a stored column hint until a load's hints say otherwise."""
    cleared = 0
    for _, schema, _ in lander_schemas(settings):
        for table in schema.data_tables():
            if "x-merge-destination-scope" not in table:
                continue
            current = copy.deepcopy(table)  # the schema updates its tables in place
            earlier = copy.deepcopy(table)
            key = [c for c, hint in earlier["columns"].items() if hint.get("merge_key") is False]
            for name in key:
                earlier["columns"][name]["merge_key"] = True
            schema.update_table(earlier)
            schema.update_table(current)  # the next load's hints
            name = str(current["name"])
            stored = schema.tables[name]["columns"]
            assert key, name
            assert [c for c, hint in stored.items() if hint.get("merge_key")] == [], key
            cleared += 1
    assert cleared == 8  # six Reporting API families, two Analytics API tables
