"""Seed the operational tables with the channels of the simulated network."""

from __future__ import annotations

from ytempire.clients import pg_connect
from ytempire.settings import Settings
from ytempire.simulation.ids import DEFAULT_SEED, channel_id
from ytempire.simulation.traffic import niche_of


def seed_channels(count: int, seed: int = DEFAULT_SEED, settings: Settings | None = None) -> int:
    """Insert the first ``count`` simulated channels if missing; return how many were new."""
    rows = [(channel_id(i, seed), f"Channel {i}", niche_of(i)) for i in range(count)]
    with pg_connect("loader", settings=settings) as conn, conn.cursor() as cur:
        cur.execute("create temporary table seed (channel_id text, title text, niche text)")
        with cur.copy("copy seed from stdin") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(
            "insert into ytempire.channels (channel_id, title, niche) "
            "select channel_id, title, niche from seed on conflict (channel_id) do nothing"
        )
        return cur.rowcount
