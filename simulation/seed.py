"""Register the simulated network's channels in the operational tables.

The platform's channel list (``ytempire.channels``) holds the same channels,
titles and niches that the YouTube simulator serves, so the warehouse's
channel dimension joins both sides.
"""

from __future__ import annotations

from simulation.network import Network
from ytempire.clients import pg_connect
from ytempire.settings import Settings


def seed_channels(network: Network, settings: Settings | None = None) -> int:
    """Upsert the network's channels (id, title, niche); return how many were new or changed."""
    rows = [(c.channel_id, c.title, c.niche) for c in network.channels]
    with pg_connect("loader", settings=settings) as conn, conn.cursor() as cur:
        cur.execute("create temporary table seed (channel_id text, title text, niche text)")
        with cur.copy("copy seed from stdin") as copy:
            for row in rows:
                copy.write_row(row)
        cur.execute(
            "insert into ytempire.channels as c (channel_id, title, niche) "
            "select channel_id, title, niche from seed on conflict (channel_id) do update "
            "set title = excluded.title, niche = excluded.niche, updated_at = now() "
            "where (c.title, c.niche) is distinct from (excluded.title, excluded.niche)"
        )
        return cur.rowcount
