"""Faults of a real PostgreSQL, made on purpose and observed, for the landers' tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from psycopg import sql

from ytempire.clients import pg_connect
from ytempire.settings import Settings


@contextmanager
def locked_ending_its_waiters(
    settings: Settings, table: str, mode: str = "access exclusive"
) -> Iterator[list[int]]:
    """Hold ``table`` locked in ``mode`` and end every loader session seen waiting for a lock.

    Both last until the block ends; yields the list of the ended sessions'
    pids. A session ends only once it is seen waiting (observed state, not a
    delay), which is what dlt sees when the server goes away mid-statement (a
    transient error it retries). ``exclusive`` lets reads go on and makes
    writes wait; ``access exclusive`` makes reads wait too.
    """
    ended: list[int] = []
    done = threading.Event()

    def end_waiting() -> None:
        with pg_connect("admin", autocommit=True, settings=settings) as admin:
            while not done.is_set():
                rows = admin.execute(
                    "select pid, pg_terminate_backend(pid) from pg_stat_activity "
                    "where datname = current_database() and usename = %s "
                    "and wait_event_type = 'Lock'",
                    (settings.loader.user,),
                ).fetchall()
                ended.extend(pid for pid, _ in rows)
                done.wait(0.05)

    if mode not in ("exclusive", "access exclusive"):
        raise ValueError(f"lock mode {mode!r}: 'exclusive' or 'access exclusive'")
    lock = sql.SQL(f"lock table {{}} in {mode} mode").format(sql.Identifier(*table.split(".")))
    with pg_connect("admin", settings=settings) as holder:
        holder.execute(lock)
        watcher = threading.Thread(target=end_waiting, daemon=True)
        watcher.start()
        try:
            yield ended
        finally:
            done.set()
            watcher.join()
            holder.rollback()
