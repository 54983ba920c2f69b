"""The landing's PostgreSQL destination: each page's file is COPYed straight into its table.

dlt's ``merge`` lands a table twice -- COPY into a staging table, then MERGE into
the target -- which was most of the landing's database time. The landing's
tables need neither: they are insert-only and every row carries unique keys of
its own (Kafka coordinates; ``event_id``). So a job of ``events`` or
``dead_letters`` COPYs its file into the target in one transaction, and the
keys are the replay guard:

* the normal case -- no row of the file is in the table yet -- is that one COPY,
  committed whole or not at all;
* a job replayed after it committed (dlt was killed between the commit and
  recording the job as done), or a file holding an event republished since an
  earlier load, makes the COPY fail on a unique key. It rolls back, and the job
  inserts just the missing rows (COPY into a logged staging table, then
  ``INSERT ... ON CONFLICT DO NOTHING``), in one transaction.

The keys must exist before the first COPY (the first load creates the table),
so each job checks the catalog for them and creates any that is missing.

A file (:func:`.pages.write_copy`) is a line of column names, then COPY's input:
binary tuples (events) or CSV lines (dead letters). dlt knows both as ``csv``.

Everything else -- the state table, ``_dlt_loads``, schema migrations -- is
dlt's own postgres destination, except that within
:meth:`LandingPostgres.reusing_connections` a job's connection is not closed
but handed on to the next job (:class:`IdleConnections`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import psycopg2.errors
import psycopg2.extensions
from dlt.common.destination.capabilities import DestinationCapabilitiesContext
from dlt.common.destination.client import (
    HasFollowupJobs,
    LoadJob,
    PreparedTableSchema,
    RunnableLoadJob,
)
from dlt.common.destination.exceptions import DestinationTerminalException
from dlt.common.schema import Schema
from dlt.common.schema.utils import is_nullable_column
from dlt.common.storages.load_storage import ParsedLoadJobFileName
from dlt.destinations import postgres
from dlt.destinations.impl.postgres.configuration import PostgresClientConfiguration
from dlt.destinations.impl.postgres.postgres import PostgresClient
from dlt.destinations.impl.postgres.sql_client import Psycopg2SqlClient

from ingestion.kafka_events.helpers import COPY_BINARY_HEADER

log = logging.getLogger(__name__)

COORDINATES = ("kafka_topic", "kafka_partition", "kafka_offset")
# table -> its unique keys (index name suffix -> columns); the names are those of
# databases landed by earlier releases, so their indexes are found, not duplicated
LANDING_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    "events": {"event_id_key": ("event_id",), "kafka_coordinates_key": COORDINATES},
    "dead_letters": {"kafka_coordinates_key": COORDINATES},
}
_COPY_BUFFER = 1024 * 1024
_BINARY_SIGNATURE = COPY_BINARY_HEADER[:11]


def ensure_unique_keys(sql: Psycopg2SqlClient, table: str) -> None:
    """Create the unique indexes of ``table`` that are missing (only a new table lacks them)."""
    wanted = {f"{table}_{name}": columns for name, columns in LANDING_KEYS[table].items()}
    rows = sql.execute_sql(
        "select indexname from pg_indexes where schemaname = %s and tablename = %s",
        sql.dataset_name,
        table,
    )
    missing = set(wanted) - {r[0] for r in rows or ()}
    if not missing:
        return
    target = sql.make_qualified_table_name(table)
    with sql.begin_transaction():
        # jobs of one load run in parallel: one of them creates, the others find
        sql.execute_sql("select pg_advisory_xact_lock(hashtext(%s))", target)
        for name in sorted(missing):
            columns = ", ".join(sql.escape_column_name(c) for c in wanted[name])
            sql.execute_sql(f"create unique index if not exists {name} on {target} ({columns})")


class GuardedCopyJob(RunnableLoadJob, HasFollowupJobs):
    """COPY a landing table's file into the table; on a key conflict, insert what is missing."""

    def __init__(self, file_path: str) -> None:
        super().__init__(file_path)
        self._job_client: LandingPostgresClient = None  # type: ignore[assignment]

    def run(self) -> None:
        try:
            self._copy()
        except psycopg2.DataError as exc:
            # a value PostgreSQL refuses fails the same way on every retry (dlt would call
            # it transient and retry for ever): terminal, so the package is aborted
            raise DestinationTerminalException(
                f"{self._file_name}: PostgreSQL refused a value: {exc}"
            ) from exc

    def _copy(self) -> None:
        sql = self._job_client.sql_client
        table = self.load_table_name
        ensure_unique_keys(sql, table)
        with open(self._file_path, "rb") as f:
            header = f.readline().decode().strip().split(",")
            body = f.tell()
            binary = f.read(len(_BINARY_SIGNATURE)) == _BINARY_SIGNATURE
            f.seek(body)
            columns, options = self._copy_clause(header, binary)
            try:
                with sql.begin_transaction(), sql.native_connection.cursor() as cursor:
                    cursor.copy_expert(
                        f"copy {sql.make_qualified_table_name(table)} ({columns}) "
                        f"from stdin with ({options})",
                        f,
                        size=_COPY_BUFFER,
                    )
                return
            except psycopg2.errors.UniqueViolation as conflict:
                log.info(
                    "%s: a row is already in the table (%s); inserting only the missing rows",
                    self._file_name,
                    conflict.diag.constraint_name,
                )
            f.seek(body)
            self._insert_missing(f, columns, options)

    def _copy_clause(self, header: list[str], binary: bool) -> tuple[str, str]:
        """The quoted column list of ``header`` and the COPY options: binary, or CSV where an
        empty field is NULL in the table's nullable columns (quoted or not)."""
        sql = self._job_client.sql_client
        schema = self._job_client.schema.get_table_columns(self.load_table_name)
        unknown = set(header) - set(schema)
        if unknown:
            raise ValueError(
                f"{self._file_name}: columns {sorted(unknown)} are not in table "
                f"{self.load_table_name}; the file was not written by this landing"
            )
        quoted = [sql.escape_column_name(name) for name in header]
        if binary:
            return ", ".join(quoted), "format binary"
        nullable = [
            q for name, q in zip(header, quoted, strict=True) if is_nullable_column(schema[name])
        ]
        force_null = f", force_null ({', '.join(nullable)})" if nullable else ""
        return ", ".join(quoted), f"format csv, null ''{force_null}"

    def _insert_missing(self, f: IO[bytes], columns: str, options: str) -> None:
        """Stage the file in its own logged table, then insert the rows no key already holds."""
        sql = self._job_client.sql_client
        table = self.load_table_name
        target = sql.make_qualified_table_name(table)
        with sql.with_staging_dataset():
            name = f"{table}_replay_{self._parsed_file_name.file_id}"
            staging = sql.make_qualified_table_name(name)
        with sql.begin_transaction(), sql.native_connection.cursor() as cursor:
            cursor.execute(f"drop table if exists {staging}")
            cursor.execute(f"create table {staging} (like {target})")
            cursor.copy_expert(
                f"copy {staging} ({columns}) from stdin with ({options})", f, size=_COPY_BUFFER
            )
            cursor.execute(
                f"insert into {target} ({columns}) select {columns} from {staging} "
                "on conflict do nothing"
            )
            inserted = cursor.rowcount
            cursor.execute(f"drop table {staging}")
        log.info("%s: inserted %d rows that were not in %s yet", self._file_name, inserted, target)


class IdleConnections:
    """Open connections that finished load jobs hand on to the next ones (thread-safe).

    dlt gives every load job a client of its own, which connects before the
    job and disconnects after it: one PostgreSQL session a file, about 60 for
    a million events in pages of 20,000. A session costs this machine ~11 ms
    of server CPU and ~4 ms of client CPU before its first statement (a forked
    backend, SCRAM authentication, catalog caches filled again), and the
    landing is CPU-bound: reusing them took a million events from 73 sessions
    to 12 and PostgreSQL's CPU from ~12.5 to ~10.5 us an event (the landing's
    rate, 3 alternated runs each: 70.8-81.9k -> 76.7-86.0k events/s).

    A connection is kept only when it is open and idle (no transaction, none
    failed), at most ``limit`` of them per session key (DSN and search path),
    and is reset before it is used again, which is also the check that it is
    still alive: psycopg2's ``reset`` sends ``DISCARD ALL`` (settings back to
    the connect options, temporary tables dropped, session advisory locks
    released, prepared statements and cursors gone). :meth:`close` closes the
    idle ones; a connection given back after that is closed.
    """

    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._idle: dict[tuple[str, str], list[psycopg2.extensions.connection]] = {}
        self._lock = threading.Lock()
        self._closed = False

    def take(self, key: tuple[str, str]) -> psycopg2.extensions.connection | None:
        with self._lock:
            idle = self._idle.get(key)
            return idle.pop() if idle else None

    def give(self, key: tuple[str, str], conn: psycopg2.extensions.connection) -> bool:
        """Keep ``conn`` for a later job; False if it was not kept (the caller closes it)."""
        if (
            conn.closed
            or conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE
        ):
            return False
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if self._closed or len(idle) >= self._limit:
                return False
            idle.append(conn)
            return True

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle = [conn for conns in self._idle.values() for conn in conns]
            self._idle.clear()
        for conn in idle:
            conn.close()


class LandingSqlClient(Psycopg2SqlClient):
    """dlt's psycopg2 client, taking and giving back connections of :class:`IdleConnections`."""

    idle: IdleConnections | None = None

    def _session_key(self) -> tuple[str, str]:
        # what open_connection connects with: the DSN and the search path option
        return self.credentials.to_native_representation(), self.fully_qualified_dataset_name()

    def open_connection(self) -> psycopg2.extensions.connection:
        while self.idle is not None and (conn := self.idle.take(self._session_key())):
            self._conn = conn
            try:
                self._reset_connection()  # a session as a new one starts it
                return conn
            except psycopg2.Error:  # gone (the server restarted): the next, or a new one
                conn.close()
                self._conn = None
        return super().open_connection()

    def close_connection(self) -> None:
        conn, idle = self._conn, self.idle
        if conn is not None and idle is not None and idle.give(self._session_key(), conn):
            self._conn = None
            return
        super().close_connection()


class LandingPostgresClient(PostgresClient):
    """dlt's postgres job client, with :class:`GuardedCopyJob` for the landing's tables."""

    def __init__(
        self,
        schema: Schema,
        config: PostgresClientConfiguration,
        capabilities: DestinationCapabilitiesContext,
    ) -> None:
        super().__init__(schema, config, capabilities)
        sql = self.sql_client
        self.sql_client = LandingSqlClient(
            sql.dataset_name, sql.staging_dataset_name, config.credentials, capabilities
        )

    def create_load_job(
        self, table: PreparedTableSchema, file_path: str, load_id: str, restore: bool = False
    ) -> LoadJob:
        parsed = ParsedLoadJobFileName.parse(file_path)
        if table["name"] in LANDING_KEYS and parsed.file_format == "csv":
            return GuardedCopyJob(file_path)
        return super().create_load_job(table, file_path, load_id, restore)


class LandingPostgres(postgres):
    """dlt's postgres destination whose landing tables load through :class:`GuardedCopyJob`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._idle: IdleConnections | None = None

    @property
    def client_class(self) -> type[PostgresClient]:
        return LandingPostgresClient

    def client(
        self, schema: Schema, initial_config: PostgresClientConfiguration | None = None
    ) -> LandingPostgresClient:
        client = super().client(schema, initial_config)  # type: ignore[arg-type]
        assert isinstance(client, LandingPostgresClient)
        assert isinstance(client.sql_client, LandingSqlClient)
        client.sql_client.idle = self._idle
        return client

    @contextmanager
    def reusing_connections(self, limit: int = 20) -> Iterator[None]:
        """Within, clients of this destination hand their connections on
        (:class:`IdleConnections`, at most ``limit`` idle); closed on the way out."""
        idle = self._idle = IdleConnections(limit)
        try:
            yield
        finally:
            self._idle = None
            idle.close()
