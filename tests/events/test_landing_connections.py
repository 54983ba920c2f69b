"""The landing's load jobs hand their PostgreSQL sessions on, against a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2
import pytest
from dlt.common.schema import Schema

from ingestion.kafka_events.destination import LandingPostgres, LandingPostgresClient
from ingestion.kafka_events.landing import DATASET, land_events, make_pipeline
from simulation.traffic import simulated_events
from ytempire.clients import pg_connect

pytestmark = pytest.mark.services


@pytest.fixture
def landing(settings, tmp_path) -> LandingPostgres:
    """The landing's destination, as its pipeline holds it."""
    destination = make_pipeline(settings, tmp_path, tmp_path.name).destination
    assert isinstance(destination, LandingPostgres)
    return destination


def _client(landing: LandingPostgres) -> LandingPostgresClient:
    config = landing.spec()._bind_dataset_name(dataset_name=DATASET)
    return landing.client(Schema("kafka_events"), config)


@contextmanager
def _job_client(landing: LandingPostgres) -> Iterator[LandingPostgresClient]:
    """A client as dlt gives one to a load job: connected on entry, disconnected on exit."""
    client = _client(landing)
    with client:
        yield client


def _pid(client: LandingPostgresClient) -> int:
    rows = client.sql_client.execute_sql("select pg_backend_pid()")
    assert rows
    return int(rows[0][0])


def test_a_job_gets_the_session_the_last_one_gave_back_as_a_new_session(landing):
    with landing.reusing_connections():
        with _job_client(landing) as first:
            pid = _pid(first)
            first.sql_client.execute_sql("set work_mem = '1MB'")
            conn = first.sql_client.native_connection
        with _job_client(landing) as second:
            assert _pid(second) == pid
            work_mem = second.sql_client.execute_sql("show work_mem")
            search_path = second.sql_client.execute_sql("show search_path")
        assert not conn.closed  # kept for the next job
    assert conn.closed  # the way out closes what is kept
    assert work_mem != [("1MB",)]  # DISCARD ALL: nothing of the last job's settings
    assert search_path == [('"raw_events",public',)]  # the connect options stay


def test_a_handed_on_session_holds_no_table_lock_or_statement_of_the_last_job(landing):
    """Not only settings: psycopg2's reset is DISCARD ALL, not RESET ALL (which keeps these)."""
    with landing.reusing_connections():
        with _job_client(landing) as first:
            pid = _pid(first)
            first.sql_client.execute_sql("create temp table left_behind (x int)")
            first.sql_client.execute_sql("select pg_advisory_lock(2612)")
            first.sql_client.execute_sql("prepare left_behind as select 1")
        with _job_client(landing) as second:
            assert _pid(second) == pid
            held = second.sql_client.execute_sql(
                "select to_regclass('pg_temp.left_behind'), "
                "(select count(*) from pg_locks where locktype = 'advisory' "
                "and pid = pg_backend_pid()), "
                "(select count(*) from pg_prepared_statements)"
            )
    assert held == [(None, 0, 0)]


def test_a_session_left_in_a_transaction_is_not_handed_on(landing):
    with landing.reusing_connections():
        with _job_client(landing) as first:
            pid = _pid(first)
            conn = first.sql_client.native_connection
            conn.autocommit = False
            first.sql_client.execute_sql("select 1")  # opens a transaction nobody ends
        assert conn.closed
        with _job_client(landing) as second:
            assert _pid(second) != pid


def test_a_kept_session_the_server_ended_is_replaced(settings, landing):
    with landing.reusing_connections():
        with _job_client(landing) as first:
            pid = _pid(first)
        with pg_connect("loader", settings=settings, autocommit=True) as admin:
            admin.execute("select pg_terminate_backend(%s)", (pid,))
            while admin.execute("select 1 from pg_stat_activity where pid = %s", (pid,)).fetchone():
                admin.execute("select pg_sleep(0.05)")
        with _job_client(landing) as second:
            assert _pid(second) != pid


def test_outside_reusing_connections_a_job_closes_its_session(landing):
    with _job_client(landing) as first:
        pid = _pid(first)
        conn = first.sql_client.native_connection
    assert conn.closed
    with _job_client(landing) as second:
        assert _pid(second) != pid


def test_a_landing_of_many_loads_opens_fewer_sessions_than_loads(
    settings, new_topic, produce, loader, tmp_path, monkeypatch
):
    """Without reuse every load opens at least three (dlt's own client, the events job, the
    state job); with it, about as many as run at once in the first load."""
    topic, dlq = new_topic("events", partitions=2), new_topic("dlq")
    events = list(simulated_events(3_000, seed=2612))  # ids no other test lands
    produce(topic, [(key, value) for _, key, value, _ in events])
    connects = 0
    real_connect = psycopg2.connect

    def counting_connect(*args, **kwargs):
        nonlocal connects
        connects += 1
        return real_connect(*args, **kwargs)

    monkeypatch.setattr(psycopg2, "connect", counting_connect)

    summary = land_events(
        [topic],
        pipelines_dir=tmp_path,
        pipeline_name=tmp_path.name,
        chunk_size=600,
        page_size=300,
        dead_letter_topic=dlq,
        settings=settings,
    )

    assert summary.messages == 3_000
    landed = loader("select count(*) from raw_events.events where kafka_topic = %s", (topic,))
    assert landed[0][0] == 3_000
    assert summary.loads >= 5
    assert connects < summary.loads


@pytest.mark.parametrize("limit", [1, 2])
def test_at_most_limit_sessions_are_kept(landing, limit):
    with landing.reusing_connections(limit=limit):
        clients = [_client(landing) for _ in range(3)]
        for client in clients:
            client.sql_client.open_connection()
        conns = [client.sql_client.native_connection for client in clients]
        for client in clients:
            client.sql_client.close_connection()
        assert sum(not conn.closed for conn in conns) == limit
