"""The network guard (``tests/network_guard.py``): unmarked tests that connect fail.

A session of its own, in a child process, runs tests that connect to a
listener of their own on loopback or to PostgreSQL: the unmarked ones fail
with the address named (even when they swallow the error), the one marked
``services`` connects, and a Unix socket pair stays allowed.
"""

from __future__ import annotations

import pytest

from ytempire.settings import PROJECT_ROOT

SESSION = """
import socket

import psycopg
import psycopg2
import pytest


@pytest.fixture
def listener():
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


@pytest.fixture
def connected(listener):
    socket.create_connection(("127.0.0.1", listener), timeout=10).close()


def test_unmarked_tcp(listener):
    try:
        socket.create_connection(("127.0.0.1", listener), timeout=10).close()
    except OSError:
        pass  # the code under test swallowed it: the verdict must not depend on that


@pytest.mark.parametrize("driver", [psycopg, psycopg2], ids=["pg3", "pg2"])
def test_unmarked_postgres(driver):
    try:
        driver.connect("host=127.0.0.1 port=1 connect_timeout=2")
    except Exception:
        pass


def test_unmarked_fixture(connected):
    pass


@pytest.mark.services
def test_marked(listener):
    socket.create_connection(("127.0.0.1", listener), timeout=10).close()


def test_unmarked_unix_socketpair():
    left, right = socket.socketpair()
    left.sendall(b"x")
    assert right.recv(1) == b"x"
    left.close()
    right.close()
"""


def test_unmarked_tests_that_connect_fail_and_marked_ones_connect(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(PROJECT_ROOT))
    pytester.makeini("[pytest]\nmarkers =\n    services: needs a running service\n")
    pytester.makepyfile(test_session=SESSION)
    result = pytester.runpytest_subprocess("-p", "tests.network_guard", "--strict-markers", "-rA")
    result.assert_outcomes(passed=2, failed=3, errors=1)
    result.stdout.fnmatch_lines_random(
        [
            "test_session.py::test_unmarked_tcp is not marked `services`"
            " but connected to ('127.0.0.1', *)*",
            "test_session.py::test_unmarked_postgres[[]pg3[]] is not marked `services`"
            " but connected to PostgreSQL through psycopg.connect*",
            "test_session.py::test_unmarked_postgres[[]pg2[]] is not marked `services`"
            " but connected to PostgreSQL through psycopg2.connect*",
            "E * test_session.py::test_unmarked_fixture is not marked `services`:"
            " connection to ('127.0.0.1', *)",
            "PASSED test_session.py::test_marked",
            "PASSED test_session.py::test_unmarked_unix_socketpair",
        ]
    )
