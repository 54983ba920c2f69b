"""PostgreSQL through the project's factories: round trip, DDL, and role privileges."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import errors

from ytempire.clients import pg_connect
from ytempire.db import init_database
from ytempire.errors import YTEmpireError

pytestmark = pytest.mark.services

CHANNEL_ID = "UC" + "a" * 22


def test_loader_round_trip_through_operational_tables(settings):
    video_id = uuid.uuid4()
    with pg_connect("loader", settings=settings) as conn:
        conn.execute(
            "insert into ytempire.channels (channel_id, title) values (%s, 'Demo') "
            "on conflict do nothing",
            (CHANNEL_ID,),
        )
        conn.execute(
            "insert into ytempire.videos (video_id, channel_id, title, quality_score) "
            "values (%s, %s, %s, %s)",
            (video_id, CHANNEL_ID, "Ünïcode title ✓", 91.5),
        )
    with pg_connect("loader", settings=settings) as conn:
        row = conn.execute(
            "select title, quality_score, status from ytempire.videos where video_id = %s",
            (video_id,),
        ).fetchone()
    assert row == ("Ünïcode title ✓", pytest.approx(91.5), "processing")


def test_operational_checks_reject_bad_rows(settings):
    with pg_connect("loader", settings=settings) as conn, pytest.raises(errors.CheckViolation):
        conn.execute("insert into ytempire.channels (channel_id) values ('not-a-channel')")


def test_ddl_is_rerunnable(settings):
    # The session already applied it once; again must succeed and keep data.
    with pg_connect("loader", settings=settings) as conn:
        conn.execute(
            "insert into ytempire.channels (channel_id) values (%s) on conflict do nothing",
            ("UC" + "r" * 22,),
        )
    init_database(settings=settings)
    with pg_connect("loader", settings=settings) as conn:
        count = conn.execute(
            "select count(*) from ytempire.channels where channel_id = %s", ("UC" + "r" * 22,)
        ).fetchone()
    assert count == (1,)


@pytest.fixture
def raw_and_mart_tables(settings):
    """A loader-owned raw table and a transformer-owned mart, as dlt and dbt make them."""
    suffix = uuid.uuid4().hex[:8]
    raw, mart = f"raw_youtube.t_{suffix}", f"marts.t_{suffix}"
    with pg_connect("loader", settings=settings) as conn:
        conn.execute(f"create table {raw} (id int primary key, v text)")
        conn.execute(f"insert into {raw} values (1, 'raw')")
    with pg_connect("transformer", settings=settings) as conn:
        # The transformer reads raw data without an explicit grant (default privileges).
        conn.execute(f"create table {mart} as select id, v from {raw}")
    yield raw, mart
    with pg_connect("admin", settings=settings) as conn:
        conn.execute(f"drop table if exists {raw}, {mart}")


def test_analyst_reads_a_mart_only_once_dbt_grants_it(settings, raw_and_mart_tables):
    """The analyst surface is dbt's grants config: a new mart is not readable by default."""
    _, mart = raw_and_mart_tables
    with (
        pg_connect("analyst", settings=settings) as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute(f"select v from {mart}")
    with pg_connect("transformer", settings=settings) as conn:
        conn.execute(f"grant select on {mart} to analyst")  # what dbt's grants config runs
    with pg_connect("analyst", settings=settings) as conn:
        assert conn.execute(f"select v from {mart}").fetchall() == [("raw",)]


@pytest.mark.parametrize(
    "schema", ["raw_youtube", "raw_events", "ytempire", "analytics", "staging", "intermediate"]
)
def test_analyst_cannot_read_upstream_schemas(settings, schema):
    with (
        pg_connect("analyst", settings=settings) as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute(f"select count(*) from {schema}.any_table")


def test_analyst_cannot_read_raw_table(settings, raw_and_mart_tables):
    raw, _ = raw_and_mart_tables
    with (
        pg_connect("analyst", settings=settings) as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute(f"select * from {raw}")


@pytest.mark.parametrize(
    "statement",
    [
        "insert into {mart} values (2, 'x')",
        "update {mart} set v = 'x'",
        "delete from {mart}",
        "create table marts.analyst_made (id int)",
        "create table public.analyst_made (id int)",
        "create temporary table analyst_tmp (id int)",
        "create schema analyst_schema",
    ],
)
def test_analyst_cannot_write_anywhere(settings, raw_and_mart_tables, statement):
    _, mart = raw_and_mart_tables
    with (
        pg_connect("analyst", settings=settings) as conn,
        pytest.raises((errors.InsufficientPrivilege, errors.ReadOnlySqlTransaction)),
    ):
        conn.execute(statement.format(mart=mart))


def test_analyst_cannot_lift_read_only(settings, raw_and_mart_tables):
    # Turning the read-only default off still leaves no write privilege.
    _, mart = raw_and_mart_tables
    with pg_connect("analyst", autocommit=True, settings=settings) as conn:
        conn.execute("set default_transaction_read_only = off")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute(f"insert into {mart} values (3, 'x')")


def test_wrong_password_is_a_clear_error_not_a_trace(settings):
    from dataclasses import replace

    from ytempire.errors import YTEmpireError

    bad = replace(settings, pg_loader_password="wrong")
    with pytest.raises(YTEmpireError, match="refused role 'ytempire_loader'"):
        pg_connect("loader", settings=bad)


def test_unreachable_postgres_names_the_service(settings):
    from dataclasses import replace

    from ytempire.errors import ServiceUnavailable

    with pytest.raises(
        ServiceUnavailable, match=r"PostgreSQL is down or unreachable at 127\.0\.0\.1:1"
    ):
        pg_connect("loader", settings=replace(settings, pg_port=1))


def test_psycopg_is_version_3():
    assert psycopg.__version__.startswith("3.")


# Databases where ytempire_loader owns objects: the warehouses `ytempire db init` built.
_DATABASES = """
select d.datname, exists (
    select from pg_shdepend as dep
    where dep.dbid = d.oid and dep.deptype = 'o' and dep.refclassid = 'pg_authid'::regclass
        and dep.refobjid = 'ytempire_loader'::regrole
) as is_warehouse,
has_database_privilege('analyst', d.oid, 'CONNECT') as analyst_connect,
has_database_privilege('analyst', d.oid, 'TEMPORARY') as analyst_temp,
has_database_privilege('ytempire_loader', d.oid, 'CONNECT') as loader_connect,
has_database_privilege('ytempire_transformer', d.oid, 'TEMPORARY') as transformer_temp
from pg_database as d where d.datallowconn order by d.datname
"""


@pytest.fixture
def cluster(settings):
    """Every connectable database of the cluster, with the DDL's sweep freshly applied.

    Under the init lock: no database is created or half-initialised meanwhile
    (another session's init, perhaps of an older checkout, may have run since ours).
    """
    from ytempire.db import SQL_DIR, cluster_lock

    with cluster_lock(settings) as admin:
        with pg_connect("admin", settings=settings) as conn:
            conn.execute((SQL_DIR / "90_grants.sql").read_text().encode())
        yield admin.execute(_DATABASES).fetchall()


def test_the_cluster_holds_more_than_the_warehouse(cluster, settings):
    names = {row[0] for row in cluster}
    assert {"postgres", "template1", settings.pg_database} <= names


def test_analyst_connects_only_to_warehouses_and_makes_temp_tables_nowhere(cluster, settings):
    for datname, is_warehouse, connect, temp, _, _ in cluster:
        assert connect == is_warehouse, f"analyst CONNECT on {datname}: {connect}"
        assert not temp, f"analyst TEMPORARY on {datname}"
    refused = [name for name, is_warehouse, *_ in cluster if not is_warehouse]
    assert "postgres" in refused
    for datname in refused:
        with pytest.raises(YTEmpireError, match="permission denied for database"):
            pg_connect("analyst", datname, settings=settings).close()


def test_the_service_roles_keep_their_access(cluster, settings):
    for datname, _, _, _, loader_connect, transformer_temp in cluster:
        assert loader_connect, f"ytempire_loader lost CONNECT on {datname}"
        assert transformer_temp, f"ytempire_transformer lost TEMPORARY on {datname}"
    # dbt's incremental models build in temporary tables.
    with pg_connect("transformer", settings=settings) as conn:
        conn.execute("create temporary table dbt_tmp (id int)")
