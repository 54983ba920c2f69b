"""Shared fixtures: the real services, isolated per test session.

Tests never touch the warehouse database the demo fills: this module points
``YTEMPIRE_PG_DATABASE`` at ``<database>_test`` before any settings are read,
creates it from ``sql/`` once per session and drops it at the end (keep it
with ``YTEMPIRE_KEEP_TEST_DB=1``). Kafka tests create their own topics with
the ``new_topic`` factory, and Redis tests their own key prefix, so parallel
sessions against one set of services do not collide.

Nor do tests write into the demo's outputs: the daily report's pages
(``YTEMPIRE_REPORTS_DIR``), the Data Docs site (``YTEMPIRE_DATA_DOCS_DIR``)
and dbt's target (dbt's own ``DBT_TARGET_PATH``) go to a folder of the
session's own (:data:`OUTPUTS`), removed at the end (kept with
``YTEMPIRE_KEEP_TEST_OUTPUTS=1``). ``tests/reporting/test_output_isolation.py``
proves the demo's folders are left as they were.

Tests that need a service carry the ``services`` marker, so
``pytest -m "not services"`` runs the others with nothing started (the
database is built only once a ``services`` test runs). A test is marked here
when its fixtures reach a service (``SERVICE_FIXTURES``); a module that
reaches one another way (a ``ytempire`` child process, its own connection or
scenario database) says ``pytestmark = pytest.mark.services``. The plugin
``tests/network_guard.py`` fails an unmarked test that opens a connection.

A service that is down fails the session at once with the service named.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

_base_db = os.environ.get("YTEMPIRE_PG_DATABASE", "ytempire")
if not _base_db.endswith("_test"):
    os.environ["YTEMPIRE_PG_DATABASE"] = f"{_base_db}_test"

# This session's outputs, whatever the environment said (a demo's folders must stay as they are).
OUTPUTS = Path(tempfile.mkdtemp(prefix="ytempire-test-outputs-"))
os.environ["YTEMPIRE_REPORTS_DIR"] = str(OUTPUTS / "reports")
os.environ["YTEMPIRE_DATA_DOCS_DIR"] = str(OUTPUTS / "data_docs" / "gx")
os.environ["DBT_TARGET_PATH"] = str(OUTPUTS / "dbt_target")

from ytempire.clients import (  # noqa: E402  (the environment must be set first)
    kafka_admin,
    pg_connect,
    redis_client,
    spark_session,
)
from ytempire.db import drop_database, init_database  # noqa: E402
from ytempire.errors import YTEmpireError  # noqa: E402
from ytempire.settings import Settings, get_settings  # noqa: E402

pytest_plugins = ["pytester", "tests.network_guard"]

# The fixtures that reach a service: a test whose fixture closure (its fixtures
# and theirs) holds one of these is a `services` test.
SERVICE_FIXTURES = frozenset(
    {
        "test_database",  # PostgreSQL
        "pg_admin",  # PostgreSQL
        "loader",  # PostgreSQL, as the loader role (tests/events, tests/quality)
        "redis_prefix",  # Redis
        "new_topic",  # Kafka
        "produce",  # Kafka (tests/events)
        "read_topic",  # Kafka (tests/quality)
        "spark",  # a local Spark session (a JVM, reached over loopback)
        "simulator",  # the YouTube simulator serving on loopback (tests/youtube)
    }
)


def pytest_unconfigure(config: pytest.Config) -> None:
    if os.environ.get("YTEMPIRE_KEEP_TEST_OUTPUTS") != "1":
        shutil.rmtree(OUTPUTS, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SERVICE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.services)


@pytest.fixture(scope="session")
def settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
def test_database(settings: Settings) -> Iterator[str]:
    """A fresh warehouse database for the session, built by the project's own DDL.

    Built when the first ``services`` test runs (``_services_database``); a
    module- or session-scoped fixture that uses it asks for it by name, since
    it is set up before that test's function-scoped fixtures.
    """
    try:
        if not _keep():
            drop_database(settings.pg_database, settings=settings)
        name = init_database(settings=settings)
    except YTEmpireError as exc:
        pytest.exit(f"cannot prepare the test database: {exc}", returncode=3)
    yield name
    if not _keep():
        drop_database(name, settings=settings)


@pytest.fixture(autouse=True)
def _services_database(request: pytest.FixtureRequest) -> None:
    """Every ``services`` test runs with the session database built; pure tests never connect."""
    if request.node.get_closest_marker("services") is not None:
        request.getfixturevalue("test_database")


def _keep() -> bool:
    return os.environ.get("YTEMPIRE_KEEP_TEST_DB") == "1"


@contextmanager
def own_database(suffix: str) -> Iterator[Settings]:
    """A database of a scenario's own (``<base>_<suffix>_test``), built from ``sql/``.

    For tests that run dbt or whole pipelines: the landers' tests fill the
    session database's raw tables. The environment points at it while the
    scenario runs, since dbt's profile reads ``YTEMPIRE_PG_DATABASE``.
    """
    name = f"{get_settings().pg_database.removesuffix('_test')}_{suffix}_test"
    patch = pytest.MonkeyPatch()
    patch.setenv("YTEMPIRE_PG_DATABASE", name)
    get_settings.cache_clear()
    scenario = get_settings()
    drop_database(name, settings=scenario)
    init_database(settings=scenario)
    try:
        yield scenario
    finally:
        if not _keep():
            drop_database(name, settings=scenario)
        patch.undo()
        get_settings.cache_clear()


@pytest.fixture
def pg_admin(settings: Settings) -> Iterator[Any]:
    """An autocommit superuser connection to the test database."""
    with pg_connect("admin", autocommit=True, settings=settings) as conn:
        yield conn


@pytest.fixture
def redis_prefix(settings: Settings) -> Iterator[str]:
    """A key prefix unique to the test; its keys are deleted afterwards."""
    client = redis_client(check=True, settings=settings)
    prefix = f"test:{uuid.uuid4().hex[:12]}:"
    yield prefix
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)


@pytest.fixture
def new_topic(settings: Settings) -> Iterator[Callable[..., str]]:
    """Factory: create a uniquely named topic (deleted after the test)."""
    from kafka.admin import NewTopic

    admin = kafka_admin(settings=settings)
    created: list[str] = []

    def make(base: str = "test", partitions: int = 1) -> str:
        name = f"{base}-{uuid.uuid4().hex[:12]}"
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        admin.wait_for_topics([name])
        created.append(name)
        return name

    yield make
    if created:
        admin.delete_topics(created)
    admin.close()


@pytest.fixture(scope="session")
def spark(settings: Settings) -> Iterator[Any]:
    """One local SparkSession for the whole test session."""
    session = spark_session("ytempire-tests", settings=settings)
    yield session
    session.stop()
