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
dlt's own postgres destination, unchanged.
"""

from __future__ import annotations

import logging
from typing import IO

import psycopg2.errors
from dlt.common.destination.client import (
    HasFollowupJobs,
    LoadJob,
    PreparedTableSchema,
    RunnableLoadJob,
)
from dlt.common.destination.exceptions import DestinationTerminalException
from dlt.common.schema.utils import is_nullable_column
from dlt.common.storages.load_storage import ParsedLoadJobFileName
from dlt.destinations import postgres
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


class LandingPostgresClient(PostgresClient):
    """dlt's postgres job client, with :class:`GuardedCopyJob` for the landing's tables."""

    def create_load_job(
        self, table: PreparedTableSchema, file_path: str, load_id: str, restore: bool = False
    ) -> LoadJob:
        parsed = ParsedLoadJobFileName.parse(file_path)
        if table["name"] in LANDING_KEYS and parsed.file_format == "csv":
            return GuardedCopyJob(file_path)
        return super().create_load_job(table, file_path, load_id, restore)


class LandingPostgres(postgres):
    """dlt's postgres destination whose landing tables load through :class:`GuardedCopyJob`."""

    @property
    def client_class(self) -> type[PostgresClient]:
        return LandingPostgresClient
