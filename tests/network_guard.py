"""Pytest plugin: a test not marked ``services`` opens no network connection.

The ``services`` marker says a test needs a running service (PostgreSQL,
Redis, Kafka, Spark, Airflow, Chromium, or a server on loopback such as the
YouTube simulator); ``pytest -m "not services"`` runs the rest with nothing
started. This plugin keeps the marker honest: while an unmarked test's
fixtures are set up, while it runs and while it is torn down, a TCP
``connect`` (IPv4 or IPv6) or a PostgreSQL connection (psycopg 3 and
psycopg2, whose libpq connects in C, below Python's ``socket``) from the
test's thread is refused with :class:`ServiceAccessError` and recorded, and
the test fails naming the address, even if the code under test caught the
error. Other threads (a client left over by an earlier test) pass through.
Teardown is not watched: it also finalizes the module- and session-scoped
fixtures of the ``services`` tests before it (the session's database).

Child processes (``ytempire`` run as a command) are beyond its reach: a test
that runs one against a service is marked explicitly, and
``pytest -m "not services"`` with the services' ports closed shows a missing
mark as a failure.
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg2  # dlt's PostgreSQL destination connects through it
import pytest

MARKER = "services"
_NETWORK_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class ServiceAccessError(ConnectionRefusedError):
    """A test not marked ``services`` tried to open a network connection."""


@contextmanager
def _refusing(item: pytest.Item) -> Iterator[None]:
    """Refuse and record the connections ``item``'s thread opens inside the block."""
    if item.get_closest_marker(MARKER) is not None:
        yield
        return
    thread = threading.get_ident()
    attempts: list[str] = []

    def refuse(target: str) -> ServiceAccessError:
        attempts.append(target)
        return ServiceAccessError(
            errno.ECONNREFUSED, f"{item.nodeid} is not marked `{MARKER}`: connection to {target}"
        )

    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> None:
        if sock.family in _NETWORK_FAMILIES and threading.get_ident() == thread:
            raise refuse(f"{address!r}")
        real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if sock.family in _NETWORK_FAMILIES and threading.get_ident() == thread:
            refuse(f"{address!r}")
            return errno.ECONNREFUSED
        return real_connect_ex(sock, address)

    def guarded(real: Callable[..., Any], what: str) -> Callable[..., Any]:
        def connect_pg(*args: Any, **kwargs: Any) -> Any:
            if threading.get_ident() == thread:
                raise refuse(f"PostgreSQL through {what}")
            return real(*args, **kwargs)

        return connect_pg

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        # `psycopg.connect` is `Connection.connect`, bound when psycopg was imported.
        patch.setattr(psycopg, "connect", guarded(psycopg.connect, "psycopg.connect"))
        for cls in (psycopg.Connection, psycopg.AsyncConnection):
            real = cls.connect.__func__  # type: ignore[attr-defined]
            patch.setattr(cls, "connect", classmethod(guarded(real, f"{cls.__name__}.connect")))
        patch.setattr(psycopg2, "connect", guarded(psycopg2.connect, "psycopg2.connect"))
        yield
    if attempts:
        pytest.fail(
            f"{item.nodeid} is not marked `{MARKER}` but connected to {', '.join(attempts)}. "
            f"Give it a service fixture or `@pytest.mark.{MARKER}` (see tests/conftest.py).",
            pytrace=False,
        )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    with _refusing(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    with _refusing(item):
        return (yield)
