"""A PostgreSQL cluster of a test's own, to restart or stop, never the shared one (helper).

``initdb`` in a temporary folder, a free loopback port, the Debian server
binaries under ``/usr/lib/postgresql/<version>/bin``; as root it runs them as
the ``postgres`` user, as ``scripts/services.sh`` does. :meth:`restart` is
``pg_ctl restart -m fast`` (every session is terminated, as in a real
restart), :meth:`stop` and :meth:`start` take it down and bring it back.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import replace
from pathlib import Path

from ytempire.settings import Settings

# pg_ctl's own wait (-w -t) for a start or stop; only a broken server reaches it.
PG_CTL_WAIT_S = 300


def server_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: p.parent)
    if not found:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ThrowawayPostgres:
    """One cluster: :meth:`create`, then :meth:`start`/:meth:`stop`/:meth:`restart`, then
    :meth:`destroy`."""

    def __init__(self, admin_user: str, admin_password: str) -> None:
        self.admin_user, self.admin_password = admin_user, admin_password
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="ytempire-pg-"))
        self.data, self.log = self.root / "data", self.root / "postgres.log"
        self.bin = server_bin()

    def _as_postgres(self, *argv: str) -> None:
        command = [str(a) for a in argv]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, text=True)

    def create(self) -> ThrowawayPostgres:
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.admin_password + "\n")
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            shutil.chown(pwfile, "postgres", "postgres")
        self._as_postgres(
            self.bin / "initdb",
            "-D",
            self.data,
            "-U",
            self.admin_user,
            f"--pwfile={pwfile}",
            "--auth-local=scram-sha-256",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )
        pwfile.unlink()
        return self

    def _ctl(self, action: str, *extra: str) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=100 -c shared_buffers=64MB"
        )
        self._as_postgres(
            self.bin / "pg_ctl",
            action,
            "-D",
            self.data,
            "-l",
            self.log,
            "-w",
            "-t",
            str(PG_CTL_WAIT_S),
            "-o",
            options,
            *extra,
        )

    def start(self) -> None:
        self._ctl("start")

    def restart(self) -> None:
        """Stop (fast: every session is terminated) and start again; returns once it is up."""
        self._ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._ctl("stop", "-m", "fast")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.root, ignore_errors=True)

    def settings(self, base: Settings, database: str) -> Settings:
        return replace(base, pg_host="127.0.0.1", pg_port=self.port, pg_database=database)

    def environment(self, database: str) -> dict[str, str]:
        """``YTEMPIRE_PG_*`` variables pointing a ``ytempire`` child process here."""
        return {"YTEMPIRE_PG_PORT": str(self.port), "YTEMPIRE_PG_DATABASE": database}
