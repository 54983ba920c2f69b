"""Apply the DDL in ``sql/``: the warehouse database, its schemas, roles and tables.

Every file in ``sql/`` is re-runnable, so ``ytempire db init`` can run on every
setup. Files run in name order, each in its own transaction, connected to the
warehouse database as the superuser. A cluster-wide advisory lock keeps two
concurrent inits (two setups, parallel test sessions) from racing on roles.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from psycopg import sql

from ytempire.clients import pg_connect
from ytempire.settings import PROJECT_ROOT, Settings, get_settings

SQL_DIR = PROJECT_ROOT / "sql"
_INIT_LOCK_KEY = 0x59544D50  # "YTMP"
_LOGIN_ROLES = ("loader", "transformer", "analyst")


def ddl_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """The DDL files in the order they are applied."""
    return sorted(sql_dir.glob("*.sql"))


@contextmanager
def cluster_lock(settings: Settings | None = None) -> Iterator[Any]:
    """Hold the lock ``init_database`` takes; yield an autocommit admin connection to ``postgres``.

    While it is held no init creates a database or changes privileges, so the
    cluster's databases and their ACLs stay as they are (privilege tests).
    """
    s = settings or get_settings()
    with pg_connect("admin", "postgres", autocommit=True, settings=s) as admin:
        admin.execute("select pg_advisory_lock(%s)", (_INIT_LOCK_KEY,))
        try:
            yield admin
        finally:
            admin.execute("select pg_advisory_unlock(%s)", (_INIT_LOCK_KEY,))


def init_database(
    database: str | None = None,
    *,
    settings: Settings | None = None,
    progress: Callable[[str], None] = lambda _msg: None,
) -> str:
    """Create ``database`` if missing and apply every DDL file to it; return its name."""
    s = settings or get_settings()
    dbname = database or s.pg_database
    with cluster_lock(s) as admin:
        exists = admin.execute("select 1 from pg_database where datname = %s", (dbname,)).fetchone()
        if not exists:
            admin.execute(sql.SQL("create database {}").format(sql.Identifier(dbname)))
            progress(f"created database {dbname}")
        with pg_connect("admin", dbname, settings=s) as conn:
            for path in ddl_files():
                conn.execute(path.read_text().encode())
                conn.commit()
                progress(f"applied {path.relative_to(PROJECT_ROOT)}")
            for role in _LOGIN_ROLES:
                creds = s.role(role)
                conn.execute(
                    sql.SQL("alter role {} password {}").format(
                        sql.Identifier(creds.user), sql.Literal(creds.password)
                    )
                )
            conn.commit()
            progress(f"set passwords of {', '.join(s.role(r).user for r in _LOGIN_ROLES)}")
    return dbname


def drop_database(database: str, *, settings: Settings | None = None) -> None:
    """Drop a test database (its name must end in ``_test``), disconnecting its sessions."""
    if not database.endswith("_test"):
        raise ValueError(f"refusing to drop {database!r}: only *_test databases are dropped")
    s = settings or get_settings()
    with pg_connect("admin", "postgres", autocommit=True, settings=s) as admin:
        admin.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(database))
        )
