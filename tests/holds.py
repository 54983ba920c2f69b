"""Hold a process at a chosen write, so a test can kill it exactly there (helper).

A test that kills a process "after its first commit" and then asserts how far
it got must not race it: between the test seeing the commit and the kill, a
fast machine does more (the processor drained a 3,630-message backlog between
two 0.2 s polls). Here the process is stopped by the database instead: a
trigger on the table it writes makes the write that would go past the point
wait on an advisory lock the test owns, and the test kills the process once
``pg_locks`` shows that wait -- a state that holds, unchanged, however fast
the machine is. The waiting session is then ended with its transaction, so
nothing of the held write commits.

``when`` is a PL/pgSQL condition; ``hold_value()`` in it is the value the test
sets with :meth:`Hold.hold_from` (NULL: hold nothing). Row triggers may read
``NEW``; statement triggers (``level="statement"``) fire once per statement,
before any row of it is written.
"""

from __future__ import annotations

import contextlib
import random
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

from ytempire.clients import pg_connect
from ytempire.settings import Settings

HANG_S = 900.0  # only a process that stopped making progress fails on it


class Hold:
    """A trigger on ``table`` holding the writes for which ``when`` is true."""

    def __init__(self, settings: Settings, table: str, when: str, *, level: str = "row"):
        self.settings = settings
        self.table = table
        self.key = random.randrange(1, 2**31)  # advisory locks are cluster-wide: one per hold
        suffix = uuid.uuid4().hex[:10]
        self.control = f"public.test_hold_{suffix}"
        self.function = f"public.test_hold_{suffix}_fn"
        self.trigger = f"test_hold_{suffix}"
        row = level == "row"
        with self._admin() as conn:
            conn.execute(f"create table {self.control} (hold_value bigint)")
            conn.execute(f"insert into {self.control} values (null)")
            conn.execute(
                f"""
                create function {self.function}() returns trigger
                language plpgsql security definer as $$
                declare hold_value bigint := (select c.hold_value from {self.control} c);
                begin
                    if hold_value is not null and ({when.replace("hold_value()", "hold_value")})
                    then
                        perform pg_advisory_lock_shared({self.key});
                        perform pg_advisory_unlock_shared({self.key});
                    end if;
                    return {"new" if row else "null"};
                end $$
                """
            )
            conn.execute(
                f"create trigger {self.trigger} before insert or update on {table} "
                f"for each {'row' if row else 'statement'} execute function {self.function}()"
            )

    def _admin(self) -> Any:
        return pg_connect("admin", autocommit=True, settings=self.settings)

    def hold_from(self, value: int | None) -> None:
        with self._admin() as conn:
            conn.execute(f"update {self.control} set hold_value = %s", (value,))

    def waiting(self) -> list[int]:
        """Sessions waiting on this hold's lock now."""
        with self._admin() as conn:
            rows = conn.execute(
                "select pid from pg_locks where locktype = 'advisory' and not granted "
                "and classid = 0 and objid = %s",
                (self.key,),
            ).fetchall()
        return [r[0] for r in rows]

    @contextlib.contextmanager
    def closed(self) -> Iterator[None]:
        """While the block runs, a write matching ``when`` waits; after it, every waiting
        session is ended (its transaction rolled back) and the lock released."""
        with self._admin() as owner:
            owner.execute("select pg_advisory_lock(%s)", (self.key,))
            try:
                yield
            finally:
                for pid in self.waiting():
                    owner.execute("select pg_terminate_backend(%s)", (pid,))
                owner.execute("select pg_advisory_unlock(%s)", (self.key,))

    def wait_until_held(self, process: subprocess.Popen[Any], what: str) -> None:
        """Return once a session of ``process`` waits at the hold; fail if it exits first."""
        deadline = time.monotonic() + HANG_S
        while not self.waiting():
            code = process.poll()
            assert code is None, f"the process exited (rc {code}) before {what}"
            assert time.monotonic() < deadline, f"not {what} within {HANG_S:.0f} s: it hung"
            time.sleep(0.05)

    def remove(self) -> None:
        with self._admin() as conn:
            conn.execute(f"drop trigger if exists {self.trigger} on {self.table}")
            conn.execute(f"drop function if exists {self.function}()")
            conn.execute(f"drop table if exists {self.control}")


@contextlib.contextmanager
def hold(settings: Settings, table: str, when: str, *, level: str = "row") -> Iterator[Hold]:
    """A :class:`Hold` for the duration of the block."""
    installed = Hold(settings, table, when, level=level)
    try:
        yield installed
    finally:
        installed.remove()
