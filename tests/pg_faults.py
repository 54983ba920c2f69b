"""Faults of a real PostgreSQL, made on purpose and observed, for the landers' tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ytempire.clients import pg_connect
from ytempire.settings import Settings


@contextmanager
def sessions_ended_while_they_wait_for_a_lock(settings: Settings) -> Iterator[list[int]]:
    """End every loader session of the database that waits for a lock, until the block ends.

    Yields the list of the ended sessions' pids. A session ends only once it is
    seen waiting (observed state, not a delay): what it waits for is held by
    the caller until after the block. Each end is what dlt sees when the server
    goes away mid-statement (a transient error it retries).
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

    watcher = threading.Thread(target=end_waiting, daemon=True)
    watcher.start()
    try:
        yield ended
    finally:
        done.set()
        watcher.join()
